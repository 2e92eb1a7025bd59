"""Who is who in the corpus (no Slack imports): `extract` finds people in text, `build` turns what
each article says into the `directory`, and `names` indexes their names for lookup."""

from bot.people.build import PeopleCache, Stamp, build_directory, directory_from
from bot.people.directory import PeopleDirectory, Person, PersonArticle, PersonMatch

__all__ = ["PeopleCache", "PeopleDirectory", "Person", "PersonArticle", "PersonMatch", "Stamp", "build_directory",
           "directory_from"]
