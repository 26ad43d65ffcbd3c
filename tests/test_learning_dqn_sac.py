"""Learning checks for DQN and SAC: the recipe defaults, two seeds, real returns."""

import time

import jax
import numpy as np
import pytest

from hyperlax.algos import dqn, sac
from tests.lanes import config_lane, lanes_runner, tiny_config

SEEDS = 2


def mean_returns(algo, config) -> np.ndarray:
    """Mean greedy return over SEEDS lanes at each milestone, printed with the wall time."""
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(0), i))(np.arange(SEEDS))
    start = time.perf_counter()
    output = lanes_runner(algo, config)([config_lane(algo, config)] * SEEDS, keys)
    returns = output.returns.mean(axis=0)
    shown = ", ".join(f"{r:.1f}" for r in returns)
    print(f"{config['env']['gymnax_id']}: mean greedy returns [{shown}] ({time.perf_counter() - start:.0f}s with compilation)")
    return returns


@pytest.mark.slow
def test_dqn_defaults_reach_400_on_cartpole_within_500k_steps():
    config = tiny_config("dqn_mlp", "gymnax.cartpole", {})
    assert config["training"]["total_timesteps"] == 500_000
    assert mean_returns(dqn.ALGORITHM, config).max() >= 400


@pytest.mark.slow
def test_sac_defaults_reach_minus_250_on_pendulum_within_50k_steps():
    config = tiny_config("sac_mlp", "gymnax.pendulum", {"training": {"total_timesteps": 50_000}})
    assert mean_returns(sac.ALGORITHM, config).max() >= -250
