"""Reproduces a jaxlib 0.10.2 deadlock that hyperlax works around (run/executor.py, `lane_start`).

Batched QRs (as flax's orthogonal initializer draws them under vmap) that may run concurrently,
sharded over as many CPU devices as the machine has cores: every thread of XLA:CPU's pool waits in
LAPACK's ParallelBatchMap for work queued behind it, and the call never returns. With one lane
per device, or one device, it finishes at once. Prints "ok" or hangs; run it under a timeout:

    timeout 60 python scripts/repro_cpu_qr_deadlock.py [devices=cores] [lanes_per_device=2]
"""

import os
import sys

devices = int(sys.argv[1]) if len(sys.argv) > 1 else len(os.sched_getaffinity(0))
per_device = int(sys.argv[2]) if len(sys.argv) > 2 else 2
os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, PartitionSpec  # noqa: E402

SHAPES = [(64, 64), (64, 4), (64, 2), (64, 64), (64, 4), (64, 1)]  # two MLPs' kernels


def lanes(keys):
    """Six independent QRs, each batched over this device's lanes."""
    split = jax.vmap(lambda k: jax.random.split(k, len(SHAPES)))(keys)
    draws = [jax.vmap(lambda k, s=s: jax.random.normal(k, s))(split[:, i]) for i, s in enumerate(SHAPES)]
    return [jnp.linalg.qr(a)[0].sum(axis=(1, 2)) for a in draws]


mesh = Mesh(np.asarray(jax.devices()), ("devices",))
spec = PartitionSpec("devices")
step = jax.jit(jax.shard_map(lanes, mesh=mesh, in_specs=spec, out_specs=spec))
keys = jax.random.split(jax.random.PRNGKey(0), devices * per_device)
for _ in range(20):
    out = step(keys)
print("ok", jax.__version__, f"{devices} devices x {per_device} lanes", float(sum(o.sum() for o in out)))
