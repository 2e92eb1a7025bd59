"""What every listener needs, built once at start-up and passed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.slack.payloads import team_id
from bot.slack.tasks import BackgroundTasks
from bot.slack.ui.presenter import SlackAnswers
from bot.slack.workspaces import InstalledWorkspaces


@dataclass
class Deps:
    answerer: SlackAnswers
    tasks: BackgroundTasks
    many_workspaces: bool = False  # the install flow: state is kept per workspace
    installed: InstalledWorkspaces | None = None  # the install flow's workspaces (uninstalls remove them)

    def team(self, context: Any) -> str:
        """The key state is kept under: the workspace bolt authorized the request for, or "" for
        `SLACK_BOT_TOKEN`'s one."""
        return authorized_team(context) if self.many_workspaces else ""


def authorized_team(context: Any) -> str:
    """The workspace whose installation (and token) bolt used for this request. Not one of the
    body's own fields: the signature is the app's, so a body can carry a `team_id`, a `team.id`
    and `authorizations` that disagree (a Slack Connect channel's events name the other side's
    workspace in `team_id`); bolt picks one to authorize with, and state must follow that one."""
    result = context.get("authorize_result")
    return team_id(getattr(result, "team_id", None)) or team_id(context.get("team_id"))
