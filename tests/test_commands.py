"""Parsing `/trade` text into typed commands."""

from __future__ import annotations

import pytest

from bot.answers.commands import (
    DigestStatus,
    Help,
    Latest,
    Search,
    Sources,
    Unwatch,
    Watch,
    Watching,
    Who,
    parse_command,
)


@pytest.mark.parametrize("text, expected", [
    ("", Help()), ("   ", Help()), ("help", Help()), ("tariffs china", Search("tariffs china")),
    ("who greer", Who("greer")), ("hwo greer", Who("greer")), ("WHO He Lifeng", Who("He Lifeng")),
    ("latest", Latest(5)), ("latest 3", Latest(3)), ("lates 3", Latest(3)), ("latset", Latest(5)), ("latest 999", Latest(20)), ("sources", Sources()),
    ("watch rare earths", Watch("rare earths")), ("unwatch rare earths", Unwatch("rare earths")),
    ("watching", Watching()), ("digest status", DigestStatus()), ("tarifs", Search("tarifs")),
    ("whom", Search("whom")), ("&lt;!here&gt; tariffs", Search("<!here> tariffs")),
    ("who\u202e greer\u0000", Who("greer")),
])
def test_parse(text: str, expected: object) -> None:
    assert parse_command(text) == expected


def test_who_without_a_name_explains() -> None:
    command = parse_command("who")
    assert isinstance(command, Help) and command.note and "who greer" in command.note


def test_huge_text_is_capped() -> None:
    command = parse_command("tariffs " * 10_000)
    assert isinstance(command, Search) and len(command.query) <= 4000


def test_text_is_decoded_exactly_once_and_only_slacks_three_entities() -> None:
    assert parse_command("&amp;lt;!here&amp;gt;") == Search("&lt;!here&gt;")  # typed `&lt;!here&gt;`
    assert parse_command("tariffs &quot;x&quot; &#60;") == Search("tariffs &quot;x&quot; &#60;")
    assert parse_command("who &lt;!channel&gt;") == Who("<!channel>")


def test_a_cut_query_remembers_how_long_it_was() -> None:
    command = parse_command("tariffs " * 5000)
    assert isinstance(command, Search) and command.typed_chars == len(("tariffs " * 5000).strip())
    assert parse_command("tariffs").typed_chars is None

