"""The sweep loop: prepare samples and plan, check or record the fingerprint, run every batch.

Batches that already have success.txt are skipped; a batch directory without it is discarded and
re-run, continuing from its checkpoint when one matches. results.csv is rewritten after every
batch, so a crash loses at most the segments since the last checkpoint of the batch in flight.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from hyperlax import store
from hyperlax.algos import ALGORITHMS
from hyperlax.algos.interface import check_segments
from hyperlax.config import flatten, merge
from hyperlax.envs import EnvSpec, make_env
from hyperlax.errors import SweepError
from hyperlax.lock import LOCK
from hyperlax.plan import Batch, fingerprint, make_plan, members, structure_of
from hyperlax.recipes import Recipe
from hyperlax.run import compile_cache, memory
from hyperlax.run.executor import Executor, Segment, config_for, params_by_leaf

log = logging.getLogger("hyperlax")


def _option(default: Any, help: str) -> Any:  # noqa: A002 (the word tyro and argparse use)
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True)
class Settings:
    """How a sweep runs: its batching, seeds, budget and checkpoints.

    Each field is declared here once, with its help: the sweep commands' options of the same names
    (`api.RunOptions`) and `run_sweep`'s keywords are these fields.
    """

    hparam_batch_size: int | Literal["auto"] = _option(
        16, "Most configurations trained at once in one compiled function; auto: the most whose memory "
        "estimate fits half the free device memory (RAM on a CPU)."
    )
    group_by_structural_hparams: bool = _option(
        False, "Group samples with equal structural and paddable values before slicing batches (no padding, one "
        "compilation per combination); by default lanes differing only in paddable values share a call."
    )
    sequential: bool = _option(False, "Run one configuration at a time (run_XXXX directories).")
    seed: int = _option(0, "Seeds the sampler and every training run.")
    num_seeds: int = _option(1, "Training seeds per configuration.")
    num_evaluations: int | None = _option(
        None, "Evaluation milestones per run, evenly spaced in env steps; they cut the run into segments "
        "(default: the recipe's training.num_evaluations)."
    )
    total_timesteps: int | None = _option(None, "Env steps per run (default: the recipe's training.total_timesteps).")
    checkpoint_every: int = _option(
        1, "Save a training batch's lane states every K segments into its checkpoint/ directory, so that a "
        "resume continues it from there; 0: no checkpoints."
    )
    keep_checkpoints: bool = _option(False, "Keep a finished batch's checkpoint/ directory.")
    compile_cache: str = _option(
        compile_cache.default_dir(), "Directory of jax's persistent compilation cache, where compiled programs are "
        "kept so that a resumed or repeated sweep loads them instead of compiling again; off: compile afresh."
    )


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A sweep ready to run: resolved config, samples, plan and their fingerprint."""

    recipe: Recipe
    settings: Settings
    base_config: dict[str, Any]
    samples: list[dict[str, Any]]
    plan: list[Batch]
    extents: dict[str, dict[str, int]]  # unit structure -> array sizes its function compiles with
    fingerprint: str


def prepare(recipe: Recipe, samples: list[dict[str, Any]], settings: Settings, source: dict[str, Any]) -> Prepared:
    """Check every sample's config (before any compilation) and plan the batches.

    `source` describes where the samples came from (sampling method, count, ...); it enters the
    fingerprint together with the samples themselves.
    """
    overrides: dict[str, Any] = {}
    if settings.total_timesteps is not None:
        overrides["total_timesteps"] = settings.total_timesteps
    if settings.num_evaluations is not None:
        overrides["num_evaluations"] = settings.num_evaluations
    base_config = merge(recipe.base_config, {"training": overrides})
    if settings.num_seeds < 1:
        raise ValueError(f"--num-seeds must be at least 1, got {settings.num_seeds}")
    if settings.checkpoint_every < 0:
        raise ValueError(f"--checkpoint-every must be 0 (no checkpoints) or positive, got {settings.checkpoint_every}")
    settings = dataclasses.replace(settings, compile_cache=compile_cache.resolve(settings.compile_cache))
    algo = recipe.algorithm
    for sample_id, sample in enumerate(samples):
        try:
            algo.check_config(config_for(base_config, sample))
        except ValueError as err:
            raise ValueError(f"sample {sample_id} ({sample}): {err}") from None
        except KeyError as err:
            raise ValueError(f"{recipe.algo_path}: the config lacks {err.args[0]!r}, which {algo.name} reads") from None
    structural = [k for k in flatten(base_config) if k not in algo.vectorized + algo.paddable]
    env = make_env(base_config["env"])
    if settings.hparam_batch_size == "auto":
        size = fitting_batch_size(algo, base_config, env, samples, structural, settings)
        settings = dataclasses.replace(settings, hparam_batch_size=size)
    elif not isinstance(settings.hparam_batch_size, int):
        raise ValueError(f"--hparam-batch-size must be a positive integer or 'auto', got {settings.hparam_batch_size!r}")
    plan = make_plan(
        samples, structural, algo.paddable, settings.hparam_batch_size,
        settings.group_by_structural_hparams, settings.sequential,
    )
    extents = {}
    for structure, ids in members(plan).items():
        configs = [config_for(base_config, samples[i]) for i in ids]
        extents[structure] = algo.padded_extents(configs)
        try:  # the checks that need the env (e.g. a conv torso needs image observations)
            algo.check_env(configs[0], env)
        except ValueError as err:
            raise ValueError(f"sample {ids[0]} ({samples[ids[0]]}): {err}") from None
        if algo not in ALGORITHMS.values():  # a researcher's module: check its contract before any work
            try:
                check_segments(algo, configs[0], env, extents[structure])
            except Exception as err:  # noqa: BLE001 (a user's module: any error while tracing it is reported)
                raise ValueError(f"algorithm {algo.name!r} breaks the contract: {type(err).__name__}: {err}") from None
    recorded = {"source": source, "seed": settings.seed, "num_seeds": settings.num_seeds, "base_config": base_config}
    return Prepared(recipe, settings, base_config, samples, plan, extents, fingerprint(samples, plan, recorded))


def fitting_batch_size(
    algo: Any, base_config: dict[str, Any], env: EnvSpec, samples: list[dict[str, Any]], structural: list[str],
    settings: Settings,
) -> int:
    """The largest batch whose memory estimate (its largest structure, padded to every sample's extents) fits."""
    configs = [config_for(base_config, s) for s in samples]
    extents = algo.padded_extents(configs)
    one_per_structure = {structure_of(s, structural): c for s, c in zip(samples, configs)}
    per_lane = max(memory.lane_bytes(algo, c, env, extents) for c in one_per_structure.values())
    free = memory.available_bytes()
    size = memory.auto_batch_size(per_lane, settings.num_seeds, len(samples), free)
    log.info(
        "--hparam-batch-size auto: %d (%.1f MiB per lane x %d seeds, %.0f MiB available)",
        size, per_lane / memory.MiB, settings.num_seeds, free / memory.MiB,
    )
    return size


def make_executor(prepared: Prepared) -> Executor:
    """An executor for the prepared sweep's algorithm, env, seeds and extents; jax caches what it compiles
    in the sweep's compile cache."""
    config = prepared.base_config
    settings = prepared.settings
    compile_cache.use(settings.compile_cache)
    return Executor(
        prepared.recipe.algorithm, config, make_env(config["env"]), settings.num_seeds, settings.seed,
        prepared.extents, settings.checkpoint_every, prepared.fingerprint,
    )


def versions() -> dict[str, str]:
    names = ("hyperlax", "jax", "jaxlib", "flax", "optax", "gymnax", "numpy", "scipy")
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def start(root: Path, prepared: Prepared, arguments: dict[str, Any], resume: bool) -> None:
    """Record a new sweep, or check that a resumed one asks for the same samples and batching."""
    if resume:
        stored = store.read_sweep_record(root)
        if stored["fingerprint"] != prepared.fingerprint:
            raise SweepError(
                f"refusing to resume {root}: the requested samples or batching differ from the ones it "
                "was started with (sweep.json fingerprint). Nothing was deleted. Resume with the original "
                "arguments and recipe files, or start a new sweep under another --output-root."
            )
        return
    if root.exists() and any(p.name != LOCK for p in root.iterdir()):
        raise SweepError(
            f"{root} already holds a sweep; continue it with --resume-from {root}, or choose another "
            "--output-root. Nothing was overwritten."
        )
    store.write_json(
        root / "sweep.json",
        {
            "arguments": arguments,
            "settings": dataclasses.asdict(prepared.settings),
            "recipe": {"algo": prepared.recipe.algo_path, "env": prepared.recipe.env_path},
            "versions": versions(),
            "fingerprint": prepared.fingerprint,
            "num_samples": len(prepared.samples),
            "batches": [{"name": b.name, "sample_ids": list(b.sample_ids)} for b in prepared.plan],
        },
    )
    store.write_samples_csv(root / "samples.csv", prepared.samples)


DEFAULT_METRIC = {"name": "final_return", "goal": "maximize"}


def execute(
    root: Path, prepared: Prepared, console: Console | None = None, metric: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run every unfinished batch, then write results.csv and summary.json; returns the summary.

    The progress bar counts env steps (each sample's milestones reached, over its seeds) over the
    sweep's total, with the best return so far. The summary ranks the best configurations by
    `metric` ({name: final_return or best_return, goal: maximize or minimize}), by default the
    highest final return; diverged samples are left out of the ranking.
    """
    console = console or Console(stderr=True)
    metric = metric or DEFAULT_METRIC
    started = time.perf_counter()
    executor = make_executor(prepared)
    steps = executor.milestones
    keys = list(prepared.samples[0]) if prepared.samples else []
    todo = [b for b in prepared.plan if not store.is_complete(root / "samples" / b.name)]
    skipped = len(prepared.plan) - len(todo)
    if skipped:
        log.info("resuming: %d of %d batches already finished, skipping them", skipped, len(prepared.plan))
    per_sample = steps[-1] * prepared.settings.num_seeds
    finished = store.collect_results(root)
    best = Best(metric["goal"], [r[metric["name"]] for r in finished])
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f} env steps"),
        TextColumn("best {task.fields[best]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(
            "batches", total=per_sample * len(prepared.samples), completed=per_sample * len(finished), best=best.text()
        )

        def on_segment(segment: Segment) -> None:
            reached = steps[segment.index] - (steps[segment.index - 1] if segment.index else 0)
            best.update(segment.returns.mean(axis=1))
            progress.update(task, advance=reached * segment.returns.size, best=best.text())

        for batch in todo:
            directory = root / "samples" / batch.name
            if store.discard_incomplete(directory):
                log.warning("%s had no success.txt: discarded (its checkpoint kept), running it again", batch.name)
            progress.update(task, description=f"{batch.name} ({len(batch.sample_ids)} samples)")
            run_batch(executor, batch, prepared.samples, directory, on_segment)
            if not prepared.settings.keep_checkpoints:
                store.remove_checkpoint(directory)
            store.write_results_csv(root, store.collect_results(root), keys)
    rows = store.collect_results(root)
    store.write_results_csv(root, rows, keys)
    summary = summarize(rows, executor, time.perf_counter() - started, len(prepared.plan), skipped, metric)
    store.write_json(root / "summary.json", summary)
    diverged = [r["sample_id"] for r in rows if r["status"] == "diverged"]
    if diverged:
        log.warning(
            "%d samples diverged (non-finite parameters or returns), left out of the ranking: %s",
            len(diverged), ", ".join(map(str, diverged)),
        )
    return summary


class Best:
    """The best return seen so far, by the metric's goal, for the progress bar."""

    def __init__(self, goal: str, values: Sequence[float]):
        self.sign = 1.0 if goal == "maximize" else -1.0
        self.value = np.nan
        self.update(np.asarray(values, dtype=float))

    def update(self, values: np.ndarray) -> None:
        values = values[np.isfinite(values)]
        if values.size:
            candidate = self.sign * np.max(self.sign * values)
            if np.isnan(self.value) or self.sign * candidate > self.sign * self.value:
                self.value = float(candidate)

    def text(self) -> str:
        return "-" if np.isnan(self.value) else f"{self.value:.1f}"


def run_batch(
    executor: Executor,
    batch: Batch,
    samples: Sequence[dict[str, Any]],
    directory: Path,
    on_segment: Callable[[Segment], None] | None = None,
) -> None:
    start = time.perf_counter()
    compiles, env_steps, slots = executor.compile_count, executor.env_steps, executor.slots
    returns, diverged, params = [], [], {}
    for unit in batch.units:
        result = executor.run_unit(unit, [samples[i] for i in unit.sample_ids], directory, on_segment)
        returns.append(result.output.returns)
        diverged.extend(bool(d.any()) for d in result.output.diverged)
        leaves = params_by_leaf(result.output.params)
        for row, sample_id in enumerate(unit.sample_ids):  # structures differ in shape: one entry per sample
            params.update({f"sample_{sample_id}/{name}": leaf[row] for name, leaf in leaves.items()})
    info = {
        "wall_s": round(time.perf_counter() - start, 3),
        "compiles": executor.compile_count - compiles,
        "env_steps": executor.env_steps - env_steps,
        "padding_fraction": round(1.0 - (executor.env_steps - env_steps) / (executor.slots - slots), 4),
        "status": {str(i): "diverged" if d else "finished" for i, d in zip(batch.sample_ids, diverged)},
        "units": [
            {"sample_ids": list(u.sample_ids), "lanes": u.lanes, "extents": executor.extents[u.structure]}
            for u in batch.units
        ],
    }
    store.write_batch(
        directory, {i: samples[i] for i in batch.sample_ids}, np.concatenate(returns), executor.milestones, params, info
    )
    log.info(
        "%s done: %d samples in %.1fs, %.0f%% of lane-steps padding",
        batch.name, len(batch.sample_ids), info["wall_s"], 100 * info["padding_fraction"],
    )


def summarize(
    rows: list[dict[str, Any]], executor: Executor, wall_s: float, num_batches: int, skipped: int, metric: dict[str, str]
) -> dict[str, Any]:
    sign = -1.0 if metric["goal"] == "maximize" else 1.0
    ranked = sorted(
        (r for r in rows if r["status"] != "diverged"),
        key=lambda r: (bool(np.isnan(r[metric["name"]])), sign * r[metric["name"]]),
    )
    return {
        "num_finished_samples": len(rows),
        "num_diverged_samples": sum(r["status"] == "diverged" for r in rows),
        "num_batches": num_batches,
        "batches_skipped_on_resume": skipped,
        "compile_count": executor.compile_count,
        "compile_cache_hits": executor.compile_cache_hits,
        "compile_s": round(executor.compile_s, 3),
        "segments_run": executor.segments_run,
        "padding_fraction": round(1.0 - executor.env_steps / executor.slots, 4) if executor.slots else 0.0,
        "wall_s": round(wall_s, 3),
        "ranked_by": metric,
        "best": [
            {k: r[k] for k in ("sample_id", "directory", "final_return", "best_return", "hyperparams")}
            for r in ranked[:5]
        ],
    }


def summary_table(summary: dict[str, Any]) -> Table:
    metric = summary["ranked_by"]
    table = Table(title=f"best configurations by {metric['name']} ({metric['goal']})")
    for column in ("sample_id", "final", "best", "hyperparameters"):
        table.add_column(column)
    for row in summary["best"]:
        short = ", ".join(f"{k.rsplit('.', 1)[-1]}={_fmt(v)}" for k, v in row["hyperparams"].items())
        table.add_row(str(row["sample_id"]), f"{row['final_return']:.1f}", f"{row['best_return']:.1f}", short)
    return table


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
