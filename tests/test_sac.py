"""SAC: a batched lane is its solo run, a lane with learning rates 0 does not move, bad configs fail."""

import jax
import numpy as np
import pytest

from hyperlax.algos import sac
from tests.lanes import (
    assert_lanes_equal_solo_runs,
    assert_trees_close,
    batched_and_solo,
    initial_params,
    lane,
    tiny_config,
)

HP = "algorithm.hyperparam."
TINY = {
    "algorithm": {
        "hyperparam": {
            "num_envs": 2, "rollout_length": 2, "gradient_steps": 2, "buffer_size": 32, "batch_size": 8,
            "learning_starts": 8,
        },
        "network": {
            "actor_network": {"pre_torso": {"layer_sizes": [16, 16]}},
            "critic_network": {"pre_torso": {"layer_sizes": [16, 16]}},
        },
    },
    "training": {"total_timesteps": 64, "num_evaluations": 2, "num_eval_episodes": 2},
}
# Three lanes that differ in every float hyperparameter; the last one cannot learn.
NAMES = ("actor_lr", "critic_lr", "alpha_lr", "gamma", "tau", "alpha", "target_entropy_scale")
LANES_HP = [
    {HP + name: value for name, value in zip(NAMES, values)}
    for values in [
        (0.001, 0.001, 0.001, 0.99, 0.005, 0.2, 1.0),
        (0.003, 0.002, 0.01, 0.9, 0.1, 1.0, 0.5),
        (0.0, 0.0, 0.0, 0.95, 0.5, 0.05, 2.0),
    ]
]


@pytest.fixture(scope="module", params=[True, False], ids=["autotuned_alpha", "fixed_alpha"])
def runs(request):
    config = tiny_config("sac_mlp", "gymnax.pendulum", TINY)
    config["algorithm"]["hyperparam"]["autotune_alpha"] = request.param
    return (config, *batched_and_solo(sac.ALGORITHM, config, LANES_HP))


def test_a_batched_lane_equals_its_solo_run(runs):
    _, _, batched, solo = runs
    assert_lanes_equal_solo_runs(batched, solo)
    assert batched.returns.shape == (3, 2) and np.isfinite(batched.returns).all()
    assert (batched.env_steps == 64).all() and (batched.slots == 64).all()


def test_a_lane_with_learning_rates_zero_keeps_its_initial_parameters(runs):
    config, keys, batched, _ = runs
    initial = initial_params(sac.ALGORITHM, config, LANES_HP[2], keys[2])
    assert_trees_close(lane(batched.params, 2), initial, atol=0.0)
    moved = jax.tree.leaves(jax.tree.map(lambda a, b: np.abs(a - b).max(), lane(batched.params, 0), initial))
    assert max(moved) > 1e-4


def test_the_temperature_is_learned_only_when_autotuned(runs):
    config, _, batched, _ = runs
    if config["algorithm"]["hyperparam"]["autotune_alpha"]:
        assert not np.allclose(batched.params["log_alpha"][:2], np.log([0.2, 1.0]))
    else:
        assert "log_alpha" not in batched.params and "log_alpha" not in batched.opt_state


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"hyperparam": {"gradient_steps": 0}}, "algorithm.hyperparam.gradient_steps must be an integer >= 1, got 0"),
        ({"hyperparam": {"num_envs": 2.5}}, "algorithm.hyperparam.num_envs must be an integer >= 1, got 2.5"),
        ({"hyperparam": {"alpha": 0.0}}, "algorithm.hyperparam.alpha must be positive, got 0.0"),
        ({"hyperparam": {"tau": "0.1"}}, "algorithm.hyperparam.tau must be a finite number"),
        ({"hyperparam": {"autotune_alpha": 1}}, "algorithm.hyperparam.autotune_alpha must be true or false"),
        ({"network": {"critic_network": {"pre_torso": {"layer_sizes": []}}}}, "critic_network.pre_torso.layer_sizes must be"),
    ],
)
def test_bad_configs_fail_naming_the_key(change, fragment):
    config = tiny_config("sac_mlp", "gymnax.pendulum", {"algorithm": change})
    with pytest.raises(ValueError) as err:
        sac.check_config(config)
    assert fragment in str(err.value)
