"""The sweep loop: prepare samples and plan, check or record the fingerprint, run every batch.

Batches that already have success.txt are skipped; a batch directory without it is discarded and
re-run, continuing from its checkpoint when one matches. results.csv is rewritten after every
batch, so a crash loses at most the segments since the last checkpoint of the batch in flight.
Batches run here, on the local devices, or with --ray as Ray tasks (run/ray_batches.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import platform
import time
import itertools
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from hyperlax import padding, store
from hyperlax.algos import ALGORITHMS
from hyperlax.algos.common import milestones
from hyperlax.algos.interface import check_segments
from hyperlax.config import flatten, merge
from hyperlax.envs import EnvSpec, make_env
from hyperlax.errors import SweepError, UserError
from hyperlax.lock import LOCK
from hyperlax.plan import Batch, fingerprint, make_plan, members, plan_round, structure_of
from hyperlax.recipes import Recipe
from hyperlax.run import compile_cache, devices, memory, pbt, stopping
from hyperlax.run.executor import Executor, Hooks, Scheduler, Segment, config_for, params_by_leaf
from hyperlax.run.search import Search
from hyperlax.space.distributions import Categorical, Distribution

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
    padding: Literal["auto", "together"] = _option(
        "auto", "How a structure's samples that differ in paddable values share compiled functions: auto splits "
        "them into padded units where a cost model (compile time against padded work) says it pays; together "
        "pads them as one unit. --group-by-structural-hparams groups them by their values instead."
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
    early_stopping: Literal["none", "asha", "hyperband", "median"] = _option(
        "none", "Stop poor samples at evaluation milestones and refill their lanes with the next samples, inside "
        "the same compiled function: asha (Ray's ASHA), hyperband (W&B's rule), median (Ray's median stopping)."
    )
    pruner: Literal["none", "median", "hyperband", "sha"] = _option(
        "none", "Stop poor samples with Optuna's pruner (MedianPruner, HyperbandPruner, SuccessiveHalvingPruner) "
        "at evaluation milestones, refilling their lanes like --early-stopping; uses --grace-period, "
        "--reduction-factor and --max-budget."
    )
    grace_period: int | None = _option(None, "Env steps before any sample may stop (default: the first milestone).")
    reduction_factor: float = _option(3.0, "Early stopping's eta: rungs every eta-fold budget; the top 1/eta go on.")
    max_budget: int | None = _option(None, "Env steps at which a sample finishes under early stopping (default: the run's total).")
    pbt: bool = _option(
        False, "Population-based training across the samples of each batch: the bottom quantile copies a top "
        "sample's whole lane state and hyperparameters, then perturbs or resamples its sampled float hyperparameters."
    )
    perturbation_interval: int | None = _option(None, "PBT: env steps between perturbations (default: every milestone).")
    quantile_fraction: float = _option(0.25, "PBT: fraction of the population that exploits, and that is exploited.")
    resample_probability: float = _option(0.25, "PBT: probability of redrawing a value from its distribution instead of perturbing it.")
    perturbation_factors: tuple[float, ...] = _option((1.2, 0.8), "PBT: factors a perturbed value is multiplied by, one drawn at random.")
    devices: int | Literal["all"] = _option(
        "all", "Local devices (GPUs, or CPU devices: one per core) that a unit's lanes are sharded over, at most "
        "one per lane: a number, or all; lane counts are padded to split evenly, results do not change. With "
        "--ray: the GPUs each batch's task asks for (all: 1)."
    )
    ray: str = _option(
        "off", "Run each batch as a Ray task: auto (a running cluster), local (start one here), a cluster "
        "address (host:6379, ray://host:10001), or off. The output root must be on a filesystem every node shares."
    )
    compile_cache: str = _option(
        compile_cache.default_dir(), "Directory of jax's persistent compilation cache, where compiled programs are "
        "kept so that a resumed or repeated sweep loads them instead of compiling again; off: compile afresh."
    )


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A sweep ready to run: resolved config, samples, plan and their fingerprint.

    With a learning sampler (`method`), `samples`, `plan` and `extents` start empty and grow as
    the sampler asks each batch; `corners` then holds the paddable values at the search space's
    extremes, which every structure's extents cover.
    """

    recipe: Recipe
    settings: Settings
    base_config: dict[str, Any]
    samples: list[dict[str, Any]]
    plan: list[Batch]
    extents: dict[str, dict[str, int]]  # unit structure -> array sizes its function compiles with
    fingerprint: str
    num_samples: int
    method: str | None = None  # a learning sampler (run/search.py) asks the samples batch by batch
    corners: tuple[dict[str, Any], ...] = ()
    scheduler: Scheduler = Scheduler()  # early stopping and PBT, decided between steps
    padding: tuple[dict[str, Any], ...] = ()  # the cost model's split of each structure with mixed paddable values

    @property
    def structural(self) -> list[str]:
        algo = self.recipe.algorithm
        return [k for k in flatten(self.base_config) if k not in algo.vectorized + algo.paddable]


def _base_config(recipe: Recipe, settings: Settings) -> dict[str, Any]:
    """The recipe's config with the settings' budget, after checking the settings."""
    overrides: dict[str, Any] = {}
    if settings.total_timesteps is not None:
        overrides["total_timesteps"] = settings.total_timesteps
    if settings.num_evaluations is not None:
        overrides["num_evaluations"] = settings.num_evaluations
    if settings.num_seeds < 1:
        raise ValueError(f"--num-seeds must be at least 1, got {settings.num_seeds}")
    if settings.checkpoint_every < 0:
        raise ValueError(f"--checkpoint-every must be 0 (no checkpoints) or positive, got {settings.checkpoint_every}")
    if settings.hparam_batch_size != "auto" and (
        isinstance(settings.hparam_batch_size, bool) or not isinstance(settings.hparam_batch_size, int)
    ):
        raise ValueError(f"--hparam-batch-size must be a positive integer or 'auto', got {settings.hparam_batch_size!r}")
    if settings.ray == "off":
        devices.resolve(settings.devices)
    elif settings.devices != "all" and (
        isinstance(settings.devices, bool) or not isinstance(settings.devices, int) or settings.devices < 1
    ):
        raise ValueError(
            f"--devices with --ray is the number of GPUs each batch's task asks for: a positive integer or all, got "
            f"{settings.devices!r}"
        )
    return merge(recipe.base_config, {"training": overrides})


def check_sample(
    recipe: Recipe, base_config: dict[str, Any], name: str, sample: dict[str, Any], env: EnvSpec | None = None
) -> None:
    """Raise a ValueError naming the sample (`name`, e.g. "sample 3") if its config cannot run
    (with `env`: on that env)."""
    algo = recipe.algorithm
    config = config_for(base_config, sample)
    try:
        algo.check_config(config)
        if env is not None:  # the checks that need the env (e.g. a conv torso needs image observations)
            algo.check_env(config, env)
    except ValueError as err:
        raise ValueError(f"{name} ({sample}): {err}") from None
    except KeyError as err:
        raise ValueError(f"{recipe.algo_path}: the config lacks {err.args[0]!r}, which {algo.name} reads") from None


def _check_contract(algo: Any, config: dict[str, Any], env: EnvSpec, extents: dict[str, int]) -> None:
    """A researcher's module: check its contract on one structure before any work."""
    if algo in ALGORITHMS.values():
        return
    try:
        check_segments(algo, config, env, extents)
    except Exception as err:  # noqa: BLE001 (a user's module: any error while tracing it is reported)
        raise ValueError(f"algorithm {algo.name!r} breaks the contract: {type(err).__name__}: {err}") from None


def prepare(recipe: Recipe, samples: list[dict[str, Any]], settings: Settings, source: dict[str, Any]) -> Prepared:
    """Check every sample's config (before any compilation) and plan the batches.

    `source` describes where the samples came from (sampling method, count, ...); it enters the
    fingerprint together with the samples themselves.
    """
    base_config = _base_config(recipe, settings)
    settings = dataclasses.replace(settings, compile_cache=compile_cache.resolve(settings.compile_cache))
    for sample_id, sample in enumerate(samples):
        check_sample(recipe, base_config, f"sample {sample_id}", sample)
    algo = recipe.algorithm
    structural = [k for k in flatten(base_config) if k not in algo.vectorized + algo.paddable]
    scheduler = make_scheduler(recipe, base_config, settings, source)
    env = make_env(base_config["env"])
    if settings.hparam_batch_size == "auto":
        configs = [config_for(base_config, s) for s in samples]
        size = fitting_batch_size(algo, base_config, env, configs, structural, settings, len(samples))
        settings = dataclasses.replace(settings, hparam_batch_size=size)
    splits = {}
    if settings.padding == "auto" and not (settings.group_by_structural_hparams or settings.sequential or scheduler.rule):
        splits = split_padding(algo, base_config, samples, structural, settings)
    clusters = [0] * len(samples)
    for split, ids in splits.values():
        for sample_id, cluster in zip(ids, split.cluster):
            clusters[sample_id] = cluster
    plan = make_plan(
        samples, structural, algo.paddable, settings.hparam_batch_size,
        settings.group_by_structural_hparams, settings.sequential, pools=scheduler.rule is not None, clusters=clusters,
    )
    extents = {}
    for structure, ids in members(plan).items():
        configs = [config_for(base_config, samples[i]) for i in ids]
        extents[structure] = algo.padded_extents(configs)
        check_sample(recipe, base_config, f"sample {ids[0]}", samples[ids[0]], env)
        _check_contract(algo, configs[0], env, extents[structure])
    recorded = {"source": source, "seed": settings.seed, "num_seeds": settings.num_seeds, "base_config": base_config}
    recorded["search"] = _searching(settings)
    return Prepared(
        recipe, settings, base_config, samples, plan, extents, fingerprint(samples, plan, recorded), len(samples),
        scheduler=scheduler, padding=tuple(split.summary(structure) for structure, (split, _) in splits.items()),
    )


def split_padding(
    algo: Any, base_config: dict[str, Any], samples: Sequence[dict[str, Any]], structural: Sequence[str],
    settings: Settings,
) -> dict[str, tuple[padding.Split, list[int]]]:
    """The cost model's split of each structure whose samples differ in paddable values, with its sample
    ids, priced with the costs of the platform the units train on (with --ray, the cluster's tasks')."""
    by_structure: dict[str, list[int]] = {}
    for sample_id, sample in enumerate(samples):
        by_structure.setdefault(structure_of(sample, structural), []).append(sample_id)
    splits, costs = {}, None
    for structure, ids in by_structure.items():
        if len({structure_of(samples[i], algo.paddable) for i in ids}) < 2 or algo.unit_cost is None:
            continue
        if costs is None:  # asked of a Ray cluster only when some structure needs a split
            costs = padding.costs(None if settings.ray == "off" else ray_batches().task_platform(settings))
        split = padding.split(algo, [config_for(base_config, samples[i]) for i in ids], costs)
        splits[structure] = (split, ids)
        log.info(
            "%d samples of one structure in %d padded unit(s): an estimated %.0fs, against %.0fs as one padded unit "
            "(costs measured on a %s)", len(ids), max(split.cluster) + 1, split.seconds_chosen, split.seconds_one_unit,
            costs.platform.upper(),
        )
    return splits


def _searching(settings: Settings) -> dict[str, Any]:
    """The settings of early stopping and PBT, which change results (they enter the fingerprint)."""
    names = ("early_stopping", "pruner", "grace_period", "reduction_factor", "max_budget", "pbt", "perturbation_interval",
             "quantile_fraction", "resample_probability", "perturbation_factors")
    return {name: getattr(settings, name) for name in names}


def make_scheduler(recipe: Recipe, base_config: dict[str, Any], settings: Settings, source: dict[str, Any]) -> Scheduler:
    """Early stopping (from the settings, or a W&B file's early_terminate in `source`), an Optuna
    pruner, or PBT; raises ValueError naming a bad argument."""
    training = base_config["training"]
    steps = milestones(training["total_timesteps"], training["num_evaluations"])
    wandb = source.get("early_terminate")
    if wandb is not None and not isinstance(wandb, dict):
        raise ValueError(f"early_terminate must be a mapping like {{type: hyperband, min_iter: 3}}, got {wandb!r}")
    sign = -1.0 if (source.get("metric") or {}).get("goal") == "minimize" else 1.0
    chosen = [flag for flag, on in (
        ("the W&B file's early_terminate", wandb is not None),
        (f"--early-stopping {settings.early_stopping}", settings.early_stopping != "none"),
        (f"--pruner {settings.pruner}", settings.pruner != "none"),
    ) if on]
    if len(chosen) > 1:
        raise ValueError(f"{chosen[0]} and {chosen[1]} both stop samples: choose one")
    rule = stopping.make_rule(
        settings.early_stopping, steps, settings.grace_period, settings.reduction_factor, settings.max_budget, sign,
        wandb, settings.pruner,
    )
    if rule is not None and settings.sequential:
        raise ValueError(f"{chosen[0]} refills the lanes of a batch; it does not go with --sequential")
    last = stopping.last_milestone(steps, settings.max_budget) if rule is not None else None
    if not settings.pbt:
        return Scheduler(rule, last)
    if rule is not None:
        raise ValueError(f"--pbt and {chosen[0]} do not go together: PBT's population keeps its lanes")
    if settings.sequential:
        raise ValueError("--pbt needs a population in each batch; it does not go with --sequential")
    algo = recipe.algorithm
    options = pbt.Options(
        perturbation_interval=steps[0] if settings.perturbation_interval is None else settings.perturbation_interval,
        quantile_fraction=settings.quantile_fraction,
        resample_probability=settings.resample_probability,
        perturbation_factors=tuple(settings.perturbation_factors),
        keys=tuple(k for k in recipe.distributions if k in algo.vectorized),
        distributions=dict(recipe.distributions),
    )
    pbt.check(options, steps)
    return Scheduler(None, None, options)


CORNER_LIMIT = 20_000  # structural x paddable combinations checked before a learning sampler starts


def _candidates(distribution: Distribution) -> list[Any]:
    """The values at a distribution's extremes: every value of a Categorical, else its lowest and highest."""
    if isinstance(distribution, Categorical):
        return list(distribution.values)
    return list(dict.fromkeys([distribution.from_unit(0.0), distribution.from_unit(1.0 - 1e-12)]))


def _combinations(distributions: dict[str, Distribution], keys: Sequence[str]) -> list[dict[str, Any]]:
    searched = [k for k in keys if k in distributions]
    return [dict(zip(searched, combo)) for combo in itertools.product(*(_candidates(distributions[k]) for k in searched))]


def prepare_asked(recipe: Recipe, settings: Settings, source: dict[str, Any]) -> Prepared:
    """A sweep whose samples a learning sampler asks batch by batch (`source`: sampling_method, num_samples).

    Before any work: the configs at the search space's extremes (every structural and paddable
    candidate, see `_candidates`) must include valid ones, every structure among them must fit the
    env (and a researcher's algorithm its contract), and `auto` sizes the batch for the largest.
    Paddable extents are fixed from those extremes, so each structure compiles once whatever the
    sampler asks. The fingerprint covers the source, the search space and the batching.
    """
    base_config = _base_config(recipe, settings)
    settings = dataclasses.replace(settings, compile_cache=compile_cache.resolve(settings.compile_cache))
    if settings.pbt or settings.ray != "off":
        raise ValueError(
            f"--sampling-method {source['sampling_method']} asks each batch after the last one's results; "
            f"{'--pbt' if settings.pbt else '--ray'} does not go with it yet (use qmc_sobol or random)"
        )
    scheduler = make_scheduler(recipe, base_config, settings, source)
    algo = recipe.algorithm
    distributions = recipe.distributions
    structural = [k for k in flatten(base_config) if k not in algo.vectorized + algo.paddable]
    corners = _combinations(distributions, algo.paddable)
    shapes = _combinations(distributions, structural)
    if len(corners) * len(shapes) > CORNER_LIMIT:
        raise ValueError(
            f"--sampling-method {source['sampling_method']}: the structural and paddable keys combine in "
            f"{len(corners) * len(shapes)} ways at their extremes, more than {CORNER_LIMIT} to check; fix some with --set"
        )
    middle = {k: d.from_unit(0.5) for k, d in distributions.items()}
    env = make_env(base_config["env"])
    valid, problems = [], []
    for shape in shapes:
        for corner in corners:
            sample = {**middle, **shape, **corner}
            try:
                check_sample(recipe, base_config, "the configuration", sample)
            except ValueError as err:
                problems.append(str(err))
            else:
                valid.append(sample)
    if not valid:
        raise ValueError(f"no configuration at the search space's extremes can run, e.g. {problems[0]}")
    by_structure = {structure_of(s, structural): s for s in valid}
    for sample in by_structure.values():
        check_sample(recipe, base_config, "the configuration", sample, env)
        config = config_for(base_config, sample)
        _check_contract(algo, config, env, algo.padded_extents([config]))
    if settings.hparam_batch_size == "auto":
        configs = [config_for(base_config, s) for s in valid]
        size = fitting_batch_size(algo, base_config, env, configs, structural, settings, source["num_samples"])
        settings = dataclasses.replace(settings, hparam_batch_size=size)
    recorded = {
        "source": source, "seed": settings.seed, "num_seeds": settings.num_seeds, "base_config": base_config,
        "distributions": {k: repr(d) for k, d in distributions.items()},
        "batching": [settings.hparam_batch_size, settings.group_by_structural_hparams, settings.sequential],
        "search": _searching(settings),
    }
    return Prepared(
        recipe, settings, base_config, [], [], {}, fingerprint([], [], recorded), source["num_samples"],
        source["sampling_method"], tuple(corners), scheduler,
    )


def fitting_batch_size(
    algo: Any, base_config: dict[str, Any], env: EnvSpec, configs: list[dict[str, Any]], structural: list[str],
    settings: Settings, num_samples: int,
) -> int:
    """The largest batch (of at most `num_samples`) whose memory estimate (its largest structure, padded
    to the extents of every given config) fits every device its lanes are sharded over (with --ray:
    those of a task, measured on a worker)."""
    extents = algo.padded_extents(configs)
    one_per_structure = {structure_of(flatten(c), structural): c for c in configs}
    per_lane = max(memory.lane_bytes(algo, c, env, extents) for c in one_per_structure.values())
    if settings.ray == "off":
        used = devices.resolve(settings.devices)
        free, count = memory.available_bytes(used), len(used)
    else:
        free, count = ray_batches().worker_memory(settings)
    size = memory.auto_batch_size(per_lane, settings.num_seeds, num_samples, free, count)
    log.info(
        "--hparam-batch-size auto: %d (%.1f MiB per lane x %d seeds, %.0f MiB available on each of %d device(s))",
        size, per_lane / memory.MiB, settings.num_seeds, free / memory.MiB, count,
    )
    return size


def cluster(settings: Settings) -> contextlib.AbstractContextManager:
    """Connected to the Ray cluster of --ray while inside (nothing to do without --ray)."""
    return contextlib.nullcontext() if settings.ray == "off" else ray_batches().connected(settings.ray)


def ray_batches():
    """The Ray driver module (run/ray_batches.py), imported only for --ray: Ray is an optional dependency."""
    try:
        from hyperlax.run import ray_batches as module
    except ModuleNotFoundError as err:
        if err.name != "ray":
            raise
        raise UserError("--ray needs Ray on this machine and every node: pip install 'hyperlax[ray]'") from None
    return module


def make_executor(prepared: Prepared) -> Executor:
    """An executor for the prepared sweep's algorithm, env, seeds and extents; jax caches what it compiles
    in the sweep's compile cache."""
    config = prepared.base_config
    settings = prepared.settings
    compile_cache.use(settings.compile_cache)
    return Executor(
        prepared.recipe.algorithm, config, make_env(config["env"]), settings.num_seeds, settings.seed,
        prepared.extents, settings.checkpoint_every, prepared.fingerprint, prepared.scheduler,
        devices.resolve(settings.devices),
    )


def versions() -> dict[str, str]:
    names = ("hyperlax", "jax", "jaxlib", "flax", "optax", "gymnax", "numpy", "scipy", "optuna")
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
            "machine": devices.machine(),
            "fingerprint": prepared.fingerprint,
            "num_samples": prepared.num_samples,
            # a learning sampler's batches are known only as it asks them
            "batches": None if prepared.method else [{"name": b.name, "sample_ids": list(b.sample_ids)} for b in prepared.plan],
            "sampler": prepared.method,
        },
    )
    store.write_samples_csv(root / "samples.csv", prepared.samples)


DEFAULT_METRIC = {"name": "final_return", "goal": "maximize"}


def objective(row: dict[str, Any], metric: dict[str, Any]) -> float:
    """The value a sample's trial is told: its metric, or with `history_extremum` (W&B's bayes) the
    best by the goal of its mean returns over the evaluation milestones (NaN if none is finite)."""
    if not metric.get("history_extremum"):
        return row[metric["name"]]
    finite = [r for r in row["milestone_returns"] if np.isfinite(r)]
    return float((max if metric["goal"] == "maximize" else min)(finite)) if finite else float("nan")


def finish_batch(search: Search | None, directory: Path, prepared: Prepared, metric: dict[str, Any], steps: list[int]) -> None:
    """Tell the study each sample's result from the finished batch in `directory` (once)."""
    if search is None:
        return
    for row in store.read_batch_results(directory):
        sample_id = row["sample_id"]
        search.finish(
            sample_id, prepared.samples[sample_id], objective(row, metric), list(zip(steps, row["milestone_returns"])),
            {"status": row["status"], "directory": row["directory"]},
        )


def _runnable_corners(prepared: Prepared, sample: dict[str, Any]) -> list[dict[str, Any]]:
    """The configs of `sample` with the paddable values of each of the space's extremes, those that can run."""
    configs = []
    for corner in prepared.corners:
        try:
            check_sample(prepared.recipe, prepared.base_config, "corner", {**sample, **corner})
        except ValueError:
            continue
        configs.append(config_for(prepared.base_config, {**sample, **corner}))
    return configs


class Asked:
    """The samples of a learning sampler: asked round by round, and one at a time for a pool's refills.

    Sample ids follow the journal's trials: on resume the journal's trials come back in the order
    they were asked, so a resumed sweep takes the samples an uninterrupted one asks. An asked
    config that cannot run is a failed trial (with a warning) and trains in no lane. A structure's
    extents are set when it first appears, from the space's extremes (`prepared.corners`) with the
    structural values of its samples.
    """

    def __init__(self, root: Path, prepared: Prepared, search: Search, executor: Executor):
        self.root, self.prepared, self.search, self.executor = root, prepared, search, executor
        self.journal = search.asked()
        self.env = make_env(prepared.base_config["env"])
        self.seen: dict[str, list[dict[str, Any]]] = {}  # structure -> the configs its extents cover
        prepared.samples.clear()

    def _next(self, fixed: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]] | None:
        """The next sample that can run (the journal's, else a new ask with the `fixed` values), or
        None once the sweep has all its samples."""
        samples = self.prepared.samples
        while len(samples) < self.prepared.num_samples:
            sample_id = len(samples)
            samples.append(self.journal[sample_id] if sample_id < len(self.journal) else self.search.ask(1, fixed)[0])
            store.write_samples_csv(self.root / "samples.csv", samples)
            try:
                check_sample(self.prepared.recipe, self.prepared.base_config, f"sample {sample_id}", samples[sample_id], self.env)
            except ValueError as err:
                log.warning("%s; a failed trial, not trained", err)
                self.search.finish(sample_id, samples[sample_id], None, [], {"status": "invalid", "problem": str(err)})
                continue
            return sample_id, samples[sample_id]
        return None

    def more(self, structure: str) -> tuple[int, dict[str, Any]] | None:
        """A further sample for a pool of `structure`: asked with its structural values fixed (and its
        paddable ones, when units are grouped by them), so it runs in the pool's compiled function."""
        prepared = self.prepared
        keys = list(prepared.structural)
        if prepared.settings.group_by_structural_hparams:  # units are grouped by their paddable values too
            keys += prepared.recipe.algorithm.paddable
        like = next(s for s in prepared.samples if structure_of(s, keys) == structure)
        while (found := self._next({k: like[k] for k in keys if k in like})) is not None:
            config = config_for(prepared.base_config, found[1])
            if prepared.recipe.algorithm.padded_extents([*self.seen[structure], config]) == prepared.extents[structure]:
                return found
            problem = f"sample {found[0]} lies beyond the array sizes its pool compiled with"  # only where an extreme cannot run
            log.warning("%s; a failed trial, not trained", problem)
            self.search.finish(found[0], found[1], None, [], {"status": "invalid", "problem": problem})
        return None

    def taken(self, sample_ids: Sequence[int]) -> None:
        """A finished batch skipped on resume took these samples: later ones come after them."""
        self.prepared.samples.extend(self.journal[len(self.prepared.samples) : max(sample_ids) + 1])

    def batches(self) -> Iterator[Batch]:
        """Each round's batches, a round asking as many samples as a batch has lanes, until the sweep
        has its number of samples; the caller runs and tells a round's batches before the next round
        is asked."""
        prepared = self.prepared
        settings = prepared.settings
        most_lanes = min(settings.hparam_batch_size, prepared.num_samples)
        exact = settings.group_by_structural_hparams or settings.sequential  # no padding: extents of the samples
        while len(prepared.samples) < prepared.num_samples:
            runnable = dict(filter(None, (self._next() for _ in range(min(most_lanes, prepared.num_samples - len(prepared.samples))))))
            if not runnable:
                continue
            batches = plan_round(
                runnable, prepared.structural, prepared.recipe.algorithm.paddable, most_lanes,
                sum(b.name.startswith("batch_") for b in prepared.plan), settings.group_by_structural_hparams,
                settings.sequential, pools=prepared.scheduler.rule is not None,
            )
            for unit in (u for b in batches for u in b.units):
                configs = self.seen.setdefault(unit.structure, [])
                if not configs and not exact:  # the space's extremes with this structure, those that can run
                    configs.extend(_runnable_corners(prepared, prepared.samples[unit.sample_ids[0]]))
                configs.extend(config_for(prepared.base_config, prepared.samples[i]) for i in unit.sample_ids)
                wanted = prepared.recipe.algorithm.padded_extents(configs)
                if prepared.extents.get(unit.structure, wanted) != wanted:
                    log.warning("sample %d lies beyond the extents of its structure: compiling it again", unit.sample_ids[0])
                    self.executor.forget(unit.structure)
                prepared.extents[unit.structure] = wanted
            prepared.plan.extend(batches)
            yield from batches


def execute(
    root: Path,
    prepared: Prepared,
    console: Console | None = None,
    metric: dict[str, Any] | None = None,
    search: Search | None = None,
) -> dict[str, Any]:
    """Run every unfinished batch, then write results.csv and summary.json; returns the summary.

    The progress bar counts env steps (each sample's milestones reached, over its seeds) over the
    sweep's total, with the best return so far. The summary ranks the best configurations by
    `metric` ({name: final_return or best_return, goal: maximize or minimize}), by default the
    highest final return; diverged samples are left out of the ranking. `search`, the sweep's
    study, is told every sample's result as its batch lands (`objective`); a learning sampler's
    sweep (`prepared.method`) needs it, to ask its batches.
    """
    console = console or Console(stderr=True)
    metric = metric or DEFAULT_METRIC
    started = time.perf_counter()
    training = prepared.base_config["training"]
    steps = milestones(training["total_timesteps"], training["num_evaluations"])
    keys = list(prepared.samples[0]) if prepared.samples else list(prepared.recipe.distributions)
    done = sum(store.is_complete(root / "samples" / b.name) for b in prepared.plan)
    if done:
        log.info("resuming: %d of %d batches already finished, skipping them", done, len(prepared.plan))
    skipped = 0
    per_sample = steps[-1] * prepared.settings.num_seeds
    finished = store.collect_results(root)
    best = Best(metric["goal"], [r[metric["name"]] for r in finished])
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f} env steps"),
        TextColumn("best {task.fields[best]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(
            "batches", total=per_sample * prepared.num_samples, completed=per_sample * len(finished), best=best.text()
        )

        def advance(env_steps: int, returns: np.ndarray, description: str | None = None) -> None:
            """Count `env_steps` more; `returns`: samples' mean returns at a milestone they reached."""
            best.update(returns)
            progress.update(task, advance=env_steps, best=best.text(), description=description)

        def on_segment(segment: Segment) -> None:
            """Progress, and each evaluation reported to its sample's running trial."""
            advance(segment.budget, segment.returns.mean(axis=1))
            if search is not None:
                for sample_id, env_steps, returns in zip(segment.sample_ids, segment.env_steps, segment.returns):
                    search.report(sample_id, env_steps, float(np.mean(returns)))

        def hooks(batch: Batch) -> Hooks:
            """A sample's trial is told as it ends; a pool's further samples are asked from the sampler."""

            def on_end(sample_id: int, status: str, curve: list[float]) -> None:
                if search is not None:
                    row = store.curve_summary(curve)
                    search.finish(
                        sample_id, prepared.samples[sample_id], objective(row, metric), list(zip(steps, curve)),
                        {"status": status, "directory": batch.name},
                    )

            return Hooks(on_segment, on_end, asked.more if prepared.method else None)

        if prepared.settings.ray != "off":
            todo = [b for b in prepared.plan if not store.is_complete(root / "samples" / b.name)]
            skipped = len(prepared.plan) - len(todo)
            work = ray_batches().run_batches(root, prepared, todo, advance)
            for batch in prepared.plan:
                finish_batch(search, root / "samples" / batch.name, prepared, metric, steps)
        else:
            work = make_executor(prepared)
            asked = Asked(root, prepared, search, work) if prepared.method else None
            if not asked:
                todo = [b for b in prepared.plan if not store.is_complete(root / "samples" / b.name)]
                work.compile_ahead([(u, [prepared.samples[i] for i in u.sample_ids]) for b in todo for u in b.units])
            try:
                for batch in asked.batches() if asked else prepared.plan:
                    directory = root / "samples" / batch.name
                    if store.is_complete(directory):
                        skipped += 1
                        if asked:
                            asked.taken(store.batch_sample_ids(directory))
                        # if a kill came before the study heard
                        finish_batch(search, directory, prepared, metric, steps)
                        continue
                    if store.discard_incomplete(directory):
                        log.warning("%s had no success.txt: discarded (its checkpoint kept), running it again", batch.name)
                    progress.update(task, description=f"{batch.name} ({len(batch.sample_ids)} samples)")
                    run_batch(work, batch, prepared.samples, directory, hooks(batch))
                    finish_batch(search, directory, prepared, metric, steps)
                    if not prepared.settings.keep_checkpoints:
                        store.remove_checkpoint(directory)
                    store.write_results_csv(root, store.collect_results(root), keys)
            finally:
                work.close()  # a failed sweep leaves no step compiling ahead
    rows = store.collect_results(root)
    store.write_results_csv(root, rows, keys)
    if prepared.scheduler.pbt is not None:
        store.write_lineage_csv(root)
    summary = summarize(rows, work, time.perf_counter() - started, len(prepared.plan), skipped, metric)
    summary["env_steps_full_budget"] = per_sample * prepared.num_samples
    summary["padding"] = list(prepared.padding)
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
    hooks: Hooks = Hooks(),
) -> None:
    """Run the batch's units and write its directory (a pool's further samples included); the
    later units' programs compile while the first trains, unless the executor has them already."""
    start = time.perf_counter()
    executor.compile_ahead([(unit, [samples[i] for i in unit.sample_ids]) for unit in batch.units])
    compiles, env_steps, slots = executor.compile_count, executor.env_steps, executor.slots
    returns, status, steps, params, lineage, sample_ids, units = [], [], [], {}, [], [], []
    for unit in batch.units:
        result = executor.run_unit(unit, [samples[i] for i in unit.sample_ids], directory, hooks)
        sample_ids.extend(result.sample_ids)
        units.append({
            "sample_ids": result.sample_ids, "lanes": unit.lanes, "extents": executor.extents[unit.structure],
            "devices": executor.sharding(unit).count,
        })
        returns.append(result.output.returns)
        status.extend(result.output.status)
        steps.extend(int(s.sum()) for s in result.output.env_steps)
        lineage.extend(result.lineage)
        leaves = params_by_leaf(result.output.params)
        for row, sample_id in enumerate(result.sample_ids):  # structures differ in shape: one entry per sample
            params.update({f"sample_{sample_id}/{name}": leaf[row] for name, leaf in leaves.items()})
    info = {
        "wall_s": round(time.perf_counter() - start, 3),
        "compiles": executor.compile_count - compiles,
        "env_steps": executor.env_steps - env_steps,
        "padding_fraction": round(1.0 - (executor.env_steps - env_steps) / (executor.slots - slots), 4),
        "devices": max(u["devices"] for u in units),
        "status": {str(i): s for i, s in zip(sample_ids, status)},
        "env_steps_per_sample": {str(i): s for i, s in zip(sample_ids, steps)},
        "units": units,
    }
    store.write_batch(
        directory, {i: samples[i] for i in sample_ids}, np.concatenate(returns), executor.milestones, params,
        info, lineage,
    )
    stopped = sum(s == "stopped" for s in status)
    log.info(
        "%s done: %d samples (%d stopped early) in %.1fs, %.0f%% of lane-steps padding",
        batch.name, len(sample_ids), stopped, info["wall_s"], 100 * info["padding_fraction"],
    )


def summarize(
    rows: list[dict[str, Any]], executor: Any, wall_s: float, num_batches: int, skipped: int, metric: dict[str, str]
) -> dict[str, Any]:
    """The summary; `executor` counts the work (compile_count, compile_s, compile_wait_s,
    segments_run, env_steps, slots): the local Executor, or the Ray tasks' totals."""
    sign = -1.0 if metric["goal"] == "maximize" else 1.0
    ranked = sorted(
        (r for r in rows if r["status"] == "finished"),
        key=lambda r: (bool(np.isnan(r[metric["name"]])), sign * r[metric["name"]]),
    )
    return {
        "num_finished_samples": len(rows),
        "num_diverged_samples": sum(r["status"] == "diverged" for r in rows),
        "num_stopped_samples": sum(r["status"] == "stopped" for r in rows),
        "env_steps": sum(int(r["env_steps"] or 0) for r in rows),
        "num_batches": num_batches,
        "batches_skipped_on_resume": skipped,
        "compile_count": executor.compile_count,
        "compile_cache_hits": executor.compile_cache_hits,
        "compile_s": round(executor.compile_s, 3),
        "compile_wait_s": round(executor.compile_wait_s, 3),
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
