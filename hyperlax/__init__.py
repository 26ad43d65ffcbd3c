"""hyperlax: batched, vectorized reinforcement-learning hyperparameter sweeps in JAX."""

__version__ = "0.1.0"
__all__ = ["run_sweep"]


def __getattr__(name: str):
    """`hyperlax.run_sweep`, imported on first use so that `import hyperlax` stays cheap."""
    if name == "run_sweep":
        from hyperlax.api import run_sweep

        return run_sweep
    raise AttributeError(f"module 'hyperlax' has no attribute {name!r}")
