"""Batches as Ray tasks (`--ray ADDRESS`): the driver schedules them, the workers train and write them.

Each unfinished batch of the plan becomes one task that asks for `--devices` GPUs (all: 1) where
the cluster has GPUs, else for one CPU. A task builds an executor for the sweep on its worker's
devices (its GPUs, or one CPU device; a CPU worker keeps it for its next batch of the same sweep, a
GPU task gets a fresh process; workers share compiled programs through the persistent JAX cache
when JAX_COMPILATION_CACHE_DIR is set, which the driver passes on to them), discards what an
earlier attempt left half-written (keeping its checkpoint), trains the batch and writes its
directory itself, success.txt last: the output root must be on a filesystem that every node shares.
A task lost with its worker or node is retried (RETRIES times), from the batch's checkpoint; an
attempt lost after writing success.txt is not redone, so each sample is recorded exactly once. The
driver holds the sweep's lock like any runner, counts progress from each running batch's
progress.json, and rewrites results.csv as batches finish; if it dies, its tasks end with it, and
--resume-from continues the sweep.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np
import ray

from hyperlax import store
from hyperlax.algos import load_algorithm
from hyperlax.algos.common import milestones
from hyperlax.envs import make_env
from hyperlax.errors import SweepError, UserError
from hyperlax.plan import Batch
from hyperlax.run import memory
from hyperlax.run.executor import Executor, Hooks, Scheduler, Segment
from hyperlax.run.loop import Prepared, Settings, run_batch

log = logging.getLogger("hyperlax")
RETRIES = 3  # attempts after the first, for a task lost with its worker or node
POLL_S = 1.0  # how often the driver reads the running batches' progress
FORWARDED = ("JAX_COMPILATION_CACHE_DIR",)  # environment variables the driver gives the tasks
# an executor's work counters
COUNTS = ("compile_count", "compile_cache_hits", "compile_s", "compile_wait_s", "segments_run", "env_steps", "slots")
# Tests only: a marker file; the first task to reach a second segment creates it and kills its own worker.
KILL_WORKER_ONCE = "HYPERLAX_TEST_KILL_WORKER_ONCE"


class Job(NamedTuple):
    """What a task needs to train one batch into its directory."""

    directory: str  # absolute: the workers' working directories differ from the driver's
    batch: Batch
    samples: dict[int, dict[str, Any]]  # the batch's samples by sample_id
    recipe_folder: str  # where a module path in algorithm.name is relative to
    base_config: dict[str, Any]
    extents: dict[str, dict[str, int]]
    settings: Settings
    fingerprint: str
    scheduler: Scheduler  # early stopping and PBT


@dataclasses.dataclass
class Totals:
    """The work of every task, summed (the counters of the summary)."""

    compile_count: int = 0
    compile_cache_hits: int = 0
    compile_s: float = 0.0
    compile_wait_s: float = 0.0
    segments_run: int = 0
    env_steps: int = 0
    slots: int = 0

    def add(self, counts: dict[str, float]) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + counts[name])


@contextlib.contextmanager
def connected(address: str) -> Iterator[None]:
    """Connected to the Ray cluster at `address` (auto, local or an address) while inside; a process
    already connected (`ray.init` called before) keeps its connection."""
    if ray.is_initialized():
        yield
        return
    env_vars = {name: os.environ[name] for name in FORWARDED if name in os.environ}
    try:
        with warnings.catch_warnings():  # jax warns of any fork; Ray's are fork + exec, which is safe
            warnings.filterwarnings("ignore", "os.fork", RuntimeWarning)
            ray.init(address=address, include_dashboard=False, runtime_env={"env_vars": env_vars} if env_vars else None)
    except ConnectionError as err:
        raise SweepError(
            f"--ray {address}: no Ray cluster there ({err}). Start one with `ray start --head` (and "
            "`ray start --address HEAD:6379` on the other machines), or run with --ray local."
        ) from None
    try:
        yield
    finally:
        ray.shutdown()


def _gpus() -> list[float]:
    """The GPUs of each live node of the connected cluster."""
    return [node["Resources"].get("GPU", 0) for node in ray.nodes() if node["Alive"]]


def task_platform(settings: Settings) -> str:
    """The platform a batch's task trains on: gpu on a cluster with GPUs, else cpu."""
    with connected(settings.ray):
        return "gpu" if any(_gpus()) else "cpu"


def resources(settings: Settings) -> dict[str, int]:
    """What each task asks for: --devices GPUs (all: 1) on a cluster with GPUs, else one CPU."""
    gpus = _gpus()
    wanted = 1 if settings.devices == "all" else settings.devices
    if not any(gpus):
        if wanted > 1:
            log.warning("the Ray cluster has no GPUs: a batch runs on one CPU; --devices %d is not used", wanted)
        return {"num_cpus": 1}
    if wanted > max(gpus):
        raise SweepError(
            f"--devices {wanted}: each batch's task would ask for {wanted} GPUs, but no node "
            f"of the Ray cluster has more than {max(gpus):g}; ask for at most that many"
        )
    return {"num_gpus": wanted}


def task_devices() -> list[jax.Device]:
    """The devices of this worker's task: its GPUs, or one CPU device (a CPU task has one core)."""
    devices = jax.local_devices()
    return devices[:1] if devices[0].platform == "cpu" else devices


def _free_memory() -> tuple[int, int]:
    devices = task_devices()
    return memory.available_bytes(devices), len(devices)


def worker_memory(settings: Settings) -> tuple[int, int]:
    """Free bytes per device, and the device count, of a worker as a batch's task gets it."""
    with connected(settings.ray):
        return ray.get(ray.remote(**resources(settings))(_free_memory).remote())


_executors: dict[str, Executor] = {}  # in a worker: the executor of the sweep it ran a batch of last


def _executor(job: Job) -> Executor:
    if job.fingerprint not in _executors:
        _executors.clear()
        settings, config = job.settings, job.base_config
        _executors[job.fingerprint] = Executor(
            load_algorithm(config["algorithm"]["name"], Path(job.recipe_folder)), config, make_env(config["env"]),
            settings.num_seeds, settings.seed, job.extents, settings.checkpoint_every, job.fingerprint,
            job.scheduler, task_devices(),
        )
    return _executors[job.fingerprint]


def _kill_hook() -> Callable[[Segment], None] | None:
    """Tests only (KILL_WORKER_ONCE set): SIGKILL this worker at a second segment, once over every task."""
    marker = os.environ.get(KILL_WORKER_ONCE)
    if not marker:
        return None

    seen = []

    def on_segment(segment: Segment) -> None:
        seen.append(segment)
        if len(seen) < 2:
            return
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os.kill(os.getpid(), signal.SIGKILL)

    return on_segment


def train_batch(job: Job) -> dict[str, float]:
    """A task: train the job's batch into its directory; the work it took (COUNTS)."""
    directory = Path(job.directory)
    if store.is_complete(directory):  # an earlier attempt wrote it, then was lost
        return dict.fromkeys(COUNTS, 0)
    if store.discard_incomplete(directory):
        log.warning("%s: discarded what an earlier attempt left (its checkpoint kept), running it again", directory.name)
    executor = _executor(job)
    before = {name: getattr(executor, name) for name in COUNTS}
    run_batch(executor, job.batch, job.samples, directory, Hooks(on_segment=_kill_hook()))
    if not job.settings.keep_checkpoints:
        store.remove_checkpoint(directory)
    return {name: getattr(executor, name) - before[name] for name in COUNTS}


def job_of(root: Path, prepared: Prepared, batch: Batch) -> Job:
    structures = {unit.structure for unit in batch.units}
    return Job(
        directory=str(root.resolve() / "samples" / batch.name),
        batch=batch,
        samples={i: prepared.samples[i] for i in batch.sample_ids},
        recipe_folder=str(Path(prepared.recipe.algo_path).parent),
        base_config=prepared.base_config,
        extents={s: e for s, e in prepared.extents.items() if s in structures},
        settings=prepared.settings,
        fingerprint=prepared.fingerprint,
        scheduler=prepared.scheduler,
    )


def run_batches(
    root: Path, prepared: Prepared, todo: Sequence[Batch], advance: Callable[[int, np.ndarray, str | None], None]
) -> Totals:
    """Run the `todo` batches as Ray tasks, rewriting results.csv as each finishes; the tasks' work.

    `advance(env_steps, returns, description)` is told the env steps the batches take (per segment,
    read from their progress.json) and the samples' mean returns at a milestone reached.
    """
    settings = prepared.settings
    training = prepared.base_config["training"]
    steps = milestones(training["total_timesteps"], training["num_evaluations"])
    keys = list(prepared.samples[0])
    totals = Totals()
    if not todo:
        return totals
    with connected(settings.ray):
        asks = resources(settings)
        # Declared with its resources, a GPU task runs in a fresh worker process each time (Ray's
        # max_calls=1), as it must: jax keeps the GPUs that the process first saw.
        task = ray.remote(**asks, max_retries=RETRIES)(train_batch)
        running = {task.remote(job_of(root, prepared, batch)): batch for batch in todo}
        counted: dict[str, dict[int, int]] = {b.name: {} for b in todo}  # env steps counted, per unit of a batch
        log.info("%d batches sent to Ray, each task asking for %s", len(todo), asks)
        try:
            while running:
                done, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S)
                for ref in done:
                    batch = running.pop(ref)
                    totals.add(_result(ref, batch, root))
                    rows = store.read_batch_results(root / "samples" / batch.name)
                    total = steps[-1] * settings.num_seeds * len(batch.sample_ids)
                    left = total - sum(counted.pop(batch.name).values())
                    advance(left, np.asarray([r["final_return"] for r in rows]), None)
                    store.write_results_csv(root, store.collect_results(root), keys)
                for batch in running.values():
                    directory = root / "samples" / batch.name
                    _count_progress(directory, counted[batch.name], advance)
                finished = len(todo) - len(running)
                advance(0, np.asarray([]), f"Ray: {finished}/{len(todo)} batches done, {len(running)} queued or running")
        except BaseException:
            for ref in running:
                ray.cancel(ref, force=True)
            raise
    return totals


def _result(ref: ray.ObjectRef, batch: Batch, root: Path) -> dict[str, float]:
    """The task's work counters; its error if it failed, a SweepError if it was lost too often."""
    try:
        counts = ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        if isinstance(err.cause, (UserError, ValueError)):  # e.g. a lane that does not fit its device
            raise err.cause from None
        raise
    except ray.exceptions.RayError as err:
        raise SweepError(
            f"{batch.name}: its task was lost {RETRIES + 1} times ({type(err).__name__}: {err}). Finished batches "
            f"are kept: continue with --resume-from {root}."
        ) from None
    if not store.is_complete(root / "samples" / batch.name):
        raise SweepError(
            f"{batch.name}: its task finished, but {root / 'samples' / batch.name / store.SUCCESS} is not there on "
            "this machine: put --output-root on a filesystem that every node of the cluster shares"
        )
    return counts


def _count_progress(
    directory: Path, counted: dict[int, int], advance: Callable
) -> None:
    """Tell `advance` the env steps a running batch took since last counted (its progress.json)."""
    try:
        progress = store.read_json(directory / "progress.json")
    except (OSError, ValueError):  # not started yet
        return
    ids = progress["sample_ids"]
    reached = progress["env_steps_settled"]
    if reached > counted.get(ids[0], 0):
        returns = np.asarray([np.mean(r) for r in progress["returns"]], dtype=float)
        advance(reached - counted.get(ids[0], 0), returns, None)
        counted[ids[0]] = reached
