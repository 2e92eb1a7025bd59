"""What every listener needs, built once at start-up and passed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.slack.payloads import team_of
from bot.slack.tasks import BackgroundTasks
from bot.slack.ui.presenter import SlackAnswers
from bot.slack.workspaces import InstalledWorkspaces


@dataclass
class Deps:
    answerer: SlackAnswers
    tasks: BackgroundTasks
    many_workspaces: bool = False  # the install flow: state is kept per workspace
    installed: InstalledWorkspaces | None = None  # the install flow's workspaces (uninstalls remove them)

    def team(self, body: Any) -> str:
        """The key state is kept under: the payload's workspace, or "" for `SLACK_BOT_TOKEN`'s one."""
        return team_of(body) if self.many_workspaces else ""
