"""Command line: `python -m hyperlax.cli sweep-hp-samples ...` (tyro).

Options left unset take the defaults below for a new sweep, and the sweep's own recorded values
with --resume-from; an explicit value that changes the samples or the batching of a resumed
sweep is refused.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path
from typing import Any, Literal, Sequence

import tyro
from rich.console import Console
from rich.logging import RichHandler

from hyperlax import store
from hyperlax.recipes import RecipeError, load_recipe
from hyperlax.run.sweep import Settings, SweepError, execute, prepare, start, summary_table
from hyperlax.space import SAMPLING_METHODS, draw_samples

TRUE_WORDS, FALSE_WORDS = ("true", "yes", "1"), ("false", "no", "0")


@dataclasses.dataclass
class SweepHpSamples:
    """Sample hyperparameters from a recipe's search space and train them in batches."""

    algo_and_network_config: str | None = None
    """Algorithm recipe: a name from configs/algo (e.g. ppo_mlp) or a path to a recipe .py file."""
    env_config: str | None = None
    """Environment recipe: a name from configs/env (e.g. gymnax.pendulum) or a path to a .py file."""
    num_samples: int | None = None
    """How many configurations to draw (default 16)."""
    hparam_batch_size: int | None = None
    """Most configurations trained at once in one compiled function (default 16)."""
    sampling_method: Literal["qmc_sobol", "random"] | None = None
    """Scrambled Sobol (default) or independent random draws, both seeded by --seed."""
    sequential: bool | None = None
    """Run one configuration at a time (run_XXXX directories). Default False."""
    group_by_structural_hparams: bool | None = None
    """Group samples with equal structural values before slicing batches. Default False."""
    output_root: str = "sweeps"
    """Sweeps land in <output-root>/<algo>/<env>/."""
    resume_from: str | None = None
    """An existing <output-root>/<algo>/<env>/ directory: finish its unfinished batches."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    seed: int | None = None
    """Seeds the sampler and every training run (default 0)."""
    num_seeds: int | None = None
    """Training seeds per configuration (default 1)."""
    num_evaluations: int | None = None
    """Evaluation milestones per run, evenly spaced in env steps (default: the recipe's)."""
    total_timesteps: int | None = None
    """Env steps per run (default: the recipe's budget)."""


DEFAULTS = {
    "num_samples": 16,
    "hparam_batch_size": 16,
    "sampling_method": "qmc_sobol",
    "sequential": False,
    "group_by_structural_hparams": False,
    "seed": 0,
    "num_seeds": 1,
}
# Options whose value is recorded in sweep.json and reused on resume.
RECORDED = ("algo_and_network_config", "env_config", *DEFAULTS, "num_evaluations", "total_timesteps")
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
                raise SystemExit(f"error: {flag} takes True or False, got {value!r}")
            out += [flag, "True" if value.lower() in TRUE_WORDS else "False"]
            continue
        out.append(token)
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if token in BOOL_FLAGS and (nxt is None or nxt.lower() not in TRUE_WORDS + FALSE_WORDS):
            out.append("True")
    return out


def resolve(args: SweepHpSamples) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The effective recorded options, and the stored ones when resuming."""
    given = {name: getattr(args, name) for name in RECORDED}
    stored = None
    if args.resume_from:
        record = Path(args.resume_from).expanduser() / "sweep.json"
        if not record.is_file():
            raise SweepError(f"--resume-from {args.resume_from}: no sweep.json there; is it an <output-root>/<algo>/<env>/ directory?")
        stored = store.read_json(record)["arguments"]
        resolved = {name: stored.get(name) if value is None else value for name, value in given.items()}
    else:
        resolved = {name: DEFAULTS.get(name) if value is None else value for name, value in given.items()}
        missing = [f"--{n.replace('_', '-')}" for n in ("algo_and_network_config", "env_config") if resolved[n] is None]
        if missing:
            raise SweepError(f"{' and '.join(missing)} required for a new sweep (or give --resume-from)")
    return resolved, stored


def sweep_hp_samples(args: SweepHpSamples, console: Console) -> dict[str, Any]:
    """Run (or resume) a sampled sweep; returns the summary."""
    resolved, stored = resolve(args)
    if resolved["num_samples"] < 1:
        raise ValueError(f"--num-samples must be at least 1, got {resolved['num_samples']}")
    if resolved["sampling_method"] not in SAMPLING_METHODS:
        raise ValueError(f"--sampling-method {resolved['sampling_method']!r} is not one of {', '.join(SAMPLING_METHODS)}")
    recipe = load_recipe(resolved["algo_and_network_config"], resolved["env_config"])
    samples = draw_samples(recipe.distributions, resolved["num_samples"], resolved["sampling_method"], resolved["seed"])
    settings = Settings(**{f.name: resolved[f.name] for f in dataclasses.fields(Settings)})
    source = {"kind": "sampled", "num_samples": resolved["num_samples"], "sampling_method": resolved["sampling_method"]}
    prepared = prepare(recipe, samples, settings, source)
    if stored is not None:
        root = Path(args.resume_from).expanduser()
        changed = {k: (stored.get(k), v) for k, v in resolved.items() if stored.get(k) != v}
        try:
            start(root, prepared, resolved, resume=True)
        except SweepError as err:
            detail = "; ".join(f"--{k.replace('_', '-')}: sweep has {a!r}, asked {b!r}" for k, (a, b) in changed.items())
            raise SweepError(f"{err}{' Differences: ' + detail if detail else ' (the recipe files changed)'}") from None
    else:
        root = store.sweep_dir(args.output_root, recipe.algo_name, recipe.env_name)
        start(root, prepared, resolved, resume=False)
    logging.getLogger("hyperlax").info(
        "%s: %d samples in %d batches -> %s", recipe.algo_name, len(samples), len(prepared.plan), root
    )
    summary = execute(root, prepared, console)
    console.print(summary_table(summary))
    console.print(
        f"{summary['num_finished_samples']} samples finished in {summary['wall_s']:.1f}s "
        f"({summary['compile_count']} compilations, {summary['compile_s']:.1f}s compiling). "
        f"Results: {root / 'results.csv'}"
    )
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    argv = normalize_bool_flags(list(sys.argv[1:] if argv is None else argv))
    args = tyro.extras.subcommand_cli_from_dict({"sweep-hp-samples": SweepHpSamples}, args=argv)
    console = Console(stderr=True)
    logging.basicConfig(
        level=args.log_level, format="%(message)s", handlers=[RichHandler(console=console, show_path=False)]
    )
    try:
        sweep_hp_samples(args, console)
    except (RecipeError, SweepError, ValueError) as err:
        console.print(f"[bold red]error:[/] {err}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
