"""`python -m hyperlax.cli sweep --config FILE` or `sweep --set KEY=VALUE-STRING ... [--strategy ...]`,
and `--set KEY=VALUE-STRING` for sweep-hp-samples.

With `--set`, the value strings are expanded into explicit configs, grid-run style: `grid` (every
combination), `random_search` (a seeded subset of `--num-trials`), or `none` (the strings as
given, unparsed). FILE is a W&B-style sweep (a mapping with `parameters`; its top-level `algo` and `env` keys name
the recipes unless the flags do) or a config list saved by `Sweep.save` (.jsonl or .yaml). As with
sweep-hp-samples, options left unset take the defaults for a new sweep and the sweep's recorded
values with --resume-from, and a resume that would change the samples or batching is refused.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

import tyro
import yaml
from rich.console import Console

from hyperlax import config
from hyperlax.api import (
    RANKABLE_METRICS, RunOptions, check_key, explicit_samples, launch, resolve_options, sweep_root,
)
from hyperlax.recipes import Recipe, check_distributions, load_recipe
from hyperlax.run.loop import Settings, SweepError
from hyperlax.space import Categorical, Distribution
from hyperlax.syntax import Sweep, expand_value_strings, load_wandb_sweep
from hyperlax.syntax.yaml_loader import load_yaml

# W&B top-level keys that this command reads; the others (project, entity, ...) are ignored.
RECIPE_KEYS = {"algo": "algo_and_network_config", "env": "env_config"}


@dataclasses.dataclass
class SweepFromFile(RunOptions):
    """Train the configs of a sweep file: a W&B-style sweep YAML, or a config list from Sweep.save."""

    config: str | None = None
    """The sweep file: W&B-style YAML (method, parameters, metric, run_cap), or a .jsonl / .yaml config list."""
    algo_and_network_config: str | None = None
    """Algorithm recipe (name or .py path); default: the W&B file's `algo` key."""
    env_config: str | None = None
    """Environment recipe (name or .py path); default: the W&B file's `env` key."""
    num_samples: int | None = None
    """W&B files only: how many configs to draw (random) or ask (bayes), or the most to run (grid); run_cap also caps."""
    set: Annotated[tuple[str, ...], tyro.conf.UseAppendAction] = ()
    """Instead of --config: KEY=VALUE-STRING, repeatable, e.g. algorithm.hyperparam.actor_lr="[1e-4, 3e-4]"."""
    strategy: Literal["grid", "random_search", "none"] | None = None
    """With --set: every combination (grid, the default), a seeded subset (random_search), or unparsed (none)."""
    num_trials: int | None = None
    """With --strategy random_search: how many configs of the grid to run."""


# Options whose value is recorded in sweep.json and reused on resume.
RECORDED = (
    "config", "algo_and_network_config", "env_config", "num_samples", "set", "strategy", "num_trials",
    *(f.name for f in dataclasses.fields(Settings)),
)


def load_sweep_file(
    path: Path, num_samples: int | None, seed: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any], dict[str, Any], dict[str, Distribution] | None]:
    """A sweep file's configs, metric ({name, goal} or None), extra top-level keys, source record
    and, for W&B's method bayes (no configs), the distributions a sampler asks from.

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
        return list(Sweep.load(path)), None, {}, {"kind": "explicit", "from": "config list"}, None
    try:
        wandb = load_wandb_sweep(data, num_samples, seed)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    if wandb.metric is not None and wandb.metric["name"] not in RANKABLE_METRICS:
        raise ValueError(
            f"{path}: metric {wandb.metric['name']!r} is not recorded by hyperlax; "
            f"use one of {', '.join(RANKABLE_METRICS)}"
        )
    source = {"kind": "explicit", "from": "wandb", "method": wandb.method}
    if "early_terminate" in wandb.extra:  # W&B's hyperband rule, applied at every evaluation milestone
        source["early_terminate"] = wandb.extra.pop("early_terminate")
        source["metric"] = wandb.metric
    ignored = sorted(set(wandb.extra) - set(RECIPE_KEYS))
    if ignored:
        logging.getLogger("hyperlax").warning("%s: ignoring top-level keys %s", path, ", ".join(ignored))
    if wandb.method == "bayes":  # W&B ranks a run by its metric's best value over the run's history
        metric = {**wandb.metric, "history_extremum": True}
        terminate = {k: source[k] for k in ("early_terminate", "metric") if k in source}
        source = {
            "kind": "sampled", "from": "wandb", "method": "bayes", "sampling_method": "gp", "num_samples": wandb.count,
            **terminate,
        }
        return [], metric, wandb.extra, source, wandb.distributions
    return wandb.configs, wandb.metric, wandb.extra, source, None


def run_sweep_command(args: SweepFromFile, console: Console) -> dict[str, Any]:
    """Run (or resume) the sweep of a sweep file or of --set value strings; returns the summary."""
    given = {name: getattr(args, name) for name in RECORDED}
    given["set"] = list(args.set) or None  # unset: the recorded value on resume
    if args.config is not None:
        given["config"] = str(Path(args.config).expanduser().resolve())
    resolved, stored = resolve_options(given, args.resume_from, dataclasses.asdict(Settings()))
    if (resolved["config"] is None) == (resolved["set"] is None):
        raise SweepError("give either --config FILE or --set KEY=VALUE-STRING (repeatable) for a new sweep")
    if resolved["config"] is not None:
        if resolved["strategy"] is not None or resolved["num_trials"] is not None:
            raise ValueError("--strategy and --num-trials go with --set, not --config")
        configs, metric, extra, source, distributions = load_sweep_file(
            Path(resolved["config"]), resolved["num_samples"], resolved["seed"]
        )
    else:
        configs, metric, extra, distributions = value_string_configs(resolved), None, {}, None
        source = {"kind": "explicit", "from": "value strings", "strategy": resolved["strategy"] or "grid"}
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
    if distributions is None:
        samples = explicit_samples(recipe, configs)
    else:  # bayes: the file's parameters are the search space; the recipe's other keys keep their defaults
        recipe, samples = searched_recipe(recipe, distributions, Path(resolved["config"])), None
    settings = Settings(**{f.name: resolved[f.name] for f in dataclasses.fields(Settings)})
    root = sweep_root(args.resume_from, args.output_root, recipe)
    return launch(recipe, samples, settings, source, resolved, root, stored, console, metric)


def searched_recipe(recipe: Recipe, distributions: dict[str, Distribution], path: Path) -> Recipe:
    """`recipe` searching `distributions` (keys checked) instead of its own."""
    known = config.flatten(recipe.base_config)
    for key in distributions:
        check_key(key, known, str(path))
    check_distributions(distributions, recipe.base_config, str(path))
    return dataclasses.replace(recipe, distributions=dict(distributions))


def split_assignment(item: str) -> tuple[str, str]:
    """`KEY=VALUE-STRING` -> (KEY, VALUE-STRING); a ValueError naming the item if it has no key."""
    key, eq, text = item.partition("=")
    if not eq or not key.strip():
        raise ValueError(f"--set {item!r}: expected KEY=VALUE-STRING")
    return key.strip(), text


def value_string_configs(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The configs of `--set KEY=VALUE-STRING` items expanded by `--strategy` (default grid)."""
    assignments = dict(split_assignment(item) for item in options["set"])
    return expand_value_strings(assignments, options["strategy"] or "grid", options["num_trials"], options["seed"])


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
        key, text = split_assignment(item)
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
