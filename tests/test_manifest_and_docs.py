"""The manifest is a valid app manifest for what the code does, and every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.cli.main import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_manifest_declares_what_the_app_uses() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert manifest["display_information"]["name"]
    assert manifest["features"]["bot_user"]["display_name"]
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/trade" and command["usage_hint"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "chat:write.public", "app_mentions:read", "im:history",
            "channels:history", "channels:join"} <= scopes
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention", "message.im", "app_home_opened", "app_uninstalled", "tokens_revoked"}
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_the_install_flow_asks_for_the_manifests_scopes_and_comes_back_to_our_route() -> None:
    """One list of bot scopes: the install flow's (code) is the manifest's (what the fake grants)."""
    from bot.slack.installations import BOT_SCOPES
    from bot.slack.oauth import REDIRECT_PATH

    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])
    [redirect] = manifest["oauth_config"]["redirect_urls"]
    assert redirect.startswith("https://") and redirect.endswith(REDIRECT_PATH)


def test_every_cli_command_is_documented_in_readme() -> None:
    parser_commands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert parser_commands == set(COMMANDS)
    for name in parser_commands:
        assert f"tradebot {name}" in README, name


def test_every_setting_is_documented_in_readme() -> None:
    from bot.settings import Settings

    for field in Settings.model_fields.values():
        assert f"`{field.alias}`" in README, field.alias


def test_readme_opens_with_the_two_quick_start_commands() -> None:
    quick = README.split("## ", 2)[1]
    commands = re.findall(r"^(python3 -m venv .*)$", quick, flags=re.MULTILINE)
    assert len(commands) == 2
    assert "tradebot try" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci


def test_every_slash_subcommand_is_documented_in_readme() -> None:
    """The help is built from the subcommand table; README's table must not fall behind it."""
    from bot.answers.commands import SUBCOMMANDS

    for sub in SUBCOMMANDS:
        assert f"`/trade {sub.word}" in README, sub.word
