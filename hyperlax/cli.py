"""Command line (tyro): `python -m hyperlax.cli sweep-hp-samples ...`, `... sweep --config FILE`, and
`report` / `rerun` / `export SWEEP_DIR` (hyperlax.report.commands).

Options left unset take the defaults below for a new sweep, and the sweep's own recorded values
with --resume-from; an explicit value that changes the samples or the batching of a resumed
sweep is refused.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from typing import Annotated, Any, Literal, Sequence

import tyro
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from hyperlax.api import RunOptions, launch, resolve_options, sweep_root
from hyperlax.errors import SweepError, UserError
from hyperlax.recipes import load_recipe
from hyperlax.report.commands import COMMANDS, run_command
from hyperlax.run.loop import Settings
from hyperlax.space import SAMPLING_METHODS, draw_samples
from hyperlax.sweep_command import SweepFromFile, apply_set_overrides, run_sweep_command

TRUE_WORDS, FALSE_WORDS = ("true", "yes", "1"), ("false", "no", "0")


@dataclasses.dataclass
class SweepHpSamples(RunOptions):
    """Sample hyperparameters from a recipe's search space and train them in batches."""

    algo_and_network_config: str | None = None
    """Algorithm recipe: a name from configs/algo (e.g. ppo_mlp) or a path to a recipe .py file."""
    env_config: str | None = None
    """Environment recipe: a name from configs/env (e.g. gymnax.pendulum) or a path to a .py file."""
    num_samples: int | None = None
    """How many configurations to draw (default 16)."""
    sampling_method: Literal["qmc_sobol", "random", "saltelli"] | None = None
    """Scrambled Sobol (default), independent random draws, or SALib's Saltelli design for Sobol
    sensitivity indices (--num-samples is its base count N: N * (D + 2) runs for D sampled keys);
    all seeded by --seed."""
    set: Annotated[tuple[str, ...], tyro.conf.UseAppendAction] = ()
    """KEY=VALUE-STRING, repeatable: a scalar fixes KEY; a list, range or draw samples KEY from its values."""


DEFAULTS = {**dataclasses.asdict(Settings()), "num_samples": 16, "sampling_method": "qmc_sobol", "set": []}
# Options whose value is recorded in sweep.json and reused on resume.
RECORDED = ("algo_and_network_config", "env_config", *DEFAULTS)
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


def sweep_hp_samples(args: SweepHpSamples, console: Console) -> dict[str, Any]:
    """Run (or resume) a sampled sweep; returns the summary."""
    given = {name: getattr(args, name) for name in RECORDED}
    given["set"] = list(args.set) or None  # unset: the recorded value on resume
    resolved, stored = resolve_options(given, args.resume_from, DEFAULTS)
    missing = [f"--{n.replace('_', '-')}" for n in ("algo_and_network_config", "env_config") if resolved[n] is None]
    if missing:
        raise SweepError(f"{' and '.join(missing)} required for a new sweep (or give --resume-from)")
    if resolved["num_samples"] < 1:
        raise ValueError(f"--num-samples must be at least 1, got {resolved['num_samples']}")
    if resolved["sampling_method"] not in SAMPLING_METHODS:
        raise ValueError(f"--sampling-method {resolved['sampling_method']!r} is not one of {', '.join(SAMPLING_METHODS)}")
    recipe = load_recipe(resolved["algo_and_network_config"], resolved["env_config"])
    recipe = apply_set_overrides(recipe, resolved["set"] or [], resolved["seed"])
    samples = draw_samples(recipe.distributions, resolved["num_samples"], resolved["sampling_method"], resolved["seed"])
    settings = Settings(**{f.name: resolved[f.name] for f in dataclasses.fields(Settings)})
    source = {"kind": "sampled", "num_samples": resolved["num_samples"], "sampling_method": resolved["sampling_method"]}
    root = sweep_root(args.resume_from, args.output_root, recipe)
    return launch(recipe, samples, settings, source, resolved, root, stored, console)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; exit code 0 when done, 2 for a user error (message, no traceback), 130 on Ctrl-C."""
    console = Console(stderr=True)
    try:
        argv = normalize_bool_flags(list(sys.argv[1:] if argv is None else argv))
        args = tyro.extras.subcommand_cli_from_dict(
            {"sweep-hp-samples": SweepHpSamples, "sweep": SweepFromFile, **COMMANDS}, args=argv
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


if __name__ == "__main__":
    sys.exit(main())
