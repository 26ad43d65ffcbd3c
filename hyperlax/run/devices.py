"""The local devices a sweep runs on, and a unit's lane axis sharded over them.

`--devices all|N` takes the first N local devices of the default backend (all by default; on a CPU,
hyperlax/__init__.py makes one CPU device per core). A unit's lanes (samples x seeds) are split
evenly over as many of them as it has lanes with `jax.shard_map`: each device runs the unit's
vmapped programs on its own lanes, so the work that only some lanes need (`lax.pmax` over the lanes)
is decided per device, and a lane computes what it computes on one device. The lane count is
padded up until it divides evenly; padded lanes repeat the last sample and are dropped, like
every padded lane. On one device the programs compile as they are.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable, Sequence
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


class LaneSharding:
    """A unit's programs compiled over the devices, its lanes split evenly between them."""

    def __init__(self, devices: Sequence[jax.Device]):
        self.devices = list(devices)
        self.mesh = Mesh(np.asarray(self.devices), (AXIS,))

    @classmethod
    def for_lanes(cls, devices: Sequence[jax.Device], lanes: int) -> LaneSharding:
        """Over the first of `devices`, no more of them than there are `lanes`."""
        return cls(devices[: max(1, min(len(devices), lanes))])

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
        """`jax.jit` of `(state, source) -> state` (state donated): each lane takes the state of lane
        `source`, a gather over every device's lanes."""
        copy = lambda state, source: jax.tree.map(lambda x: x[source], state)  # noqa: E731
        if self.count == 1:
            return jax.jit(copy, donate_argnums=0)
        sharded = NamedSharding(self.mesh, PartitionSpec(AXIS))
        return jax.jit(
            copy, donate_argnums=0, in_shardings=(sharded, NamedSharding(self.mesh, PartitionSpec())),
            out_shardings=sharded,
        )
