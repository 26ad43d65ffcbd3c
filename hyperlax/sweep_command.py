"""`python -m hyperlax.cli sweep --config FILE`, and `--set KEY=VALUE-STRING` for sweep-hp-samples.

FILE is a W&B-style sweep (a mapping with `parameters`; its top-level `algo` and `env` keys name
the recipes unless the flags do) or a config list saved by `Sweep.save` (.jsonl or .yaml). As with
sweep-hp-samples, options left unset take the defaults for a new sweep and the sweep's recorded
values with --resume-from, and a resume that would change the samples or batching is refused.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml
from rich.console import Console

from hyperlax import config, store
from hyperlax.api import RANKABLE_METRICS, check_key, explicit_samples, launch, resolve_options
from hyperlax.recipes import Recipe, check_distributions, load_recipe
from hyperlax.run.sweep import Settings, SweepError
from hyperlax.space import Categorical
from hyperlax.sweep import Sweep, expand_value_strings, load_wandb_sweep
from hyperlax.sweep.yaml_loader import load_yaml

# W&B top-level keys that this command reads; the others (project, entity, ...) are ignored.
RECIPE_KEYS = {"algo": "algo_and_network_config", "env": "env_config"}


@dataclasses.dataclass
class SweepFromFile:
    """Train the configs of a sweep file: a W&B-style sweep YAML, or a config list from Sweep.save."""

    config: str | None = None
    """The sweep file: W&B-style YAML (method, parameters, metric, run_cap), or a .jsonl / .yaml config list."""
    algo_and_network_config: str | None = None
    """Algorithm recipe (name or .py path); default: the W&B file's `algo` key."""
    env_config: str | None = None
    """Environment recipe (name or .py path); default: the W&B file's `env` key."""
    num_samples: int | None = None
    """W&B files only: how many configs to draw (random) or the most to run (grid); run_cap also caps."""
    hparam_batch_size: int | None = None
    """Most configurations trained at once in one compiled function (default 16)."""
    sequential: bool | None = None
    """Run one configuration at a time (run_XXXX directories). Default False."""
    group_by_structural_hparams: bool | None = None
    """Group configs with equal structural values before slicing batches. Default False."""
    output_root: str = "sweeps"
    """Sweeps land in <output-root>/<algo>/<env>/."""
    resume_from: str | None = None
    """An existing <output-root>/<algo>/<env>/ directory: finish its unfinished batches."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    seed: int | None = None
    """Seeds W&B random draws and every training run (default 0)."""
    num_seeds: int | None = None
    """Training seeds per configuration (default 1)."""
    num_evaluations: int | None = None
    """Evaluation milestones per run, evenly spaced in env steps (default: the recipe's)."""
    total_timesteps: int | None = None
    """Env steps per run (default: the recipe's budget)."""


# Options whose value is recorded in sweep.json and reused on resume.
RECORDED = (
    "config", "algo_and_network_config", "env_config", "num_samples", *(f.name for f in dataclasses.fields(Settings))
)


def load_sweep_file(
    path: Path, num_samples: int | None, seed: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any], dict[str, Any]]:
    """A sweep file's configs, metric ({name, goal} or None), extra top-level keys and source record.

    A mapping (in any file but .jsonl) is a W&B-style sweep; anything else is a config list read
    by `Sweep.load` (.jsonl or .yaml / .yml).
    """
    if not path.is_file():
        raise ValueError(f"--config {path}: no such file")
    try:
        data = None if path.suffix.lower() == ".jsonl" else load_yaml(path.read_text())
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, Mapping):
        if num_samples is not None:
            raise ValueError(f"--num-samples applies to W&B sweep files only; {path} is a config list")
        return list(Sweep.load(path)), None, {}, {"kind": "explicit", "from": "config list"}
    try:
        wandb = load_wandb_sweep(data, num_samples, seed)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    if wandb.metric is not None and wandb.metric["name"] not in RANKABLE_METRICS:
        raise ValueError(
            f"{path}: metric {wandb.metric['name']!r} is not recorded by hyperlax; "
            f"use one of {', '.join(RANKABLE_METRICS)}"
        )
    ignored = sorted(set(wandb.extra) - set(RECIPE_KEYS))
    if ignored:
        logging.getLogger("hyperlax").warning("%s: ignoring top-level keys %s", path, ", ".join(ignored))
    return wandb.configs, wandb.metric, wandb.extra, {"kind": "explicit", "from": "wandb", "method": wandb.method}


def run_sweep_command(args: SweepFromFile, console: Console) -> dict[str, Any]:
    """Run (or resume) the sweep of a sweep file; returns the summary."""
    given = {name: getattr(args, name) for name in RECORDED}
    if args.config is not None:
        given["config"] = str(Path(args.config).expanduser().resolve())
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    resolved, stored = resolve_options(given, args.resume_from, defaults)
    if resolved["config"] is None:
        raise SweepError("--config required for a new sweep (or give --resume-from)")
    configs, metric, extra, source = load_sweep_file(
        Path(resolved["config"]), resolved["num_samples"], resolved["seed"]
    )
    for key, option in RECIPE_KEYS.items():
        resolved[option] = resolved[option] or extra.get(key)
    missing = [
        f"--{option.replace('_', '-')} (or `{key}:` in a W&B file)"
        for key, option in RECIPE_KEYS.items()
        if resolved[option] is None
    ]
    if missing:
        raise SweepError(f"{' and '.join(missing)} required")
    recipe = load_recipe(resolved["algo_and_network_config"], resolved["env_config"])
    samples = explicit_samples(recipe, configs)
    settings = Settings(**{f.name: resolved[f.name] for f in dataclasses.fields(Settings)})
    if args.resume_from:
        root = Path(args.resume_from).expanduser()
    else:
        root = store.sweep_dir(args.output_root, recipe.algo_name, recipe.env_name)
    return launch(recipe, samples, settings, source, resolved, root, stored, console, metric)


def apply_set_overrides(recipe: Recipe, assignments: list[str], seed: int) -> Recipe:
    """`recipe` with each KEY=VALUE-STRING applied: one value fixes KEY, several sample it.

    A value string with one candidate (a scalar) sets KEY in the base config and drops its
    distribution; a list, range or draw with several makes KEY's distribution
    Categorical(values=[...]), sampled with the others. Draws are seeded by (`seed`, KEY). A
    missing `=`, an unknown key or a malformed value string is a ValueError naming the item.
    """
    known = config.flatten(recipe.base_config)
    fixed: dict[str, Any] = {}
    distributions = dict(recipe.distributions)
    for item in assignments:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE-STRING")
        check_key(key, known, f"--set {item!r}")
        try:
            values = [row[key] for row in expand_value_strings({key: text}, seed=seed)]
        except ValueError as err:
            raise ValueError(f"--set {item!r}: {err}") from None
        if len(values) == 1:
            distributions.pop(key, None)
            fixed[key] = values[0]
        else:
            fixed.pop(key, None)
            distributions[key] = Categorical(values=values)
    base_config = config.merge(recipe.base_config, config.unflatten(fixed))
    check_distributions(distributions, base_config, "--set")
    return dataclasses.replace(recipe, base_config=base_config, distributions=distributions)
