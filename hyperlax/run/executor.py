"""Runs units as loops of segments on compiled step functions: one compilation per structure and lane count.

A unit runs lanes x seeds trainings under one vmap named LANES (sample-major: the seeds of a
sample are adjacent). Its compiled step re-initialises the lanes marked fresh (`init`, inside a
branch that runs only when some lane is fresh), then advances every lane to the next milestone
(`advance`), so the same program starts, continues and refills lanes. The lane states stay on the
device between steps; only each segment's metrics come back. Each training's key is
fold_in(fold_in(PRNGKey(seed), sample_id), seed_index), so a lane's result does not depend on its
batch or position. A structure's array sizes (`extents`, the largest paddable values among the
sweep's samples of that structure) are fixed when it compiles. Padded lanes repeat the last real
sample and are dropped from the output. A lane whose parameters or evaluation become non-finite
is diverged: its returns are NaN from that milestone on; the other lanes are unaffected.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hyperlax.algos.common import LANES, any_lane, milestones, select
from hyperlax.algos.interface import Algorithm, Segments, lane_hparams
from hyperlax.config import flatten, merge, unflatten
from hyperlax.envs import EnvSpec
from hyperlax.plan import Unit
from hyperlax import store
from hyperlax.run import checkpoint, compile_cache
from hyperlax.errors import OutOfMemoryError
from hyperlax.run.memory import MiB, is_out_of_memory

log = logging.getLogger("hyperlax")


def lane_key(seed: jax.Array, sample_id: jax.Array, seed_index: jax.Array) -> jax.Array:
    """The key of one (sample, seed) lane; shared by batched and sequential runs."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), sample_id), seed_index)


def config_for(base_config: dict[str, Any], sample: dict[str, Any]) -> dict[str, Any]:
    """The nested config of one sample: the recipe defaults with its values set."""
    return merge(base_config, unflatten(sample))


class LaneOutput(NamedTuple):
    """A unit's results, numpy leaves [samples, seeds, ...], padded lanes dropped."""

    params: Any  # network parameters after the last segment
    opt_state: Any  # optimizer states after the last segment
    returns: np.ndarray  # [samples, seeds, milestones]; NaN from a diverged lane's first non-finite one
    env_steps: np.ndarray  # [samples, seeds] env steps each lane took
    diverged: np.ndarray  # [samples, seeds] whether the lane's parameters or returns became non-finite


class UnitResult(NamedTuple):
    output: LaneOutput
    env_steps: int  # env steps the unit's samples took
    slots: int  # env-step slots computed by all its lanes, padded lanes included


class Segment(NamedTuple):
    """What the host learns after each segment of a unit (for progress and checkpoints)."""

    index: int  # milestone index just reached
    returns: np.ndarray  # [samples, seeds] at that milestone, real lanes only


def all_finite(tree: Any) -> jax.Array:
    """Whether every floating-point value of `tree` is finite (a scalar)."""
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.floating)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.bool_(True)


class Executor:
    """Compiles and caches step functions and runs units on them; counts compilations."""

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
    ):
        """`extents` maps each unit structure to the array sizes it compiles with; every
        `checkpoint_every` segments (0: never) a unit's lanes are saved under its batch directory,
        tagged with the sweep's `fingerprint`."""
        self.algo, self.base_config, self.env = algo, base_config, env
        self.num_seeds, self.seed, self.extents = num_seeds, seed, extents
        self.checkpoint_every, self.fingerprint = checkpoint_every, fingerprint
        training = base_config["training"]
        self.milestones = milestones(training["total_timesteps"], training["num_evaluations"])
        self.compiled: dict[tuple[str, int], Any] = {}
        self.compile_count = 0
        self.compile_s = 0.0
        self.compile_cache_hits = 0  # compilations loaded from jax's persistent compilation cache
        self.env_steps = 0  # over every unit run, for the sweep's padding fraction
        self.slots = 0
        self.segments_run = 0  # compiled steps called, over every unit

    def _inputs(self, samples: Sequence[dict[str, Any]], sample_ids: Sequence[int], lanes: int):
        """Per lane x seed: traced hyperparameters and keys (padded lanes repeat the last sample)."""
        padded = list(range(len(samples))) + [len(samples) - 1] * (lanes - len(samples))
        configs = [flatten(config_for(self.base_config, samples[i])) for i in padded for _ in range(self.num_seeds)]
        ids = jnp.asarray([sample_ids[i] for i in padded for _ in range(self.num_seeds)], jnp.int32)
        seed_indices = jnp.tile(jnp.arange(self.num_seeds), lanes)
        keys = jax.vmap(lane_key, in_axes=(None, 0, 0))(jnp.int32(self.seed), ids, seed_indices)
        return lane_hparams(self.algo, configs), keys

    def _compile(self, unit: Unit, config: dict[str, Any], hparams, keys) -> tuple[Any, Any]:
        """The unit's compiled step and the shapes of its lanes' state."""
        key = (unit.structure, unit.lanes)
        if key not in self.compiled:
            extents = self.extents[unit.structure]
            if self.algo.lane_bytes is not None:
                estimate = unit.lanes * self.num_seeds * self.algo.lane_bytes(config, self.env, extents)
                log.info("compiling for %d lanes x %d seeds, memory estimate %.0f MiB", unit.lanes, self.num_seeds, estimate / MiB)
            segments = self.algo.make_segments(config, self.env, extents)
            shapes = jax.eval_shape(jax.vmap(segments.init, axis_name=LANES), hparams, keys)
            fresh = jax.ShapeDtypeStruct(keys.shape[:1], jnp.bool_)
            start, hits = time.perf_counter(), compile_cache.hits()
            compiled = jax.jit(lane_step(segments), donate_argnums=0).lower(shapes, hparams, keys, fresh, jnp.int32(0)).compile()
            self.compile_s += time.perf_counter() - start
            self.compile_count += 1
            self.compile_cache_hits += int(compile_cache.hits() > hits)
            stats = compiled.memory_analysis()
            if stats is not None:
                needs = stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
                log.info(
                    "compiled in %.1fs%s; XLA plans %.0f MiB", time.perf_counter() - start,
                    " (from the compile cache)" if compile_cache.hits() > hits else "", needs / MiB,
                )
            self.compiled[key] = (compiled, shapes)
        return self.compiled[key]

    def run_unit(
        self,
        unit: Unit,
        samples: Sequence[dict[str, Any]],
        directory: Path | None = None,
        on_segment: Callable[[Segment], None] | None = None,
    ) -> UnitResult:
        """Train the unit's samples (given in unit.sample_ids order), segment by segment.

        With a batch `directory`, the unit continues from its checkpoint there (when it matches)
        and checkpoints as configured. A unit that runs out of memory is split into two units of
        half the lanes, each run (and split again if need be) on its own; its samples' results do
        not change.
        """
        try:
            return self._run(unit, samples, directory, on_segment)
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
        parts = [
            self.run_unit(
                Unit(unit.structure, unit.sample_ids[i : i + lanes], lanes), samples[i : i + lanes], directory, on_segment
            )
            for i in range(0, len(samples), lanes)
        ]
        return UnitResult(
            output=jax.tree.map(lambda *xs: np.concatenate(xs), *(p.output for p in parts)),
            env_steps=sum(p.env_steps for p in parts),
            slots=sum(p.slots for p in parts),
        )

    def _run(self, unit: Unit, samples, directory: Path | None, on_segment) -> UnitResult:
        hparams, keys = self._inputs(samples, unit.sample_ids, unit.lanes)
        step, shapes = self._compile(unit, config_for(self.base_config, samples[0]), hparams, keys)
        num_lanes, num_segments = keys.shape[0], len(self.milestones)
        header = {
            "fingerprint": self.fingerprint, "sample_ids": list(unit.sample_ids), "lanes": unit.lanes,
            "num_seeds": self.num_seeds, "milestones": self.milestones,
        }
        path = checkpoint.path_of(directory, unit.sample_ids, unit.lanes) if directory is not None else None
        restored = checkpoint.load(path, header, shapes) if path is not None else None
        if restored is None:  # every lane starts fresh (init inside the first step)
            state = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
            record, done = checkpoint.Record.empty(num_lanes, num_segments), 0
        else:
            state, record, done = restored
            log.info("%s: continuing from its checkpoint after segment %d of %d", directory.name, done, num_segments)
        fresh = jnp.full(num_lanes, done == 0)
        saved = done  # segments in the unit's checkpoint
        n = len(samples) * self.num_seeds  # real lanes
        for index in range(done, num_segments):
            state, metrics, finite = step(state, hparams, keys, fresh, jnp.int32(self.milestones[index]))
            fresh = jnp.zeros(num_lanes, bool)
            self.segments_run += 1
            episode_return, finite, env_steps, slots = jax.device_get(
                (metrics.episode_return, finite, metrics.env_steps, metrics.slots)
            )
            record.diverged_at[(record.diverged_at < 0) & ~finite] = index
            record.returns[:, index] = np.where(record.diverged_at >= 0, np.nan, episode_return)
            record.env_steps[:] = env_steps
            record = record._replace(slots=record.slots + np.sum(slots, dtype=np.int64))
            if on_segment is not None:
                on_segment(Segment(index, record.returns[:n, index].reshape(len(samples), self.num_seeds)))
            if directory is None:
                continue
            progress = {"segments_done": index + 1, "env_steps_per_lane": record.env_steps[:n].tolist()}
            if self.checkpoint_every and (index + 1) % self.checkpoint_every == 0:
                checkpoint.save(path, {**header, **progress}, jax.device_get(state), record)
                saved = index + 1
            store.write_json(directory / "progress.json", {
                "sample_ids": list(unit.sample_ids), "num_segments": num_segments, **progress,
                "returns": record.returns[:n, index].tolist(), "checkpoint_segments_done": saved,
            })
        final = jax.device_get((state["params"], state.get("opt_state")))
        per_sample = lambda x: np.asarray(x)[:n].reshape((len(samples), self.num_seeds) + np.shape(x)[1:])
        output = LaneOutput(
            params=jax.tree.map(per_sample, final[0]),
            opt_state=jax.tree.map(per_sample, final[1]),
            returns=per_sample(record.returns),
            env_steps=per_sample(record.env_steps),
            diverged=per_sample(record.diverged_at >= 0),
        )
        result = UnitResult(output, int(np.sum(record.env_steps[:n], dtype=np.int64)), int(record.slots))
        self.env_steps += result.env_steps
        self.slots += result.slots
        return result


def lane_step(segments: Segments) -> Callable:
    """The unit's step `(state, hparams, keys, fresh, until) -> (state, metrics, finite)` over lanes:
    lanes marked fresh start anew from `init`, then every lane advances to `until` env steps."""

    def one_lane(state, hparams, key, fresh, until):
        state = jax.lax.cond(
            any_lane(fresh), lambda: select(fresh, segments.init(hparams, key), state), lambda: state
        )
        state, metrics = segments.advance(state, hparams, until)
        return state, metrics, all_finite(state["params"]) & jnp.isfinite(metrics.episode_return)

    def step(state, hparams, keys, fresh, until):
        return jax.vmap(one_lane, in_axes=(0, 0, 0, 0, None), axis_name=LANES)(state, hparams, keys, fresh, until)

    return step


def params_by_leaf(params: Any) -> dict[str, np.ndarray]:
    """Parameter leaves by their path name ("actor/params/Dense_0/kernel")."""
    return {checkpoint.leaf_name(path): leaf for path, leaf in jax.tree_util.tree_leaves_with_path(params)}
