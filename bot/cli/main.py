"""`tradebot` command line: parse the arguments, load the settings once, run one command.

Each command lives in the module for its concern (`corpus`: ingest, corpus; `lookup`:
search, who, people; `serve`: run, try, fake-slack; `digest`; `feeds`: feeds, fetch, add;
`db`: db upgrade, db check) and is given the parsed arguments and the settings, which `main` builds exactly once
(`--corpus` and `--seeds` override `TRADEBOT_CORPUS` and `TRADEBOT_SEEDS`).

Exit codes, the same for every command:

    0    done
    1    the work ran and failed: no capture could be ingested, every feed failed,
         a digest was not posted, the app stopped on an OS error, the database cannot
         be reached or is not at this tradebot's schema (`db check`)
    2    the request cannot be carried out as given: bad arguments (argparse), a missing
         or malformed setting (the line names the variable), a corpus, seeds or queries
         file that is not there, a URL or feed that is refused, no digest channel
    130  interrupted (Ctrl-C)

Every error is one `error: …` line on stderr, never a traceback for these cases.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from bot.cli.errors import CliError, Exit
from bot.cli.parser import COMMANDS, build_parser
from bot.corpus import CorpusUnavailable
from bot.settings import SettingsError, isolated_settings, load_settings

__all__ = ["COMMANDS", "build_parser", "main"]

OVERRIDES = {"corpus": "corpus_dir", "seeds": "seeds_dir"}  # option -> the setting it stands in for


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    command = COMMANDS[args.command]
    try:
        try:
            overrides = {field: value for option, field in OVERRIDES.items()
                         if (value := getattr(args, option, None))}
            settings = load_settings(**overrides) if command.reads_settings else isolated_settings()
            return command.run(args, settings)
        except (SettingsError, CorpusUnavailable) as exc:
            raise CliError(str(exc)) from None
    except CliError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return Exit.INTERRUPTED
