"""What every listener needs, built once at start-up and passed in."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.answerer import Answerer
from bot.slack.tasks import BackgroundTasks


@dataclass
class Deps:
    answerer: Answerer
    tasks: BackgroundTasks
