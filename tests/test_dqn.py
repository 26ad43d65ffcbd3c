"""DQN: a batched lane is its solo run, a lane with learning rate 0 does not move, bad configs fail."""

import jax
import numpy as np
import pytest

from hyperlax.algos import dqn
from hyperlax.algos.common import LANES
from hyperlax.envs import make_env
from tests.lanes import (
    assert_lanes_equal_solo_runs,
    assert_trees_close,
    batched_and_solo,
    initial_params,
    lane,
    segments_of,
    tiny_config,
)
from hyperlax.algos.interface import run_in_one_call

HP = "algorithm.hyperparam."
TINY = {
    "algorithm": {
        "hyperparam": {
            "num_envs": 2, "rollout_length": 2, "gradient_steps": 2, "buffer_size": 32, "batch_size": 8,
            "learning_starts": 8, "target_update_interval": 8,
        },
        "network": {"q_network": {"pre_torso": {"layer_sizes": [16, 16]}}},
    },
    "training": {"total_timesteps": 64, "num_evaluations": 2, "num_eval_episodes": 2},
}
# Three lanes that differ in every float hyperparameter; the last one cannot learn.
NAMES = ("lr", "gamma", "tau", "epsilon_start", "epsilon_finish", "exploration_fraction", "max_grad_norm")
LANES_HP = [
    {HP + name: value for name, value in zip(NAMES, values)}
    for values in [
        (0.001, 0.99, 1.0, 1.0, 0.05, 0.25, 10.0),
        (0.003, 0.9, 0.5, 0.8, 0.1, 0.5, 0.5),
        (0.0, 0.95, 0.1, 0.5, 0.0, 0.1, 1.0),
    ]
]


@pytest.fixture(scope="module")
def runs():
    config = tiny_config("dqn_mlp", "gymnax.cartpole", TINY)
    return (config, *batched_and_solo(dqn.ALGORITHM, config, LANES_HP))


def test_a_batched_lane_equals_its_solo_run(runs):
    _, _, batched, solo = runs
    assert_lanes_equal_solo_runs(batched, solo)
    assert batched.returns.shape == (3, 2) and np.isfinite(batched.returns).all()
    assert (batched.env_steps == 64).all() and (batched.slots == 64).all()


def test_a_lane_with_learning_rate_zero_keeps_its_initial_parameters(runs):
    config, keys, batched, _ = runs
    initial = initial_params(dqn.ALGORITHM, config, LANES_HP[2], keys[2])
    assert_trees_close(lane(batched.params, 2), initial, atol=0.0)
    moved = jax.tree.leaves(jax.tree.map(lambda a, b: np.abs(a - b).max(), lane(batched.params, 0), initial))
    assert max(moved) > 1e-4


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"hyperparam": {"batch_size": 0}}, "algorithm.hyperparam.batch_size must be an integer >= 1, got 0"),
        ({"hyperparam": {"buffer_size": 3}}, "algorithm.hyperparam.buffer_size=3 must hold one iteration"),
        ({"hyperparam": {"learning_starts": -1}}, "algorithm.hyperparam.learning_starts must be an integer >= 0"),
        ({"hyperparam": {"double_q": "yes"}}, "algorithm.hyperparam.double_q must be true or false"),
        ({"hyperparam": {"gamma": float("nan")}}, "algorithm.hyperparam.gamma must be a finite number"),
        ({"network": {"q_network": {"pre_torso": {"activation": "swish"}}}}, "pre_torso.activation 'swish' is not one of"),
        ({"network": {"q_network": {"pre_torso": {"kind": "rnn"}}}}, "pre_torso.kind 'rnn' is not one of mlp, conv"),
    ],
)
def test_bad_configs_fail_naming_the_key(change, fragment):
    config = tiny_config("dqn_mlp", "gymnax.cartpole", {"algorithm": change})
    with pytest.raises(ValueError) as err:
        dqn.check_config(config)
    assert fragment in str(err.value)


def test_a_budget_below_one_iteration_fails():
    config = tiny_config("dqn_mlp", "gymnax.cartpole", {"training": {"total_timesteps": 5}})
    with pytest.raises(ValueError, match="training.total_timesteps=5 must be an integer of at least one iteration"):
        dqn.check_config(config)


def test_a_conv_torso_needs_image_observations():
    config = tiny_config("dqn_minatar", "gymnax.cartpole", {})
    dqn.check_config(config)
    with pytest.raises(ValueError, match="kind 'conv' needs image observations"):
        dqn.check_env(config, make_env(config["env"]))


def test_learn_and_target_decisions_stay_real_branches_under_vmap():
    # A cond whose predicate is batched becomes a select that runs both branches; these must not.
    config = tiny_config("dqn_mlp", "gymnax.cartpole", TINY)
    train = run_in_one_call(segments_of(dqn.ALGORITHM, config), 64, 2)
    hparams = {k: np.full(3, v, np.float32) for k, v in LANES_HP[0].items()}
    keys = jax.vmap(jax.random.PRNGKey)(np.arange(3))
    batched = str(jax.make_jaxpr(jax.vmap(train, axis_name=LANES))(hparams, keys))
    unbatched = str(jax.make_jaxpr(jax.vmap(train, axis_name=LANES, in_axes=None, axis_size=3))(LANES_HP[0], keys[0]))
    assert batched.count("cond[") == unbatched.count("cond[") >= 2  # learn, update the target
