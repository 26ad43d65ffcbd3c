"""Training chosen samples of a sweep again with fresh seeds, replaying a PBT sample's schedule,
and exporting a sample as a recipe file.

A re-run is an explicit-config sweep (hyperlax.api.launch, as `sweep --config` runs) in
<sweep>/reruns/rerun_XXX/; its sweep.json records `rerun_of`, the sweep's sample id of each
re-run sample (re-run sample i trained `rerun_of[i]`).
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import pprint
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from hyperlax import store
from hyperlax.api import explicit_samples, launch
from hyperlax.plan import Unit
from hyperlax.report.sweep_data import (
    RERUNS, check_metric, load_sweep, ranked, row_of, sample_config, sweep_recipe,
)
from hyperlax.run import pbt
from hyperlax.run.executor import Scheduler
from hyperlax.run.loop import Settings, make_executor, prepare

log = logging.getLogger("hyperlax")


def choose(root: str | Path, sample_ids: list[int], top: int | None, metric: str) -> list[int]:
    """`sample_ids` (each must have finished), then the `top` best finished samples by `metric` not yet named."""
    check_metric(metric)
    data = load_sweep(root)
    for sample_id in sample_ids:
        row_of(data, sample_id)
    chosen = list(dict.fromkeys(sample_ids))
    if top is not None:
        if top < 1:
            raise ValueError(f"--top must be at least 1, got {top}")
        best = [r for r in ranked(data.rows, metric) if math.isfinite(r[metric])][:top]
        chosen += [r["sample_id"] for r in best if r["sample_id"] not in chosen]
    if not chosen:
        raise ValueError("name the samples: --sample-id K (repeatable) and/or --top N")
    return chosen


def rerun(
    root: str | Path,
    sample_ids: list[int],
    num_seeds: int | None = None,
    total_timesteps: int | None = None,
    seed: int | None = None,
    console: Console | None = None,
) -> Path:
    """Train `sample_ids` again in one batched sweep under <root>/reruns/; returns its directory.

    Seeds, budget, evaluations and compile cache default to the sweep's, except the seed: the sweep's seed + 1
    (a re-run with the sweep's own seed is refused). Unknown or unfinished samples are ValueErrors.
    """
    data = load_sweep(root)
    recorded = data.record["settings"]
    seed = recorded["seed"] + 1 if seed is None else seed
    if seed == recorded["seed"]:
        raise ValueError(f"--seed {seed} is the sweep's own seed; a re-run needs fresh seeds")
    if recorded.get("pbt"):
        log.warning(
            "a --pbt sweep's samples trained with hyperparameter schedules (lineage.csv); this re-run trains "
            "the hyperparameters they were drawn with. --replay-schedule trains a sample's schedule."
        )
    recipe = sweep_recipe(data)
    samples = explicit_samples(recipe, [row_of(data, i)["hyperparams"] for i in sample_ids])
    settings = Settings(
        hparam_batch_size=recorded["hparam_batch_size"],
        seed=seed,
        num_seeds=recorded["num_seeds"] if num_seeds is None else num_seeds,
        num_evaluations=recorded["num_evaluations"],
        total_timesteps=recorded["total_timesteps"] if total_timesteps is None else total_timesteps,
        compile_cache=recorded.get("compile_cache", Settings.compile_cache),
    )
    target = data.root / RERUNS / f"rerun_{len(list((data.root / RERUNS).glob('rerun_*'))):03d}"
    arguments = {
        "rerun_of": list(sample_ids),
        "algo_and_network_config": recipe.algo_path,
        "env_config": recipe.env_path,
        **dataclasses.asdict(settings),
    }
    source = {"kind": "explicit", "from": "rerun", "sweep": str(data.root), "sample_ids": list(sample_ids)}
    console = console or Console(stderr=True)
    launch(recipe, samples, settings, source, arguments, target, None, console)
    console.print(f"re-run samples {', '.join(map(str, range(len(sample_ids))))} trained the sweep's samples {', '.join(map(str, sample_ids))}")
    return target


def export_recipe(root: str | Path, sample_id: int) -> str:
    """The text of a recipe file whose base config is the config that trained `sample_id` (nothing sampled).

    It loads with `--algo-and-network-config PATH` and the sweep's env recipe.
    """
    data = load_sweep(root)
    recipe = sweep_recipe(data)
    row = row_of(data, sample_id)
    config = sample_config(data, recipe, sample_id)
    del config["env"]  # comes from the env recipe
    literal = textwrap.indent(pprint.pformat(config, sort_dicts=False, width=100), " " * 11).lstrip()
    return f'''"""Sample {sample_id} of the sweep {data.root} (final_return {row["final_return"]:.4g}, best_return {row["best_return"]:.4g}).

Exported by `python -m hyperlax.cli export`. Train it again:
  python -m hyperlax.cli sweep-hp-samples --algo-and-network-config THIS_FILE.py --env-config {recipe.env_path} --num-samples 1
Add distributions below to search around it.
"""

from typing import Any


def get_base_config() -> dict[str, Any]:
    return {literal}


def get_base_hyperparam_distributions() -> dict[str, Any]:
    return {{}}
'''


def replay_schedule(
    root: str | Path, sample_id: int, console: Console | None = None, seed: int | None = None, num_seeds: int | None = None
) -> dict[str, Any]:
    """Train a PBT sweep's sample as a run of its own: from the key of the sample its final state
    descends from, with the hyperparameters that state trained with, interval by interval (the
    sweep's lineage.csv). With the sweep's seed (the default) it reproduces the sample: writes and
    returns the replayed returns beside the recorded ones (each segment's as recorded by the lane
    that held the state then); with another `seed` (and `num_seeds`) it trains the schedule afresh."""
    data = load_sweep(root)
    path = data.root / "lineage.csv"
    if not data.record["settings"].get("pbt") or not path.is_file():
        raise ValueError(f"{data.root} is not a finished --pbt sweep (no lineage.csv): there is no schedule to replay")
    row_of(data, sample_id)
    with open(path, newline="") as f:
        lineage = list(csv.DictReader(f))
    ancestor, pieces = pbt.schedule(lineage, sample_id)
    keys = [k for k in lineage[0] if k not in ("interval", "env_steps", "sample_id", "parent_id", "from_segment", "return")]
    recorded = data.record["settings"]
    seed = recorded["seed"] if seed is None else seed
    settings = Settings(
        hparam_batch_size=1, seed=seed, num_seeds=recorded["num_seeds"] if num_seeds is None else num_seeds,
        num_evaluations=recorded["num_evaluations"], total_timesteps=recorded["total_timesteps"], checkpoint_every=0,
    )
    recipe = sweep_recipe(data)
    samples = explicit_samples(recipe, [row_of(data, ancestor)["hyperparams"]])
    prepared = prepare(recipe, samples, settings, {"kind": "replay", "sample_id": sample_id})
    executor = make_executor(prepared)
    executor.scheduler = Scheduler(replay=[(first, {k: float(row[k]) for k in keys}) for first, row in pieces])
    unit = prepared.plan[0].units[0]
    result = executor.run_unit(Unit(unit.structure, (ancestor,), 1), samples)
    replayed = result.output.returns[0]
    report = {
        "sample_id": sample_id, "ancestor": ancestor, "seed": seed, "schedule": [[first, dict(row)] for first, row in pieces],
        "replayed_returns": replayed.tolist(), "final_return": float(np.mean(replayed[:, -1])),
    }
    compared = ""
    if seed == recorded["seed"] and replayed.shape[0] == recorded["num_seeds"]:
        original = np.full_like(replayed, np.nan)  # each segment as the lane that held the state recorded it
        for (first, row), end in zip(pieces, [first for first, _ in pieces[1:]] + [replayed.shape[1]]):
            original[:, first:end] = data.returns[int(row["sample_id"])][:, first:end]
        report.update(recorded_returns=original.tolist(), max_abs_difference=float(np.nanmax(np.abs(replayed - original))))
        compared = (
            f", recorded {np.mean(original[:, -1]):.2f} (largest difference over milestones "
            f"{report['max_abs_difference']:.3g})"
        )
    name = f"replay_sample_{sample_id}.json" if seed == recorded["seed"] else f"replay_sample_{sample_id}_seed_{seed}.json"
    store.write_json(data.root / RERUNS / name, report)
    (console or Console(stderr=True)).print(
        f"replayed sample {sample_id} (state from sample {ancestor}, {len(pieces)} hyperparameter intervals, seed "
        f"{seed}): final return {report['final_return']:.2f}{compared}; {data.root / RERUNS / name}"
    )
    return report
