"""Who is who in the corpus (no Slack imports)."""

from bot.people.directory import PeopleDirectory, Person, PersonArticle, PersonMatch, build_directory

__all__ = ["PeopleDirectory", "Person", "PersonArticle", "PersonMatch", "build_directory"]
