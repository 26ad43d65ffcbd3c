"""hyperlax: batched, vectorized reinforcement-learning hyperparameter sweeps in JAX."""

__version__ = "0.1.0"
