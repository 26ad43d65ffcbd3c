"""PPO lanes that share their paddable values run unmasked (plain loops of static lengths, no masks):
each lane equals the same lane run masked and its solo run, and a lane that is not training keeps its state."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hyperlax.algos import common, ppo
from hyperlax.algos.common import LANES
from hyperlax.algos.interface import lane_hparams
from hyperlax.config import merge
from hyperlax.nets import Critic
from tests.lanes import assert_lanes_equal_solo_runs, assert_trees_close, config_lane, lanes_runner, segments_of, tiny_config

HP = "algorithm.hyperparam."
TINY = {
    "algorithm": {
        "hyperparam": {"num_envs": 4, "rollout_length": 16, "update_epochs": 2, "num_minibatches": 2, "anneal_lr": True},
        "network": {
            "actor_network": {"pre_torso": {"layer_sizes": [16]}},
            "critic_network": {"pre_torso": {"layer_sizes": [16]}},
        },
    },
    "training": {"total_timesteps": 256, "num_evaluations": 2, "num_eval_episodes": 2},
}
# Three lanes that differ in float hyperparameters only.
NAMES = ("actor_lr", "critic_lr", "clip_eps", "ent_coef", "max_grad_norm")
FLOATS = [(1e-3, 3e-3, 0.2, 0.01, 0.5), (3e-3, 1e-3, 0.1, 0.0, 5.0), (5e-4, 5e-4, 0.3, 0.05, 1.0)]


@pytest.fixture(scope="module")
def setup():
    config = tiny_config("ppo_mlp", "gymnax.cartpole", TINY)
    lanes = [{**config_lane(ppo.ALGORITHM, config), **{HP + n: v for n, v in zip(NAMES, values)}} for values in FLOATS]
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(3), i))(np.arange(len(lanes)))
    extents = ppo.padded_extents([config])
    return config, lanes, keys, {"unmasked": extents, "masked": {**extents, "masked": True}}


def test_lanes_mask_only_when_they_differ_in_a_paddable_value(setup):
    config, *_ = setup
    other = tiny_config("ppo_mlp", "gymnax.cartpole", merge(TINY, {"algorithm": {"hyperparam": {"update_epochs": 3}}}))
    assert ppo.padded_extents([config, config])["masked"] is False
    assert ppo.padded_extents([config, other])["masked"] is True


def test_unmasked_lanes_equal_masked_lanes_and_their_solo_runs(setup):
    config, lanes, keys, extents = setup
    unmasked = lanes_runner(ppo.ALGORITHM, config, extents["unmasked"])
    batched = unmasked(lanes, keys)
    masked = lanes_runner(ppo.ALGORITHM, config, extents["masked"])(lanes, keys)
    assert_lanes_equal_solo_runs(batched, [unmasked([hp], keys[i : i + 1]) for i, hp in enumerate(lanes)])
    for got, want in zip(jax.tree.leaves((batched.params, batched.opt_state)), jax.tree.leaves((masked.params, masked.opt_state))):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
    np.testing.assert_allclose(batched.returns, masked.returns, atol=1e-4)
    assert (batched.env_steps == masked.env_steps).all() and (batched.slots == masked.slots).all()


def test_the_critic_over_more_rows_than_a_pass_runs_in_passes_to_the_same_lanes(setup, monkeypatch):
    # 132 rollout rows (2 x 16 steps x 4 envs and the last 4) of 16 units: passes of 16 rows below.
    config, lanes, keys, extents = setup
    batched = lanes_runner(ppo.ALGORITHM, config, extents["unmasked"])(lanes, keys)
    monkeypatch.setattr(common, "PASS_BYTES", 16 * 16 * 4)
    critic = Critic((16,), "tanh")
    apply = partial(critic.apply, critic.init(jax.random.PRNGKey(0), jnp.zeros(4)))
    rows = jax.random.normal(jax.random.PRNGKey(1), (132, 4))
    passes = [e.params["length"] for e in jax.make_jaxpr(lambda r: common.in_passes(apply, r, 16))(rows).eqns if e.primitive.name == "scan"]
    assert passes == [8]  # and a pass of the last 4 rows
    np.testing.assert_allclose(common.in_passes(apply, rows, 16), apply(rows), atol=1e-6, rtol=0)
    unmasked = lanes_runner(ppo.ALGORITHM, config, extents["unmasked"])
    passed = unmasked(lanes, keys)
    assert_lanes_equal_solo_runs(passed, [unmasked([hp], keys[i : i + 1]) for i, hp in enumerate(lanes)])
    assert_trees_close((passed.params, passed.opt_state), (batched.params, batched.opt_state), atol=1e-5)


def test_a_lane_past_its_milestone_keeps_its_state_masked_or_not(setup):
    # Lane 1 is held at the first milestone while the others go on to the second (as an idle lane is).
    config, lanes, keys, extents = setup
    hparams = lane_hparams(ppo.ALGORITHM, lanes)
    results = {}
    for name, sizes in extents.items():
        segments = segments_of(ppo.ALGORITHM, config, sizes)
        advance = jax.jit(jax.vmap(segments.advance, axis_name=LANES))
        first, _ = advance(jax.vmap(segments.init, axis_name=LANES)(hparams, keys), hparams, jnp.full(3, 128))
        second, metrics = advance(first, hparams, jnp.asarray([256, 128, 256]))
        held = jax.tree.map(lambda x: x[1], (first, second))
        assert_trees_close(held[1], held[0], atol=0.0)
        assert list(metrics.env_steps) == [256, 128, 256] and list(metrics.slots) == [128, 128, 128]
        results[name] = second
    assert_trees_close(results["unmasked"], results["masked"], atol=1e-5)


@pytest.mark.parametrize("masked", [False, True])
def test_ranked_order_is_the_stable_sort_of_the_ranks_with_ties_and_near_ties(masked):
    rng = np.random.default_rng(0)
    rank = rng.integers(0, 2**32, size=(3, 512), dtype=np.uint32)
    mine = rng.random((3, 512)) < 0.7 if masked else None
    near = rank.copy()  # lane 1: positions 5 and 9 share their top bits, in the reverse order of their positions
    near[1, 5], near[1, 9] = 0x12345600 | 0xFF, 0x12345600
    tied = rank.copy()  # lane 2: equal ranks, kept in position order
    tied[2, 40] = tied[2, 300] = tied[2, 7]
    order = jax.jit(jax.vmap(ppo.ranked_order, axis_name=LANES))
    for ranks in (rank, near, tied):
        got = np.asarray(order(ranks, mine) if masked else order(ranks))
        for lane in range(3):
            keys = (ranks[lane], ~mine[lane]) if masked else (ranks[lane],)
            np.testing.assert_array_equal(got[lane], np.lexsort(keys))
