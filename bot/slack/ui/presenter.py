"""`SlackAnswers`: the answerer's typed answers as Slack payloads, for the listeners.

The same methods as `bot.answers.answerer.Answerer`, each rendering its answer
with the one renderer for its surface (message, modal, Home).
"""

from __future__ import annotations

from bot.answers import channel_notices, compose
from bot.answers.answerer import Answerer
from bot.answers.commands import AddPage, Command
from bot.slack.ui.blocks import Message, render_message
from bot.slack.ui.views import article_modal, home_view


class SlackAnswers:
    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer

    def answer_text(self, text: str, *, user: str, channel: str | None, team: str = "") -> Message:
        return render_message(self.answerer.answer_text(text, user=user, channel=channel, team=team))

    def answer(self, command: Command, *, user: str, channel: str | None, team: str = "",
               shared_by: str | None = None) -> Message:
        return render_message(self.answerer.answer(command, user=user, channel=channel, team=team,
                                                   shared_by=shared_by))

    async def add_page(self, command: AddPage, *, user: str) -> Message:
        """`/trade add` and the shortcut: awaited on the event loop (the fetch is network work)."""
        return render_message(await self.answerer.add_page(command, user=user))

    def no_link(self) -> Message:
        return render_message(channel_notices.no_link())

    def expired(self) -> Message:
        return render_message(self.answerer.expired())

    def more(self, key: str, team: str = "") -> Message:
        return render_message(self.answerer.more(key, team))

    def share(self, key: str, user: str, team: str = "") -> Message:
        return render_message(self.answerer.share(key, user, team))

    def pick(self, value: str, user: str, team: str = "") -> Message:
        return render_message(self.answerer.pick(value, user, team))

    def article_view(self, article_id: str, page: int = 0) -> dict | None:
        pages = self.answerer.article_pages(article_id, page)
        return article_modal(pages) if pages else None

    def page_view(self, value: str) -> dict | None:
        """A modal page button's value (`id|N`); None when it does not parse or the article is gone."""
        pages = self.answerer.article_page_value(value)
        return article_modal(pages) if pages else None

    def share_failed(self, error: str) -> Message:
        """The apology when a shared post failed with Slack error `error`."""
        return render_message(channel_notices.share_failed(error))

    def error(self, error_id: str) -> Message:
        return render_message(compose.error(error_id))

    def article_missing(self, article_id: str) -> Message:
        return render_message(self.answerer.article_missing(article_id))

    def home(self) -> dict:
        return home_view(self.answerer.home())
