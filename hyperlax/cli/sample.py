"""`python -m hyperlax.cli sweep-hp-samples`: draw samples from a recipe's search space and train them.

Options left unset take the defaults below for a new sweep, and the sweep's own recorded values
with --resume-from; an explicit value that changes the samples or the batching of a resumed
sweep is refused.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

import tyro
from rich.console import Console

from hyperlax.api import RunOptions, launch, resolve_options, sweep_root
from hyperlax.cli.sweep_file import apply_set_overrides
from hyperlax.errors import SweepError
from hyperlax.recipes import load_recipe
from hyperlax.run.loop import Settings
from hyperlax.run.search import LEARNING_METHODS
from hyperlax.space import SAMPLING_METHODS, draw_samples


@dataclasses.dataclass
class SweepHpSamples(RunOptions):
    """Sample hyperparameters from a recipe's search space and train them in batches."""

    algo_and_network_config: str | None = None
    """Algorithm recipe: a name from configs/algo (e.g. ppo_mlp) or a path to a recipe .py file."""
    env_config: str | None = None
    """Environment recipe: a name from configs/env (e.g. gymnax.pendulum) or a path to a .py file."""
    num_samples: int | None = None
    """How many configurations to draw (default 16)."""
    sampling_method: Literal["qmc_sobol", "random", "saltelli", "tpe", "gp", "cmaes", "nsga2"] | None = None
    """Scrambled Sobol (default), independent random draws, SALib's Saltelli design for Sobol
    sensitivity indices (--num-samples is its base count N: N * (D + 2) runs for D sampled keys),
    or an Optuna sampler that learns from the results: tpe, gp (needs PyTorch), cmaes or nsga2, asked
    --hparam-batch-size samples at a time and told their final return as each batch ends; all seeded by --seed."""
    set: Annotated[tuple[str, ...], tyro.conf.UseAppendAction] = ()
    """KEY=VALUE-STRING, repeatable: a scalar fixes KEY; a list, range or draw samples KEY from its values."""


DEFAULTS = {**dataclasses.asdict(Settings()), "num_samples": 16, "sampling_method": "qmc_sobol", "set": []}
# Options whose value is recorded in sweep.json and reused on resume.
RECORDED = ("algo_and_network_config", "env_config", *DEFAULTS)

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
    method = resolved["sampling_method"]
    if method not in (*SAMPLING_METHODS, *LEARNING_METHODS):
        raise ValueError(f"--sampling-method {method!r} is not one of {', '.join((*SAMPLING_METHODS, *LEARNING_METHODS))}")
    recipe = load_recipe(resolved["algo_and_network_config"], resolved["env_config"])
    recipe = apply_set_overrides(recipe, resolved["set"] or [], resolved["seed"])
    learning = method in LEARNING_METHODS  # asks its samples batch by batch
    samples = None if learning else draw_samples(recipe.distributions, resolved["num_samples"], method, resolved["seed"])
    settings = Settings(**{f.name: resolved[f.name] for f in dataclasses.fields(Settings)})
    source = {"kind": "sampled", "num_samples": resolved["num_samples"], "sampling_method": resolved["sampling_method"]}
    root = sweep_root(args.resume_from, args.output_root, recipe)
    return launch(recipe, samples, settings, source, resolved, root, stored, console)
