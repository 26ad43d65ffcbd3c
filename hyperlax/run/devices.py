"""The local devices a sweep runs on, and a unit's lanes split over them.

`--devices all|N` takes the first N local devices of the default backend (all by default; on a CPU,
hyperlax/__init__.py makes one CPU device per core). A unit's lanes (samples x seeds) are split
evenly into one group per device, no more groups than lanes (`lanes_over`). On an accelerator the
lane axis is sharded over the devices with `jax.shard_map` (`LaneSharding`); on a CPU, whose devices
are the host's cores and share its memory, one program compiled for a group runs every group at
once, each on a thread of its own (`LaneThreads`). Either way each group runs the unit's vmapped
programs on its own lanes, so the work that only some lanes need (`lax.pmax` over the lanes) is
decided per group, and a lane computes what it computes in a group of one. The lane count is
padded up until it divides evenly; padded lanes repeat the last sample and are dropped, like every
padded lane. With one group the programs compile as they are.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from hyperlax import usable_cores

AXIS = "devices"  # the mesh axis the lanes are split over


def resolve(devices: int | str) -> list[jax.Device]:
    """The local devices `--devices` names: all of them, or the first N; ValueError if there are fewer."""
    available = jax.local_devices()
    if devices == "all":
        return available
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ValueError(f"--devices must be 'all' or a positive integer, got {devices!r}")
    if devices > len(available):
        raise ValueError(
            f"--devices {devices}: this machine has {len(available)} {available[0].platform} device"
            f"{'s' if len(available) > 1 else ''} ({', '.join(map(str, available))}); ask for at most "
            f"{len(available)}, or all"
        )
    return available[:devices]


def machine() -> dict[str, Any]:
    """What a run's speed depends on: the CPU's model, the cores this process may use, and the local
    devices of the default backend."""
    cpu = platform.processor() or platform.machine()
    info = Path("/proc/cpuinfo")  # Linux names the model there; platform.processor() gives the architecture
    if info.exists():
        first = info.read_text().split("\n\n")[0].splitlines()  # the first processor's fields
        fields = dict((key.strip(), value.strip()) for key, _, value in (line.partition(":") for line in first))
        if "model name" in fields:  # a virtual machine's name can be generic: family and model tell it
            cpu = f"{fields['model name']} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')})"
    local = jax.local_devices()
    return {"cpu": cpu, "cores": usable_cores(), "devices": f"{len(local)} x {local[0].platform}: {local[0].device_kind}"}


def padded_lanes(lanes: int, num_seeds: int, count: int) -> int:
    """The fewest samples, at least `lanes`, whose lanes x seeds split evenly over `count` devices."""
    step = count // math.gcd(count, num_seeds)
    return -(-lanes // step) * step


def lanes_over(devices: Sequence[jax.Device], lanes: int) -> LaneSharding | LaneThreads:
    """`lanes` lanes split over the first of `devices`, no more of them than there are lanes: in
    threads on a CPU, sharded elsewhere."""
    chosen = devices[: max(1, min(len(devices), lanes))]
    return LaneThreads(chosen) if chosen[0].platform == "cpu" else LaneSharding(chosen)


def copy_lanes(state: Any, source: jax.Array) -> Any:
    """The lanes `source` of every leaf: lane i takes the state of lane `source[i]`."""
    return jax.tree.map(lambda x: x[source], state)


class LaneSharding:
    """A unit's programs compiled over the devices, its lanes split evenly between them."""

    def __init__(self, devices: Sequence[jax.Device]):
        self.devices = list(devices)
        self.mesh = Mesh(np.asarray(self.devices), (AXIS,))

    @property
    def count(self) -> int:
        return len(self.devices)

    def jit(self, lanes_fn: Callable, num_args: int, donate: bool = True) -> Callable:
        """`jax.jit` of `lanes_fn(state, *lane_args)` (`num_args` arguments in all, each with a
        leading lane axis, the state donated unless `donate` is false): over several devices each
        runs it on its share of the lanes."""
        donated = 0 if donate else ()
        if self.count == 1:
            return jax.jit(lanes_fn, donate_argnums=donated)
        lanes = PartitionSpec(AXIS)
        # check_vma=False: the programs' collectives run over the vmapped lane axis, which the
        # varying-axes check of jax 0.10 rejects; no collective crosses the devices.
        mapped = jax.shard_map(lanes_fn, mesh=self.mesh, in_specs=(lanes,) * num_args, out_specs=lanes, check_vma=False)
        sharded = NamedSharding(self.mesh, lanes)
        return jax.jit(mapped, donate_argnums=donated, in_shardings=(sharded,) * num_args, out_shardings=sharded)

    def jit_copy(self) -> Callable:
        """`jax.jit` of `copy_lanes` (state donated): a gather over every device's lanes."""
        if self.count == 1:
            return jax.jit(copy_lanes, donate_argnums=0)
        sharded = NamedSharding(self.mesh, PartitionSpec(AXIS))
        return jax.jit(
            copy_lanes, donate_argnums=0, in_shardings=(sharded, NamedSharding(self.mesh, PartitionSpec())),
            out_shardings=sharded,
        )


class LaneThreads:
    """A unit's programs on a CPU: compiled once for one group of lanes, on the default device, and
    run on every group at once, one thread each (one XLA:CPU program keeps about one core busy).
    Compared with sharding the lanes over the CPU devices, a unit's build skips SPMD partitioning
    (docs/speed.md: "Lane groups in threads"), and the training keeps its pace."""

    def __init__(self, devices: Sequence[jax.Device]):
        self.devices = list(devices)

    @property
    def count(self) -> int:
        return len(self.devices)

    def jit(self, lanes_fn: Callable, num_args: int, donate: bool = True) -> Any:
        """`jax.jit` of `lanes_fn(state, *lane_args)` (`num_args` arguments, each with a leading lane
        axis; the state donated unless `donate` is false) for one group; with several groups, lowered
        for one and compiled to a `GroupedProgram` (nothing donated: a group's inputs may be views of
        the caller's arrays)."""
        if self.count == 1:
            return jax.jit(lanes_fn, donate_argnums=0 if donate else ())
        return InGroups(jax.jit(lanes_fn), self.count)

    def jit_copy(self) -> Callable:
        """`jax.jit` of `copy_lanes` (state donated), over every lane."""
        return jax.jit(copy_lanes, donate_argnums=0)


class InGroups:
    """A jitted function of lanes, to lower for one of `count` equal groups of them."""

    def __init__(self, jitted: Any, count: int):
        self.jitted, self.count = jitted, count

    def lower(self, *shapes: Any) -> GroupLowered:
        """Lower for the first group of lanes of these shapes."""
        group = lambda s: jax.ShapeDtypeStruct((s.shape[0] // self.count, *s.shape[1:]), s.dtype)  # noqa: E731
        return GroupLowered(self.jitted.lower(*jax.tree.map(group, shapes)), self.count)


class GroupLowered:
    """One group's lowered program; `compile` gives the `GroupedProgram` that runs every group."""

    def __init__(self, lowered: Any, count: int):
        self.lowered, self.count = lowered, count

    def as_text(self) -> str:
        return self.lowered.as_text()

    def compile(self, compiler_options: dict[str, Any] | None = None) -> GroupedProgram:
        return GroupedProgram(self.lowered.compile(compiler_options=compiler_options), self.count)


@lru_cache
def _threads(count: int) -> ThreadPoolExecutor:
    """The threads that run `count` groups of lanes at once, shared by every such program."""
    return ThreadPoolExecutor(count, thread_name_prefix="hyperlax-lanes")


class GroupedProgram:
    """A program compiled for one group of lanes, called on whole lane axes: it runs the `count`
    groups at once, one thread each, and gives their results joined as NumPy arrays."""

    def __init__(self, compiled: Any, count: int):
        self.compiled, self.count = compiled, count

    def memory_analysis(self) -> Any:
        """XLA's memory plan of one group."""
        return self.compiled.memory_analysis()

    def __call__(self, *args: Any) -> Any:
        host = jax.tree.map(np.asarray, args)
        size = jax.tree.leaves(host)[0].shape[0] // self.count

        def run(group: int) -> Any:
            return jax.device_get(self.compiled(*jax.tree.map(lambda x: x[group * size : (group + 1) * size], host)))

        return jax.tree.map(lambda *parts: np.concatenate(parts), *_threads(self.count).map(run, range(self.count)))
