"""Helpers for the DQN, SAC and recipe-pair tests: tiny configs, lanes run under the executor's vmap."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hyperlax.algos.common import LANES
from hyperlax.config import flatten, merge
from hyperlax.envs import make_env
from hyperlax.recipes import load_recipe


def tiny_config(algo_recipe: str, env_recipe: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The recipes' merged defaults with `overrides` (nested) merged over them."""
    return merge(load_recipe(algo_recipe, env_recipe).base_config, overrides)


def config_lane(algo, config: dict[str, Any]) -> dict[str, Any]:
    """The config's own values of the algorithm's VECTORIZED and PADDABLE keys: one lane."""
    flat = flatten(config)
    return {k: flat[k] for k in algo.VECTORIZED + algo.PADDABLE}


def lanes_runner(algo, config: dict[str, Any], compiler_options: dict[str, Any] | None = None):
    """`run(lanes, keys)`: train every lane (a dict of VECTORIZED and PADDABLE values) under one
    vmap, one key per lane. A runner compiles once per lane count, as the executor does."""
    train = algo.make_train(config, make_env(config["env"]), algo.padded_extents([config]))
    train = jax.jit(jax.vmap(train, axis_name=LANES), compiler_options=compiler_options)

    def run(lanes: list[dict[str, Any]], keys: jax.Array):
        hparams = {k: jnp.asarray([lane[k] for lane in lanes], jnp.float32) for k in algo.VECTORIZED}
        hparams.update({k: jnp.asarray([lane[k] for lane in lanes], jnp.int32) for k in algo.PADDABLE})
        return jax.device_get(train(hparams, keys))

    return run


def lane(tree, i: int):
    """Lane `i` of a batched pytree."""
    return jax.tree.map(lambda x: np.asarray(x)[i], tree)


def assert_trees_close(actual, expected, atol: float) -> None:
    assert jax.tree.structure(actual) == jax.tree.structure(expected)
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), atol=atol)


def batched_and_solo(algo, config: dict[str, Any], lanes: list[dict[str, Any]]):
    """The lanes' keys, their run together under one vmap, and each one's run alone."""
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(7), i))(np.arange(len(lanes)))
    run = lanes_runner(algo, config)
    return keys, run(lanes, keys), [run([hp], keys[i : i + 1]) for i, hp in enumerate(lanes)]


def assert_lanes_equal_solo_runs(batched, solo) -> None:
    """Each batched lane's parameters and optimizer states equal its solo run's within 1e-5."""
    for i, alone in enumerate(solo):
        assert_trees_close(lane(batched.params, i), lane(alone.params, 0), atol=1e-5)
        assert_trees_close(lane(batched.opt_state, i), lane(alone.opt_state, 0), atol=1e-5)
