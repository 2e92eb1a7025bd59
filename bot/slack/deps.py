"""What every listener needs, built once at start-up and passed in."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.tasks import BackgroundTasks
from bot.slack.ui.presenter import SlackAnswers


@dataclass
class Deps:
    answerer: SlackAnswers
    tasks: BackgroundTasks
