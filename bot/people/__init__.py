"""Who is who in the corpus (no Slack imports)."""

from bot.people.directory import (
    Evidence,
    PeopleDirectory,
    Person,
    PersonArticle,
    PersonMatch,
    build_directory,
    collect_evidence,
)

__all__ = ["Evidence", "PeopleDirectory", "Person", "PersonArticle", "PersonMatch", "build_directory",
           "collect_evidence"]
