"""Parsing the command line and running the chosen command (see `hyperlax.cli`)."""

from __future__ import annotations

import dataclasses
import logging
import sys
from typing import Sequence

import tyro
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from hyperlax.cli.report import COMMANDS, run_command
from hyperlax.cli.sample import SweepHpSamples, sweep_hp_samples
from hyperlax.cli.sweep_file import SweepFromFile, run_sweep_command
from hyperlax.errors import UserError

TRUE_WORDS, FALSE_WORDS = ("true", "yes", "1"), ("false", "no", "0")
BOOL_FLAGS = tuple(f"--{f.name.replace('_', '-')}" for f in dataclasses.fields(SweepHpSamples) if "bool" in str(f.type))


def normalize_bool_flags(argv: Sequence[str]) -> list[str]:
    """Let boolean flags be written bare (--sequential) or with a value (--sequential "False")."""
    out: list[str] = []
    for i, token in enumerate(argv):
        if i and argv[i - 1] in BOOL_FLAGS and token.lower() in TRUE_WORDS + FALSE_WORDS:
            out.append("True" if token.lower() in TRUE_WORDS else "False")
            continue
        flag, eq, value = token.partition("=")
        if flag in BOOL_FLAGS and eq:
            if value.lower() not in TRUE_WORDS + FALSE_WORDS:
                raise UserError(f"{flag} takes True or False, got {value!r}")
            out += [flag, "True" if value.lower() in TRUE_WORDS else "False"]
            continue
        out.append(token)
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if token in BOOL_FLAGS and (nxt is None or nxt.lower() not in TRUE_WORDS + FALSE_WORDS):
            out.append("True")
    return out


def run(argv: Sequence[str] | None = None) -> int:
    """Run a command; exit code 0 when done, 2 for a user error (message, no traceback), 130 on Ctrl-C."""
    console = Console(stderr=True)
    try:
        argv = normalize_bool_flags(list(sys.argv[1:] if argv is None else argv))
        args = tyro.extras.subcommand_cli_from_dict(
            {"sweep-hp-samples": SweepHpSamples, "sweep": SweepFromFile, **COMMANDS}, args=argv, prog="python -m hyperlax.cli"
        )
        logging.basicConfig(
            level=args.log_level, format="%(message)s", handlers=[RichHandler(console=console, show_path=False)]
        )
        if isinstance(args, SweepFromFile):
            run_sweep_command(args, console)
        elif isinstance(args, tuple(COMMANDS.values())):
            run_command(args, console)
        else:
            sweep_hp_samples(args, console)
    except (UserError, ValueError) as err:
        console.print("[bold red]error:[/]", escape(str(err)), highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
