"""Reading a sweep directory for the report, rerun and export: what has finished so far.

Only batch (or run) directories with success.txt count, so a sweep that is still running or was
interrupted reads as the part that finished.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from hyperlax import config, store
from hyperlax.recipes import Recipe, load_recipe
from hyperlax.cli.sweep_file import apply_set_overrides

METRICS = ("final_return", "best_return")
RERUNS = "reruns"  # re-runs of chosen samples: <sweep>/reruns/rerun_XXX/, each a sweep directory


@dataclasses.dataclass(frozen=True)
class SweepData:
    """A sweep's record and its finished samples."""

    root: Path
    record: dict[str, Any]  # sweep.json
    keys: list[str]  # every sample's keys, in samples.csv order
    rows: list[dict[str, Any]]  # store.collect_results: sample_id, directory, hyperparams, final/best_return, wall_s
    env_steps: np.ndarray  # [milestones]
    returns: dict[int, np.ndarray]  # sample_id -> greedy mean return [seeds, milestones]
    infos: list[dict[str, Any]]  # info.json of every finished batch


def check_metric(metric: str) -> None:
    """Raise a ValueError naming `metric` unless it is a recorded metric."""
    if metric not in METRICS:
        raise ValueError(f"--metric {metric!r} is not one of {', '.join(METRICS)}")


def finished_dirs(root: Path) -> list[Path]:
    """The batch or run directories of `root` that have success.txt."""
    return [d for d in sorted((root / "samples").glob("*_*")) if store.is_complete(d)]


def load_sweep(root: str | Path) -> SweepData:
    """Read the sweep in `root`; a ValueError if it holds no sweep.json."""
    root = Path(root).expanduser()
    if not (root / "sweep.json").is_file():
        raise ValueError(f"{root} is not a sweep directory (no sweep.json); give an <output-root>/<algo>/<env>/ directory")
    with open(root / "samples.csv", newline="") as f:
        keys = next(csv.reader(f))[1:]
    returns, infos, env_steps = {}, [], np.zeros(0)
    for directory in finished_dirs(root):
        infos.append(store.read_json(directory / "info.json"))
        data = np.genfromtxt(directory / "metrics.csv", delimiter=",", names=True, ndmin=1)
        for sample_id in np.unique(data["sample_id"]).astype(int):
            mine = data[data["sample_id"] == sample_id]
            seeds, milestones = int(mine["seed_index"].max()) + 1, int(mine["milestone_index"].max()) + 1
            table = np.full((seeds, milestones), np.nan)
            table[mine["seed_index"].astype(int), mine["milestone_index"].astype(int)] = mine["mean_return"]
            returns[int(sample_id)] = table
            steps = np.unique(mine["env_steps"])
            env_steps = steps if steps.size > env_steps.size else env_steps
    width = env_steps.size  # a sample stopped early has fewer evaluations: NaN after its stop
    returns = {i: np.pad(r, ((0, 0), (0, width - r.shape[1])), constant_values=np.nan) for i, r in returns.items()}
    return SweepData(root, store.read_json(root / "sweep.json"), keys, store.collect_results(root), env_steps, returns, infos)


def metric_per_seed(returns: np.ndarray, metric: str) -> np.ndarray:
    """Each seed's final or best return, from its [seeds, milestones] returns."""
    return returns[:, -1] if metric == "final_return" else np.nanmax(returns, axis=1)


def ranked(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """`rows` by `metric`, highest first; NaN last."""
    return sorted(rows, key=lambda r: -r[metric] if math.isfinite(r[metric]) else math.inf)


def row_of(data: SweepData, sample_id: int) -> dict[str, Any]:
    """The finished sample `sample_id`; a ValueError naming it and the range otherwise."""
    for row in data.rows:
        if row["sample_id"] == sample_id:
            return row
    total = data.record["num_samples"]
    state = "has not finished" if 0 <= sample_id < total else f"does not exist (ids 0-{total - 1})"
    raise ValueError(f"sample {sample_id} of {data.root} {state}")


def varying_keys(data: SweepData) -> list[str]:
    """The keys whose value differs between finished samples: the swept hyperparameters."""
    return [
        k for k in data.keys
        if len({json.dumps(r["hyperparams"][k], sort_keys=True) for r in data.rows}) > 1
    ]


def sweep_recipe(data: SweepData) -> Recipe:
    """The recipe the sweep ran: its recorded files, with a sampled sweep's --set values applied."""
    arguments = data.record["arguments"]
    recipe = load_recipe(data.record["recipe"]["algo"], data.record["recipe"]["env"])
    if "sampling_method" in arguments:  # sweep-hp-samples: --set fixes or samples recipe keys
        recipe = apply_set_overrides(recipe, arguments.get("set") or [], arguments["seed"])
    return recipe


def base_config(data: SweepData, recipe: Recipe) -> dict[str, Any]:
    """The recipe's nested config with the sweep's total_timesteps and num_evaluations."""
    settings = data.record["settings"]
    training = {k: settings[k] for k in ("total_timesteps", "num_evaluations") if settings.get(k) is not None}
    return config.merge(recipe.base_config, {"training": training})


def sample_config(data: SweepData, recipe: Recipe, sample_id: int) -> dict[str, Any]:
    """The nested config that trained finished sample `sample_id`."""
    return config.merge(base_config(data, recipe), config.unflatten(row_of(data, sample_id)["hyperparams"]))


def load_reruns(data: SweepData) -> list[tuple[SweepData, list[int]]]:
    """Every re-run under `data.root`/reruns/: its data and, per re-run sample, the sweep's sample id."""
    found = []
    for record in sorted((data.root / RERUNS).glob("*/sweep.json")):
        rerun = load_sweep(record.parent)
        found.append((rerun, rerun.record["arguments"]["rerun_of"]))
    return found
