"""Every shipped (algorithm recipe, env recipe) pair: the ones that fit train, the others are refused.

A pair fits when the env's action space is one the algorithm acts in (its action_spaces) and, for
a conv torso, when the env's observations are images. A pair that fits must build and run a tiny
train; one whose action space does not fit must be refused when the recipes are loaded.
"""

import importlib
import itertools
from concurrent.futures import ThreadPoolExecutor

import jax
import numpy as np
import pytest

from hyperlax.algos import ALGORITHMS
from hyperlax.envs import make_env
from hyperlax.recipes import RecipeError, available, load_recipe
from tests.lanes import config_lane, lanes_runner, tiny_config

TRAINING = {"total_timesteps": 8, "num_evaluations": 1, "num_eval_episodes": 1}
TINY = {
    "ppo": {"num_envs": 2, "rollout_length": 4, "update_epochs": 1, "num_minibatches": 1},
    "dqn": {
        "num_envs": 2, "rollout_length": 1, "gradient_steps": 1, "buffer_size": 8, "batch_size": 4,
        "learning_starts": 4, "target_update_interval": 4,
    },
    "sac": {"num_envs": 2, "rollout_length": 1, "gradient_steps": 1, "buffer_size": 8, "batch_size": 4, "learning_starts": 4},
}
# Tiny programs need no optimized machine code; this compiles them two to three times as fast.
FAST_COMPILE = {"xla_backend_optimization_level": 0}
MAX_STEPS = 16  # short evaluation episodes


def _env_facts(env_recipe: str) -> tuple[str, bool]:
    env = make_env(load_recipe("ppo_mlp", env_recipe).base_config["env"])
    return ("discrete" if env.discrete else "continuous"), len(env.frame_shape) > 1


def _algo_facts(algo_recipe: str) -> tuple[str, bool]:
    config = importlib.import_module(f"hyperlax.configs.algo.{algo_recipe}").get_base_config()["algorithm"]
    torso = config["network"].get("q_network", {}).get("pre_torso", {})
    return config["name"], torso.get("kind") == "conv"


ENVS = {name: _env_facts(name) for name in available("env")}
ALGOS = {name: _algo_facts(name) for name in available("algo")}
PAIRS = list(itertools.product(ALGOS, ENVS))
FITTING = [
    (a, e) for a, e in PAIRS
    if ENVS[e][0] in ALGORITHMS[ALGOS[a][0]].action_spaces and (ENVS[e][1] or not ALGOS[a][1])
]
REFUSED = [(a, e) for a, e in PAIRS if ENVS[e][0] not in ALGORITHMS[ALGOS[a][0]].action_spaces]


def test_the_grid_covers_every_kind_of_pair():
    assert ("ppo_mlp", "gymnax.pendulum") in FITTING and ("ppo_mlp", "gymnax.cartpole") in FITTING
    assert ("dqn_minatar", "minatar.breakout") in FITTING and ("sac_mlp", "gymnax.pendulum") in FITTING
    assert ("dqn_mlp", "gymnax.pendulum") in REFUSED and ("sac_mlp", "gymnax.cartpole") in REFUSED


def train_tiny(algo_recipe: str, env_recipe: str):
    algo = ALGORITHMS[ALGOS[algo_recipe][0]]
    overrides = {
        "algorithm": {"hyperparam": TINY[ALGOS[algo_recipe][0]]},
        "env": {"params": {"max_steps_in_episode": MAX_STEPS}},
        "training": TRAINING,
    }
    config = tiny_config(algo_recipe, env_recipe, overrides)
    algo.check_config(config)
    return lanes_runner(algo, config, FAST_COMPILE)([config_lane(algo, config)], jax.random.PRNGKey(0)[None])


@pytest.fixture(scope="module")
def trained():
    """Every fitting pair's tiny train (or its error), two at a time: XLA compiles on one core."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return {pair: pool.submit(train_tiny, *pair) for pair in FITTING}


@pytest.mark.parametrize("algo_recipe, env_recipe", FITTING)
def test_a_fitting_pair_trains(trained, algo_recipe, env_recipe):
    output = trained[algo_recipe, env_recipe].result()
    assert output.returns.shape == (1, 1) and np.isfinite(output.returns).all()
    assert output.env_steps.tolist() == [8]
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(output.params))


@pytest.mark.parametrize("algo_recipe, env_recipe", REFUSED)
def test_a_pair_whose_action_space_does_not_fit_is_refused_at_load(algo_recipe, env_recipe):
    algorithm = ALGOS[algo_recipe][0]
    space = ENVS[env_recipe][0]
    with pytest.raises(RecipeError) as err:
        load_recipe(algo_recipe, env_recipe)
    message = str(err.value)
    assert f"{algorithm} needs {' or '.join(ALGORITHMS[algorithm].action_spaces)} actions" in message
    assert f"the action space of {env_recipe}" in message and f"is {space}" in message
    fitting = [a for a in ALGOS if space in ALGORITHMS[ALGOS[a][0]].action_spaces]
    assert message.endswith(f"algorithm recipes that fit it: {', '.join(fitting)}")
