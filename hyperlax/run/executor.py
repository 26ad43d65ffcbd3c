"""Runs units on compiled train functions: one compilation per structure and lane count.

A unit runs lanes x seeds trainings under one vmap named LANES (sample-major: the seeds of a
sample are adjacent), and its outputs are reshaped to [lanes, seeds, ...]. Each training's key is
fold_in(fold_in(PRNGKey(seed), sample_id), seed_index), computed inside the compiled function
from the sample ids, so a lane's result does not depend on its batch or position. A structure's
array sizes (`extents`, the largest paddable values among the sweep's samples of that structure)
are fixed when it compiles. Padded lanes repeat the last real sample and are dropped from the
output.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hyperlax.algos.common import LANES, TrainOutput
from hyperlax.config import flatten, merge, unflatten
from hyperlax.envs import EnvSpec
from hyperlax.plan import Unit
from hyperlax.run.memory import MiB, OutOfMemoryError, is_out_of_memory

log = logging.getLogger("hyperlax")


def lane_key(seed: jax.Array, sample_id: jax.Array, seed_index: jax.Array) -> jax.Array:
    """The key of one (sample, seed) lane; shared by batched and sequential runs."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), sample_id), seed_index)


def config_for(base_config: dict[str, Any], sample: dict[str, Any]) -> dict[str, Any]:
    """The nested config of one sample: the recipe defaults with its values set."""
    return merge(base_config, unflatten(sample))


def leaf_name(path: tuple) -> str:
    return "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)


class UnitResult(NamedTuple):
    output: TrainOutput  # numpy leaves [samples, seeds, ...], padded lanes dropped
    env_steps: int  # env steps the unit's samples took
    slots: int  # env-step slots computed by all its lanes, padded lanes included


class Executor:
    """Compiles and caches train functions and runs units on them; counts compilations."""

    def __init__(
        self,
        algo: ModuleType,
        base_config: dict[str, Any],
        env: EnvSpec,
        num_seeds: int,
        seed: int,
        extents: dict[str, dict[str, int]],
    ):
        """`extents` maps each unit structure to the array sizes it compiles with."""
        self.algo, self.base_config, self.env = algo, base_config, env
        self.num_seeds, self.seed, self.extents = num_seeds, seed, extents
        self.compiled: dict[tuple[str, int], Any] = {}
        self.compile_count = 0
        self.compile_s = 0.0
        self.env_steps = 0  # over every unit run, for the sweep's padding fraction
        self.slots = 0

    def _inputs(self, samples: Sequence[dict[str, Any]], sample_ids: Sequence[int], lanes: int):
        padded = list(range(len(samples))) + [len(samples) - 1] * (lanes - len(samples))
        configs = [flatten(config_for(self.base_config, samples[i])) for i in padded]
        hparams = {k: jnp.asarray([c[k] for c in configs], jnp.float32) for k in self.algo.VECTORIZED}
        hparams.update({k: jnp.asarray([c[k] for c in configs], jnp.int32) for k in self.algo.PADDABLE})
        ids = jnp.asarray([sample_ids[i] for i in padded], jnp.int32)
        return hparams, ids, jnp.int32(self.seed)

    def _compile(self, unit: Unit, config: dict[str, Any], args) -> Any:
        key = (unit.structure, unit.lanes)
        if key not in self.compiled:
            extents = self.extents[unit.structure]
            estimate = unit.lanes * self.num_seeds * self.algo.lane_bytes(config, self.env, extents)
            log.info("compiling for %d lanes x %d seeds, memory estimate %.0f MiB", unit.lanes, self.num_seeds, estimate / MiB)
            train = self.algo.make_train(config, self.env, extents)
            seeds = self.num_seeds

            def lanes_fn(hparams, sample_ids, seed):
                repeat = lambda x: jnp.repeat(x, seeds, axis=0)
                seed_indices = jnp.tile(jnp.arange(seeds), sample_ids.shape[0])
                keys = jax.vmap(lane_key, in_axes=(None, 0, 0))(seed, repeat(sample_ids), seed_indices)
                output = jax.vmap(train, axis_name=LANES)(jax.tree.map(repeat, hparams), keys)
                return jax.tree.map(lambda x: x.reshape((-1, seeds) + x.shape[1:]), output)

            start = time.perf_counter()
            compiled = jax.jit(lanes_fn).lower(*args).compile()
            self.compile_s += time.perf_counter() - start
            self.compile_count += 1
            stats = compiled.memory_analysis()
            if stats is not None:
                needs = stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
                log.info("compiled in %.1fs; XLA plans %.0f MiB", time.perf_counter() - start, needs / MiB)
            self.compiled[key] = compiled
        return self.compiled[key]

    def run_unit(self, unit: Unit, samples: Sequence[dict[str, Any]]) -> UnitResult:
        """Train the unit's samples (given in unit.sample_ids order).

        A unit that runs out of memory is split into two units of half the lanes, each run (and
        split again if need be) on its own; its samples' results do not change.
        """
        try:
            return self._run(unit, samples)
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
            self.run_unit(Unit(unit.structure, unit.sample_ids[i : i + lanes], lanes), samples[i : i + lanes])
            for i in range(0, len(samples), lanes)
        ]
        return UnitResult(
            output=jax.tree.map(lambda *xs: np.concatenate(xs), *(p.output for p in parts)),
            env_steps=sum(p.env_steps for p in parts),
            slots=sum(p.slots for p in parts),
        )

    def _run(self, unit: Unit, samples: Sequence[dict[str, Any]]) -> UnitResult:
        args = self._inputs(samples, unit.sample_ids, unit.lanes)
        compiled = self._compile(unit, config_for(self.base_config, samples[0]), args)
        output = jax.device_get(compiled(*args))
        n = len(samples)
        result = UnitResult(
            output=jax.tree.map(lambda x: np.asarray(x)[:n], output),
            env_steps=int(np.sum(output.env_steps[:n], dtype=np.int64)),
            slots=int(np.sum(output.slots, dtype=np.int64)),
        )
        self.env_steps += result.env_steps
        self.slots += result.slots
        return result


def params_by_leaf(params: Any) -> dict[str, np.ndarray]:
    """Parameter leaves by their path name ("actor/params/Dense_0/kernel")."""
    return {leaf_name(path): leaf for path, leaf in jax.tree_util.tree_leaves_with_path(params)}
