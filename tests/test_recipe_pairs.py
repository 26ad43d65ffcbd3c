"""Every shipped (algorithm recipe, env recipe) pair: the ones that fit train, the others are refused.

A pair fits when the env's action space is one the algorithm acts in (its action_spaces) and, for
a conv torso, when the env's observations are images. A pair that fits must build a tiny train: it
is traced for one lane (every shape and dtype checked, nothing compiled), and one pair of each kind
of env that no other test trains on also runs it, batched. One whose action space does not fit must
be refused when the recipes are loaded.
"""

import importlib
import itertools
from concurrent.futures import ThreadPoolExecutor

import jax
import numpy as np
import pytest

from hyperlax.algos import ALGORITHMS
from hyperlax.algos.common import LANES
from hyperlax.algos.interface import lane_hparams, run_in_one_call
from hyperlax.envs import make_env
from hyperlax.recipes import RecipeError, available, load_recipe
from tests.lanes import config_lane, lanes_runner, segments_of, tiny_config

TRAINING = {"total_timesteps": 8, "num_evaluations": 1, "num_eval_episodes": 1}
TINY = {
    "ppo": {"num_envs": 2, "rollout_length": 4, "update_epochs": 1, "num_minibatches": 1},
    "dqn": {
        "num_envs": 2, "rollout_length": 1, "gradient_steps": 1, "buffer_size": 8, "batch_size": 4,
        "learning_starts": 4, "target_update_interval": 4,
    },
    "sac": {"num_envs": 2, "rollout_length": 1, "gradient_steps": 1, "buffer_size": 8, "batch_size": 4, "learning_starts": 4},
}
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
# Run as well as traced: each kind of env that the other tests do not train on (MinAtar images into an
# MLP and into a conv torso, bsuite, continuous mountain car), each algorithm at least once.
TRAINED = [
    ("ppo_mlp", "minatar.breakout"),
    ("dqn_minatar", "minatar.space_invaders"),
    ("dqn_mlp", "bsuite.catch"),
    ("sac_mlp", "gymnax.mountain_car_continuous"),
]


def test_the_grid_covers_every_kind_of_pair():
    assert ("ppo_mlp", "gymnax.pendulum") in FITTING and ("ppo_mlp", "gymnax.cartpole") in FITTING
    assert ("dqn_minatar", "minatar.breakout") in FITTING and ("sac_mlp", "gymnax.pendulum") in FITTING
    assert ("dqn_mlp", "gymnax.pendulum") in REFUSED and ("sac_mlp", "gymnax.cartpole") in REFUSED
    assert set(TRAINED) <= set(FITTING) and {ALGOS[a][0] for a, _ in TRAINED} == set(ALGORITHMS)


def tiny_pair(algo_recipe: str, env_recipe: str):
    """The pair's algorithm and its tiny config, checked."""
    algo = ALGORITHMS[ALGOS[algo_recipe][0]]
    overrides = {
        "algorithm": {"hyperparam": TINY[ALGOS[algo_recipe][0]]},
        "env": {"params": {"max_steps_in_episode": MAX_STEPS}},
        "training": TRAINING,
    }
    config = tiny_config(algo_recipe, env_recipe, overrides)
    algo.check_config(config)
    return algo, config


def train_tiny(algo_recipe: str, env_recipe: str):
    algo, config = tiny_pair(algo_recipe, env_recipe)
    return lanes_runner(algo, config)([config_lane(algo, config)], jax.random.PRNGKey(0)[None])


@pytest.fixture(scope="module")
def trained():
    """The trained pairs' tiny trains (or their errors), two at a time: XLA compiles on one core."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return {pair: pool.submit(train_tiny, *pair) for pair in TRAINED}


@pytest.mark.parametrize("algo_recipe, env_recipe", FITTING)
def test_a_fitting_pair_builds_its_train(algo_recipe, env_recipe):
    algo, config = tiny_pair(algo_recipe, env_recipe)
    train = run_in_one_call(segments_of(algo, config), TRAINING["total_timesteps"], TRAINING["num_evaluations"])
    hparams = jax.tree.map(lambda x: x[0], lane_hparams(algo, [config_lane(algo, config)]))
    one_lane = jax.vmap(train, axis_name=LANES, in_axes=None, axis_size=1)  # unbatched: a third of the tracing
    state, metrics = jax.eval_shape(one_lane, hparams, jax.random.PRNGKey(0))
    assert metrics.episode_return.shape == (1, 1) and metrics.env_steps.shape == (1, 1)
    assert all(jax.numpy.issubdtype(leaf.dtype, jax.numpy.floating) for leaf in jax.tree.leaves(state["params"]))


@pytest.mark.parametrize("algo_recipe, env_recipe", TRAINED)
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
