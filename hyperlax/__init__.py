"""hyperlax: batched, vectorized reinforcement-learning hyperparameter sweeps in JAX."""

import os


def _default_xla_flag(flag: str, value: object) -> None:
    """Add `flag=value` to XLA_FLAGS unless the user set the flag (read when jax starts its CPU client)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if flag not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {flag}={value}".strip()


# XLA:CPU's concurrency-optimized scheduler ran a batch's orthogonal inits (batched LAPACK QRs) at
# once, which deadlocks jaxlib 0.10.2's thread pool (8 PPO lanes on CartPole). Fresh lanes now init
# lane by lane (run/executor.py) and no longer meet it; the scheduler stays off, as it measured no
# faster on R16.
_default_xla_flag("--xla_cpu_enable_concurrency_optimized_scheduler", "false")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# One CPU device per core: a unit's lanes are sharded over them (run/devices.py), since one XLA:CPU
# program keeps about one core busy. Unless the user chose a count.
if "JAX_NUM_CPU_DEVICES" not in os.environ:
    _default_xla_flag("--xla_force_host_platform_device_count", usable_cores())


def _cpu_only() -> bool:
    """Whether jax can start no backend but its CPU here: `JAX_PLATFORMS=cpu`, or no accelerator
    plugin (CUDA, ROCm, TPU) installed."""
    platforms = os.environ.get("JAX_PLATFORMS", "")
    if platforms:
        return platforms == "cpu"
    import importlib.metadata
    import importlib.util

    plugins = importlib.metadata.entry_points(group="jax_plugins")
    return not plugins and not any(importlib.util.find_spec(name) for name in ("jax_plugins", "libtpu"))


# LLVM's loop strength reduction took seconds on some kernels of XLA's elemental emitters, which
# compile the programs besides `advance` (run/executor.py's ONCE): 5.5 s against 2.7 s for SAC's
# 16-lane `start` without it; PPO's, DQN's and SAC's training ran no slower without it. Off on a
# CPU-only install (an accelerator's LLVM backend would take the option too, unmeasured).
if _cpu_only():
    _default_xla_flag("--xla_backend_extra_options", "-disable-lsr")

__version__ = "0.1.0"
__all__ = ["run_sweep"]


def __getattr__(name: str):
    """`hyperlax.run_sweep`, imported on first use so that `import hyperlax` stays cheap."""
    if name == "run_sweep":
        from hyperlax.api import run_sweep

        return run_sweep
    raise AttributeError(f"module 'hyperlax' has no attribute {name!r}")
