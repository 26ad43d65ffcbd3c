"""Algorithms: modules with VECTORIZED, PADDABLE, ACTION_SPACES, check_config, padded_extents,
lane_bytes, init_params and make_train (see common.py for what train returns)."""

from hyperlax.algos import dqn, ppo, sac

ALGORITHMS = {"ppo": ppo, "dqn": dqn, "sac": sac}

__all__ = ["ALGORITHMS"]
