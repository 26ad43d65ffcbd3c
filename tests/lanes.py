"""Helpers for the algorithm tests: tiny configs, lanes run in one call under the executor's vmap."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import numpy as np

from hyperlax.algos.common import LANES
from hyperlax.algos.interface import Algorithm, lane_hparams, run_in_one_call
from hyperlax.config import flatten, merge
from hyperlax.envs import make_env
from hyperlax.recipes import load_recipe
from hyperlax.run.loop import Settings, make_executor, prepare


class Run(NamedTuple):
    """Lanes trained in one call: numpy leaves [lanes, ...]."""

    params: Any
    opt_state: Any
    returns: np.ndarray  # [lanes, milestones]
    env_steps: np.ndarray  # [lanes] at the end
    slots: np.ndarray  # [lanes] over the run


def tiny_config(algo_recipe: str, env_recipe: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The recipes' merged defaults with `overrides` (nested) merged over them."""
    return merge(load_recipe(algo_recipe, env_recipe).base_config, overrides)


def config_lane(algo: Algorithm, config: dict[str, Any]) -> dict[str, Any]:
    """The config's own values of the algorithm's vectorized and paddable keys: one lane."""
    flat = flatten(config)
    return {k: flat[k] for k in algo.vectorized + algo.paddable}


def segments_of(algo: Algorithm, config: dict[str, Any], extents: dict[str, Any] | None = None):
    """The config's segments, with the given extents or else the config's own."""
    extents = algo.padded_extents([config]) if extents is None else extents
    return algo.make_segments(config, make_env(config["env"]), extents)


def lanes_runner(algo: Algorithm, config: dict[str, Any], extents: dict[str, Any] | None = None):
    """`run(lanes, keys) -> Run`: train every lane (a dict of vectorized and paddable values) in one
    call under one vmap, one key per lane, with the given extents or else the config's own. A runner
    compiles once per lane count, as the executor does."""
    training = config["training"]
    train = run_in_one_call(segments_of(algo, config, extents), training["total_timesteps"], training["num_evaluations"])
    train = jax.jit(jax.vmap(train, axis_name=LANES))

    def run(lanes: list[dict[str, Any]], keys: jax.Array) -> Run:
        state, metrics = jax.device_get(train(lane_hparams(algo, lanes), keys))
        return Run(state["params"], state.get("opt_state"), metrics.episode_return, metrics.env_steps[:, -1], metrics.slots.sum(axis=1))

    return run


def initial_params(algo: Algorithm, config: dict[str, Any], hparams: dict[str, Any], key: jax.Array):
    """The parameters a lane with these hyperparameters starts from with `key`."""
    state = jax.vmap(segments_of(algo, config).init)(lane_hparams(algo, [hparams]), key[None])
    return lane(state["params"], 0)


def lane(tree, i: int):
    """Lane `i` of a batched pytree."""
    return jax.tree.map(lambda x: np.asarray(x)[i], tree)


def assert_trees_close(actual, expected, atol: float) -> None:
    assert jax.tree.structure(actual) == jax.tree.structure(expected)
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), atol=atol)


def batched_and_solo(algo: Algorithm, config: dict[str, Any], lanes: list[dict[str, Any]]):
    """The lanes' keys, their run together under one vmap, and each one's run alone."""
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(7), i))(np.arange(len(lanes)))
    run = lanes_runner(algo, config)
    return keys, run(lanes, keys), [run([hp], keys[i : i + 1]) for i, hp in enumerate(lanes)]


def assert_lanes_equal_solo_runs(batched, solo) -> None:
    """Each batched lane's parameters and optimizer states equal its solo run's within 1e-5."""
    for i, alone in enumerate(solo):
        assert_trees_close(lane(batched.params, i), lane(alone.params, 0), atol=1e-5)
        assert_trees_close(lane(batched.opt_state, i), lane(alone.opt_state, 0), atol=1e-5)


def ppo_paddable(num_envs: int, rollout_length: int, update_epochs: int, num_minibatches: int, actor_lr: float):
    """A PPO sample setting every paddable value and the actor's learning rate."""
    names = ("num_envs", "rollout_length", "update_epochs", "num_minibatches", "actor_lr")
    values = (num_envs, rollout_length, update_epochs, num_minibatches, actor_lr)
    return {f"algorithm.hyperparam.{name}": value for name, value in zip(names, values)}


class PaddedRun(NamedTuple):
    """Samples run as one padded unit and each alone (sequential), by the sweep's own executors."""

    prepared: Any  # the batched sweep, prepared
    batch_executor: Any
    solo_executor: Any
    padded: Any  # the unit's UnitResult
    solos: list  # each sample's UnitResult


def padded_and_solo(recipe_path, samples: list[dict[str, Any]], total_timesteps: int, num_evaluations: int) -> PaddedRun:
    recipe = load_recipe(str(recipe_path), "gymnax.cartpole")
    # one device: the padded unit is one program, whose work the tests count (test_devices shards)
    common = {"total_timesteps": total_timesteps, "num_evaluations": num_evaluations, "devices": 1}
    batched = prepare(recipe, samples, Settings(hparam_batch_size=len(samples), padding="together", **common), {})
    solo = prepare(recipe, samples, Settings(sequential=True, **common), {})
    (unit,) = batched.plan[0].units
    batch_executor, solo_executor = make_executor(batched), make_executor(solo)
    padded = batch_executor.run_unit(unit, samples)
    solos = [solo_executor.run_unit(run.units[0], [samples[i]]) for i, run in enumerate(solo.plan)]
    return PaddedRun(batched, batch_executor, solo_executor, padded, solos)
