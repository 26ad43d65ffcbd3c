"""Runs units as loops of segments on compiled programs: one compilation per structure and lane count.

A unit runs lanes x seeds trainings under one vmap named LANES (sample-major: the seeds of a
sample are adjacent). A compilation gives four programs over the lanes (`Programs`), compiled
side by side: `start` re-initialises the lanes marked fresh (`init`), `advance` takes every lane
to its next milestone, `score` evaluates the lanes there, and with PBT `copy` gives lanes the state
of others. Each step of a unit runs `copy` and `start` when some lane needs them, then `advance`
and `score`, so the same programs start, continue and refill lanes. The lane states stay on the
device between steps; only each segment's metrics come back. Each training's key is
fold_in(fold_in(PRNGKey(seed), sample_id), seed_index), so a lane's result does not depend on its
batch or position. A structure's array sizes (`extents`, the largest paddable values among the
sweep's samples of that structure) are fixed when it compiles. Told the units to come
(`compile_ahead`), it compiles their programs on a background thread while earlier units train.
Padded lanes repeat the last real sample and are dropped from the output; over several devices
the lanes split into a group per device (run/devices.py), padded to split evenly. A lane whose
parameters or evaluation become non-finite is diverged: its returns are NaN from that milestone on;
the other lanes are unaffected. The caller hears each segment's evaluations and each sample's end
(`Hooks`), and may give a pool further samples as its lanes free.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hyperlax.algos.common import LANES, milestones
from hyperlax.algos.interface import Algorithm, Segments, lane_hparams
from hyperlax.config import flatten, merge, unflatten
from hyperlax.envs import EnvSpec
from hyperlax.plan import Unit
from hyperlax import store
from hyperlax.run import checkpoint, compile_cache, pbt
from hyperlax.run.devices import LaneSharding, LaneThreads, copy_lanes, lanes_over, padded_lanes
from hyperlax.run.pool import DIVERGED, FINISHED, RUNNING, STOPPED, Pool
from hyperlax.errors import OutOfMemoryError
from hyperlax.run.memory import MiB, is_out_of_memory

log = logging.getLogger("hyperlax")


def lane_key(seed: jax.Array, sample_id: jax.Array, seed_index: jax.Array) -> jax.Array:
    """The key of one (sample, seed) lane; shared by batched and sequential runs."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), sample_id), seed_index)


# Compiled once per shape: applied op by op, these would compile a small program per operation.
lane_keys = jax.jit(jax.vmap(lane_key, in_axes=(None, 0, 0)))
take_lanes = jax.jit(copy_lanes)


def config_for(base_config: dict[str, Any], sample: dict[str, Any]) -> dict[str, Any]:
    """The nested config of one sample: the recipe defaults with its values set."""
    return merge(base_config, unflatten(sample))


class LaneOutput(NamedTuple):
    """A unit's results, numpy leaves [samples, seeds, ...], padded lanes dropped."""

    params: Any  # network parameters after the sample's last segment
    opt_state: Any  # optimizer states after the sample's last segment
    returns: np.ndarray  # [samples, seeds, milestones]; NaN where not reached (stopped) or diverged
    env_steps: np.ndarray  # [samples, seeds] env steps each lane took
    status: list[str]  # per sample: finished, stopped or diverged


class UnitResult(NamedTuple):
    output: LaneOutput
    sample_ids: list[int]  # the samples of `output`: the unit's, then those a pool took on
    env_steps: int  # env steps the unit's samples took
    slots: int  # env-step slots computed by all its lanes, padded lanes included
    lineage: list[dict[str, Any]]  # PBT's decisions (empty without PBT)


class Segment(NamedTuple):
    """What the host learns after each step of a unit (for progress and checkpoints)."""

    budget: int  # env steps of the sweep's budget settled by this step (taken, or given up by a stop), over seeds
    returns: np.ndarray  # [samples, seeds]: the evaluations this step recorded
    sample_ids: list[int]  # their samples
    env_steps: list[int]  # the milestone each reached


class Hooks(NamedTuple):
    """What the caller hears from a running unit, and where a pool's further samples come from."""

    on_segment: Callable[[Segment], None] | None = None
    on_end: Callable[[int, str, list[float]], None] | None = None  # sample id, status, its mean returns so far
    more: Callable[[str], tuple[int, dict[str, Any]] | None] | None = None  # structure -> a further (id, sample)


class Scheduler(NamedTuple):
    """How a unit decides between steps: early stopping and population-based training (both optional)."""

    rule: Any = None  # a run/stopping.py rule, or None
    last: int | None = None  # the milestone index where a sample finishes (default: the last)
    pbt: pbt.Options | None = None
    replay: list[tuple[int, dict[str, float]]] | None = None  # (first segment, values): one sample's PBT schedule


@contextlib.contextmanager
def collector_paused():
    """Python's cyclic garbage collector paused, if it runs, for the duration (a decorator too): each
    of its full collections scans every object that jax and the libraries made (about 0.15 s on a
    2-core CPU), and tracing a unit's programs set off two of them on the build's critical path. The
    few cycles a build leaves are collected after it."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def all_finite(tree: Any) -> jax.Array:
    """Whether every floating-point value of `tree` is finite (a scalar): one check over the
    leaves joined, not one compiled kernel per leaf."""
    leaves = [x.ravel() for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.floating)]
    return jnp.all(jnp.isfinite(jnp.concatenate(leaves))) if leaves else jnp.bool_(True)


class Executor:
    """Compiles and caches programs and runs units on them; counts compilations."""

    def __init__(
        self,
        algo: Algorithm,
        base_config: dict[str, Any],
        env: EnvSpec,
        num_seeds: int,
        seed: int,
        extents: dict[str, dict[str, int]],
        checkpoint_every: int = 0,
        fingerprint: str = "",
        scheduler: Scheduler = Scheduler(),
        devices: Sequence[jax.Device] = (),
    ):
        """`extents` maps each unit structure to the array sizes it compiles with; every
        `checkpoint_every` segments (0: never) a unit's lanes are saved under its batch directory,
        tagged with the sweep's `fingerprint`; a unit's lanes are split over as many of `devices`
        (default: the first local device) as it has lanes."""
        self.algo, self.base_config, self.env = algo, base_config, env
        self.num_seeds, self.seed, self.extents = num_seeds, seed, extents
        self.checkpoint_every, self.fingerprint = checkpoint_every, fingerprint
        self.devices = list(devices) or jax.local_devices()[:1]
        training = base_config["training"]
        self.milestones = milestones(training["total_timesteps"], training["num_evaluations"])
        self.scheduler = scheduler
        self.last = len(self.milestones) - 1 if scheduler.last is None else scheduler.last
        self.compiled: dict[tuple[str, int], Any] = {}
        self.ahead: dict[tuple[str, int], Future] = {}  # programs compiling on the background thread
        self.compiler: ThreadPoolExecutor | None = None
        self.compile_count = 0
        self.compile_s = 0.0  # compiling, on either thread
        self.compile_wait_s = 0.0  # units waiting for their programs to compile
        self.compile_cache_hits = 0  # compilations loaded from jax's persistent compilation cache
        self.env_steps = 0  # over every unit run, for the sweep's padding fraction
        self.slots = 0
        self.segments_run = 0  # steps (advance calls), over every unit

    def _hparams(self, samples: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
        """Each sample's traced hyperparameters: numpy arrays [samples] by key."""
        configs = [flatten(config_for(self.base_config, sample)) for sample in samples]
        return lane_hparams(self.algo, configs)

    def inputs(self, samples: Sequence[dict[str, Any]], sample_ids: Sequence[int], lanes: int):
        """Per lane: traced hyperparameters and keys of a unit's first step (lanes past the samples
        repeat the last one, as padding)."""
        padded = [min(j, len(samples) - 1) for j in range(lanes)]
        per_lane = lambda v: np.repeat(v[padded], self.num_seeds)  # noqa: E731
        return jax.tree.map(per_lane, self._hparams(samples)), self._keys([sample_ids[i] for i in padded])

    def _keys(self, sample_ids: Sequence[int]) -> jax.Array:
        """The keys of the lanes of the given samples (num_seeds lanes each)."""
        ids = np.repeat(np.asarray(sample_ids, np.int32), self.num_seeds)
        seed_indices = np.tile(np.arange(self.num_seeds, dtype=np.int32), len(sample_ids))
        return lane_keys(np.int32(self.seed), ids, seed_indices)

    def forget(self, structure: str) -> None:
        """Drop the structure's compiled functions (its extents changed)."""
        self.compiled = {key: value for key, value in self.compiled.items() if key[0] != structure}
        for key in [key for key in self.ahead if key[0] == structure]:
            self.ahead.pop(key).cancel()

    def sharding(self, unit: Unit) -> LaneSharding | LaneThreads:
        """The devices the unit's lanes are split over: as many as it has lanes, at most all."""
        return lanes_over(self.devices, unit.lanes * self.num_seeds)

    def compile_ahead(self, units: Sequence[tuple[Unit, Sequence[dict[str, Any]]]]) -> None:
        """Compile, in order on a background thread, the programs these units (with their samples)
        will need: a unit trains while the next one's programs compile, and waits only for those
        not ready."""
        self.compiler = self.compiler or ThreadPoolExecutor(1, thread_name_prefix="hyperlax-compile")
        for unit, samples in units:
            key = (unit.structure, unit.lanes)
            if key not in self.compiled and key not in self.ahead:
                self.ahead[key] = self.compiler.submit(self._build, unit, samples, unit.sample_ids)

    def close(self) -> None:
        """Drop the programs not yet compiled ahead (those compiling finish first)."""
        if self.compiler is not None:
            self.compiler.shutdown(wait=True, cancel_futures=True)
            self.compiler, self.ahead = None, {}

    def _compile(
        self, unit: Unit, samples: Sequence[dict[str, Any]], sample_ids: Sequence[int]
    ) -> tuple[Programs, Any]:
        """The unit's compiled programs and the shapes of its lanes' state (compiled ahead, or now)."""
        key = (unit.structure, unit.lanes)
        if key not in self.compiled:
            start = time.perf_counter()
            pending = self.ahead.pop(key, None)
            built = pending.result() if pending else self._build(unit, samples, sample_ids)
            programs, shapes, seconds, from_cache = built
            self.compile_wait_s += time.perf_counter() - start
            self.compile_s += seconds
            self.compile_count += 1
            self.compile_cache_hits += int(from_cache)
            self.compiled[key] = (programs, shapes)
        return self.compiled[key]

    @collector_paused()
    def _build(
        self, unit: Unit, samples: Sequence[dict[str, Any]], sample_ids: Sequence[int]
    ) -> tuple[Programs, Any, float, bool]:
        """Trace, lower and compile the unit's programs (for its first sample's config, on lanes
        padded to split evenly over its devices): them, its lanes' state shapes, the seconds it took
        and whether every program came from the compile cache.

        `start` compiles on a helper thread while `advance`, the largest, traces and lowers here; then
        `score` (and `copy`) trace, lower and compile there while `advance` compiles here, the longest
        step: tracing holds Python's interpreter, and a compile does not."""
        sharding = self.sharding(unit)
        config = config_for(self.base_config, samples[0])
        lanes = padded_lanes(unit.lanes, self.num_seeds, sharding.count)
        hparams, keys = jax.eval_shape(lambda: self.inputs(samples, sample_ids, lanes))  # shapes only
        extents = self.extents[unit.structure]
        segments = self.algo.make_segments(config, self.env, extents)
        shapes = jax.eval_shape(jax.vmap(segments.init, axis_name=LANES), hparams, keys)
        fresh, until, source = (jax.ShapeDtypeStruct(keys.shape[:1], dtype) for dtype in (jnp.bool_, jnp.int32, jnp.int32))
        once = ONCE if self.devices[0].platform == "cpu" else None
        start = time.perf_counter()
        with ThreadPoolExecutor(1, thread_name_prefix="hyperlax-compile-start") as helper:
            begin = helper.submit(_compiled, sharding.jit(lane_start(segments), 4).lower(shapes, hparams, keys, fresh), once)
            lowered = sharding.jit(lane_advance(segments), 3).lower(shapes, hparams, until)
            score = sharding.jit(lane_score(segments), 1, donate=False)
            scoring = helper.submit(lambda: _compiled(score.lower(shapes), once))  # lowered while `advance` compiles
            copies = None  # no copy program without PBT
            if self.scheduler.pbt is not None:
                copies = helper.submit(lambda: _compiled(sharding.jit_copy().lower(shapes, source), once))
            estimate = None  # taken while `advance` compiles: it traces `init`
            if self.algo.lane_bytes is not None:
                estimate = helper.submit(self._log_estimate, config, extents, keys.shape[0], sharding.count)
            advance = _compiled(lowered)
            parts = [begin.result(), advance, scoring.result(), copies.result() if copies else (None, True)]
            if estimate is not None:
                estimate.result()
        programs = Programs(*(program for program, _ in parts))
        seconds, from_cache = time.perf_counter() - start, all(hit for _, hit in parts)
        stats = programs.advance.memory_analysis()
        if stats is not None:
            needs = stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
            log.info(
                "compiled in %.1fs%s; XLA plans %.0f MiB per device", seconds,
                " (from the compile cache)" if from_cache else "", needs / MiB,
            )
        return programs, shapes, seconds, from_cache

    def _log_estimate(self, config: dict[str, Any], extents: dict[str, int], lanes: int, devices: int) -> None:
        """Log the memory a unit of `lanes` lanes over `devices` devices is estimated to need."""
        per_device = lanes // devices * self.algo.lane_bytes(config, self.env, extents)
        log.info(
            "compiling for %d lanes x %d seeds on %d device(s), memory estimate %.0f MiB per device",
            lanes // self.num_seeds, self.num_seeds, devices, per_device / MiB,
        )

    def run_unit(
        self,
        unit: Unit,
        samples: Sequence[dict[str, Any]],
        directory: Path | None = None,
        hooks: Hooks = Hooks(),
    ) -> UnitResult:
        """Train the unit's samples (given in unit.sample_ids order), segment by segment.

        With a batch `directory`, the unit continues from its checkpoint there (when it matches)
        and checkpoints as configured. A unit that runs out of memory is split into two units of
        half the lanes, each run (and split again if need be) on its own; its samples' results do
        not change. With early stopping, `hooks.more` gives the samples that a pool's slots take
        on once the unit's own are all started (a learning sampler's asks).
        """
        try:
            return self._run(unit, samples, directory, hooks)
        except Exception as error:  # only out-of-memory errors are retried
            if not is_out_of_memory(error):
                raise
            if unit.lanes == 1:
                raise OutOfMemoryError(
                    f"one lane of sample {unit.sample_ids[0]} does not fit in memory ({error}); lower its "
                    "num_envs, buffer_size, batch or network sizes, or run on a device with more memory. "
                    "Finished batches are kept: continue with --resume-from <the sweep directory>."
                ) from None
        lanes = (unit.lanes + 1) // 2
        log.warning("out of memory with %d lanes: retrying as units of %d lanes", unit.lanes, lanes)
        if len(unit.sample_ids) > unit.lanes:  # a pool: the same samples taken in turn by fewer lanes
            return self.run_unit(Unit(unit.structure, unit.sample_ids, lanes), samples, directory, hooks)
        parts = [
            self.run_unit(
                Unit(unit.structure, unit.sample_ids[i : i + lanes], lanes), samples[i : i + lanes], directory, hooks
            )
            for i in range(0, len(samples), lanes)
        ]
        return UnitResult(
            output=LaneOutput(
                *(jax.tree.map(lambda *xs: np.concatenate(xs), *(p.output[k] for p in parts)) for k in range(4)),
                status=[s for p in parts for s in p.output.status],
            ),
            sample_ids=[i for p in parts for i in p.sample_ids],
            env_steps=sum(p.env_steps for p in parts),
            slots=sum(p.slots for p in parts),
            lineage=[row for p in parts for row in p.lineage],
        )

    def _run(self, unit: Unit, samples, directory: Path | None, hooks: Hooks) -> UnitResult:
        seeds = self.num_seeds
        slots = padded_lanes(unit.lanes, seeds, self.sharding(unit).count)  # slots of seeds lanes each
        ids, samples = list(unit.sample_ids), list(samples)  # a pool's grow as it takes on further samples
        table = self._hparams(samples)  # per sample
        record = None

        def more() -> bool:
            """Take on a further sample from `hooks.more`, if it has one (only a pool does)."""
            nonlocal record
            found = hooks.more(unit.structure) if hooks.more is not None and self.scheduler.rule is not None else None
            if found is None:
                return False
            ids.append(found[0])
            samples.append(found[1])
            table.update(self._hparams(samples))
            if record is not None:
                record = record.grown(seeds)
            return True

        while len(samples) < slots and more():  # a pool fills its slots before it starts
            pass
        lanes_of = lambda slot: np.arange(slot * seeds, (slot + 1) * seeds)  # noqa: E731
        header = {
            "fingerprint": self.fingerprint, "sample_ids": list(unit.sample_ids), "lanes": slots,
            "num_seeds": seeds, "milestones": self.milestones,
        }
        pool = Pool.start(len(samples), slots)
        hparams = {k: v[pool.occupant] for k, v in table.items()}  # per slot; PBT changes its rows
        keyed = [ids[max(i, 0)] for i in pool.occupant]  # the samples `keys` are for
        keys = self._keys(keyed)  # (the first unit's call compiles `lane_keys` while its programs compile ahead)
        programs, shapes = self._compile(unit, samples, ids)
        path = checkpoint.path_of(directory, unit.sample_ids, unit.lanes) if directory is not None else None
        per_seeds = lambda s: jax.ShapeDtypeStruct((seeds,) + s.shape[1:], s.dtype)  # noqa: E731
        like_final = jax.tree.map(per_seeds, (shapes["params"], shapes.get("opt_state")))
        restored = checkpoint.load(path, header, shapes, like_final) if path is not None else None
        finals: dict[int, Any] = {}  # per sample that ended: its (params, opt_state), [seeds, ...] leaves
        lineage: list[dict[str, Any]] = []
        source = np.arange(slots * seeds)
        rule = copy.deepcopy(self.scheduler.rule)  # each unit decides over its own samples only
        settled = 0  # env steps (over seeds) of the unit's budget taken or given up by a stop
        if restored is None:  # every lane starts fresh (`start` before the first advance)
            state = jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes)
            record, done = checkpoint.Record.empty(len(samples) * seeds, len(self.milestones)), 0
            if self.scheduler.pbt is not None:
                lineage = self._lineage_start(unit, samples, hparams)
        else:
            while len(ids) < len(host_ids := restored[3]["sample_ids"]) and more():  # the samples it had taken on
                pass
            if ids != host_ids:
                raise RuntimeError(f"{path}: the pool had taken on samples {host_ids}, now offered {ids}")
            state, record, done, host, finals = restored
            pool = Pool.from_json(host["pool"])
            hparams = {k: np.asarray(v, table[k].dtype) for k, v in host["hparams"].items()}
            lineage, source, settled = host["lineage"], np.asarray(host["source"]), host["settled"]
            if rule is not None:
                rule.restore(host["rule"])
            log.info("%s: continuing from its checkpoint after step %d", directory.name, done)
        saved = done
        while pool.busy():
            for first, values in self.scheduler.replay or ():
                if first == pool.progress[0]:
                    for key, value in values.items():
                        hparams[key][:] = value
            until = [self.milestones[p] if pool.training(j) else 0 for j, p in enumerate(pool.progress)]
            occupants = [ids[max(i, 0)] for i in pool.occupant]
            if occupants != keyed:  # the keys change only when a slot takes on a sample
                keyed, keys = occupants, self._keys(occupants)
            lane_values = jax.tree.map(lambda v: np.repeat(v, seeds), hparams)
            if np.any(source != np.arange(slots * seeds)):
                state = programs.copy(state, source.astype(np.int32))
            if any(pool.fresh):  # the keys from the host: a device's array would compile a program to split them over devices
                state = programs.start(state, lane_values, np.asarray(keys), np.repeat(pool.fresh, seeds))
            state, progress, finite = programs.advance(state, lane_values, np.repeat(np.asarray(until, np.int32), seeds))
            episode_return, finite, env_steps, slot_steps = jax.device_get(
                (programs.score(state), finite, progress.env_steps, progress.slots)
            )
            finite = finite & np.isfinite(episode_return)
            self.segments_run += 1
            done += 1
            pool.fresh = [False] * slots
            source = np.arange(slots * seeds)
            record = record._replace(slots=record.slots + np.sum(slot_steps, dtype=np.int64))
            reached = []  # samples that reached a milestone in this step, in slot order
            for slot in range(slots):
                if not pool.training(slot):
                    continue
                index, pool.progress[slot] = pool.progress[slot], pool.progress[slot] + 1
                if not pool.primary(slot):
                    continue
                sample = pool.occupant[slot]
                rows, lanes = sample * seeds + np.arange(seeds), lanes_of(slot)
                record.diverged_at[rows[(record.diverged_at[rows] < 0) & ~finite[lanes]]] = index
                record.returns[rows, index] = np.where(record.diverged_at[rows] >= 0, np.nan, episode_return[lanes])
                record.env_steps[rows] = env_steps[lanes]
                pool.reached[sample] = index + 1
                reached.append((sample, slot, index))
            budget, ending, curves = self._decide(pool, record, reached, rule)
            learned = (state["params"], state.get("opt_state"))
            every = bool(ending) and len(ending) == sum(map(pool.primary, range(slots)))
            if every:  # the unit's usual end: one copy of all its lanes, and no gather to compile
                learned = jax.device_get(learned)
            for sample, slot, status in ending:  # keep their final state and report them before their slots move on
                lanes = lanes_of(slot)
                finals[sample] = jax.tree.map(lambda x: x[lanes], learned) if every else jax.device_get(take_lanes(learned, lanes))
                if hooks.on_end is not None:
                    hooks.on_end(ids[sample], status, curves[sample])
            for sample, _, status in ending:
                if pool.next_sample == len(pool.status) and more():
                    pool.add()
                pool.end(sample, status)
                for j, held in enumerate(pool.occupant):
                    if pool.fresh[j] and held >= 0:
                        for key in hparams:
                            hparams[key][j] = table[key][held]
            if self.scheduler.pbt is not None and reached:
                self._exploit(pool, curves, reached[0][2], hparams, unit, source, lineage)
            settled += budget * seeds
            if hooks.on_segment is not None and reached:
                returns = np.stack([record.returns[s * seeds : (s + 1) * seeds, i] for s, _, i in reached])
                hooks.on_segment(Segment(
                    budget * seeds, returns, [ids[s] for s, _, _ in reached], [self.milestones[i] for _, _, i in reached]
                ))
            if directory is None:
                continue
            progress = {"segments_done": done, "env_steps_per_lane": record.env_steps.tolist()}
            if self.checkpoint_every and done % self.checkpoint_every == 0:
                host = {
                    "pool": pool.to_json(), "hparams": {k: v.tolist() for k, v in hparams.items()},
                    "lineage": lineage, "source": source.tolist(), "settled": settled, "sample_ids": ids,
                    "rule": None if rule is None else rule.state(),
                }
                checkpoint.save(path, {**header, **progress, "host": host}, jax.device_get(state), record, finals)
                saved = done
            store.write_json(directory / "progress.json", {
                "sample_ids": ids, "num_segments": len(self.milestones), **progress,
                "status": dict(zip(map(str, ids), pool.status)), "env_steps_settled": settled,
                "returns": [record.returns[s * seeds : (s + 1) * seeds, i].tolist() for s, _, i in reached],
                "checkpoint_segments_done": saved,
            })
        n = len(samples)
        per_sample = lambda x: np.asarray(x).reshape((n, seeds) + np.shape(x)[1:])  # noqa: E731
        final = jax.tree.map(lambda *xs: np.stack(xs), *(finals[i] for i in range(n)))
        output = LaneOutput(
            params=final[0], opt_state=final[1], returns=per_sample(record.returns),
            env_steps=per_sample(record.env_steps), status=list(pool.status),
        )
        result = UnitResult(output, ids, int(np.sum(record.env_steps, dtype=np.int64)), int(record.slots), lineage)
        self.env_steps += result.env_steps
        self.slots += result.slots
        return result

    def _decide(self, pool, record, reached, rule) -> tuple[int, list[tuple[int, int, str]], dict[int, list[float]]]:
        """Which samples that reached a milestone end here, finished, diverged or stopped: the budget
        (env steps per seed) this step settled, the (sample, slot, status) that end, and every
        sample's mean returns so far."""
        seeds = self.num_seeds
        curves = {
            s: np.mean(record.returns[s * seeds : (s + 1) * seeds, : pool.reached[s]], axis=0).tolist()
            for s in range(len(pool.status)) if pool.reached[s]
        }
        budget, ending = 0, []
        for sample, slot, index in sorted(reached):
            rows = sample * seeds + np.arange(seeds)
            budget += self.milestones[index] - (self.milestones[index - 1] if index else 0)
            if (record.diverged_at[rows] >= 0).any():
                ending.append((sample, slot, DIVERGED))
            elif index >= self.last:
                ending.append((sample, slot, FINISHED))
            elif rule is not None and rule.stops(sample, curves):
                ending.append((sample, slot, STOPPED))
        for sample, _, status in ending:
            if status != FINISHED:
                budget += self.milestones[self.last] - self.milestones[pool.reached[sample] - 1]
        return budget, ending, curves

    def _lineage_start(self, unit, samples, hparams) -> list[dict[str, Any]]:
        keys = self.scheduler.pbt.keys
        return [
            {"interval": 0, "env_steps": 0, "sample_id": unit.sample_ids[i], "parent_id": unit.sample_ids[i],
             "from_segment": 0, "return": float("nan"), **{k: float(hparams[k][i]) for k in keys}}
            for i in range(len(samples))
        ]

    def _exploit(self, pool, curves, index, hparams, unit, source, lineage) -> None:
        """PBT at an interval: bottom samples copy a top sample's lanes and hyperparameters, then explore."""
        settings = self.scheduler.pbt
        intervals = pbt.intervals(settings, self.milestones)
        if index not in intervals:
            return
        members = [s for s in range(len(pool.status)) if pool.status[s] == RUNNING]
        slot_of = {pool.occupant[j]: j for j in reversed(range(len(pool.occupant))) if pool.occupant[j] >= 0}
        values = [curves[s][index] for s in members]
        current = [{k: float(hparams[k][slot_of[s]]) for k in settings.keys} for s in members]
        interval = intervals.index(index) + 1
        exploits = pbt.step(settings, values, current, self.seed, unit.sample_ids[0], interval)
        parents = {members[e.child]: members[e.parent] for e in exploits}
        explored = {members[e.child]: e.hyperparams for e in exploits}
        seeds = self.num_seeds
        for child, parent in parents.items():
            for j, held in enumerate(pool.occupant):
                if held != child:
                    continue
                for key in hparams:
                    hparams[key][j] = hparams[key][slot_of[parent]]
                for key, value in explored[child].items():
                    hparams[key][j] = value
                source[j * seeds : (j + 1) * seeds] = slot_of[parent] * seeds + np.arange(seeds)
        for k, s in enumerate(members):
            lineage.append({
                "interval": interval, "env_steps": self.milestones[index], "sample_id": unit.sample_ids[s],
                "parent_id": unit.sample_ids[parents.get(s, s)], "from_segment": index + 1, "return": values[k],
                **{key: float(hparams[key][slot_of[s]]) for key in settings.keys},
            })


class Programs(NamedTuple):
    """A structure's compiled programs for one lane count (all but `score` donate the lanes' state)."""

    start: Any  # (state, hparams, keys, fresh) -> state: the lanes marked fresh start anew (`lane_start`)
    advance: Any  # (state, hparams, until) -> (state, progress, finite): every lane to its `until` (`lane_advance`)
    score: Any  # state -> returns: each lane's evaluation where it is (`lane_score`)
    copy: Any  # (state, source) -> state: each lane takes lane `source`'s state (PBT only; else None)


# XLA options for the CPU programs besides `advance` (`start`, `score`, `copy`), each a small share of
# a unit's time: compiled for compile speed (XLA's older elemental emitters, about 30% less CPU, the
# same numbers) on one thread, leaving the other cores to `advance`, which traces meanwhile. jaxlib
# 0.11 has no option for the elemental emitters: there they keep only the one thread.
ONCE = {"xla_cpu_parallel_codegen_split_count": 1}
if jax.__version_info__ < (0, 11):
    ONCE["xla_cpu_use_fusion_emitters"] = False


def _compiled(lowered: Any, options: dict[str, Any] | None = None) -> tuple[Any, bool]:
    """Compile on this thread (with these XLA options): the program and whether it came from jax's
    compile cache."""
    hits = compile_cache.hits()
    return lowered.compile(compiler_options=options), compile_cache.hits() > hits


def lane_start(segments: Segments) -> Callable:
    """`(state, hparams, keys, fresh) -> state` over lanes: the lanes marked fresh start anew from
    `init`, written into the (donated) state in place; the others keep theirs.

    A loop over the lanes, each under a `cond`: a kept lane runs no `init`, no lane's state is
    copied, and `init` runs lane by lane, not vmapped (a batched LAPACK call, the QR of an orthogonal
    init, deadlocks jaxlib 0.10's CPU thread pool when several CPU programs run it at once). The
    barrier keeps XLA from fusing `init` into the write, where it rounds a few values (SAC's critic
    kernels) an ulp away from a lane started alone."""

    def start(state, hparams, keys, fresh):
        def start_lane(i, state):
            def begin(state):
                new = jax.lax.optimization_barrier(segments.init(jax.tree.map(lambda h: h[i], hparams), keys[i]))
                return jax.tree.map(lambda old, value: jax.lax.dynamic_update_index_in_dim(old, value, i, 0), state, new)

            return jax.lax.cond(fresh[i], begin, lambda state: state, state)

        return jax.lax.fori_loop(0, keys.shape[0], start_lane, state)

    return start


def lane_advance(segments: Segments) -> Callable:
    """`(state, hparams, until) -> (state, progress, finite)` over lanes: every lane advances to its
    own `until` env steps; `finite` is false for a lane whose parameters are not."""

    def advance(state, hparams, until):
        state, progress = segments.advance(state, hparams, until)
        return state, progress, all_finite(state["params"])

    return jax.vmap(advance, axis_name=LANES)


def lane_score(segments: Segments) -> Callable:
    """`state -> returns` over lanes: each lane's `score`."""
    return jax.vmap(segments.score, axis_name=LANES)


def params_by_leaf(params: Any) -> dict[str, np.ndarray]:
    """Parameter leaves by their path name ("actor/params/Dense_0/kernel")."""
    return {checkpoint.leaf_name(path): leaf for path, leaf in jax.tree_util.tree_leaves_with_path(params)}
