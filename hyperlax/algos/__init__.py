"""Algorithms, each a module with VECTORIZED, PADDABLE, check_config and make_train."""

from hyperlax.algos import ppo

ALGORITHMS = {"ppo": ppo}

__all__ = ["ALGORITHMS"]
