"""Lanes that differ in paddable values share one compiled function and each still is its solo run."""

import jax
import numpy as np
import pytest

from hyperlax.recipes import load_recipe
from hyperlax.run.loop import Settings, make_executor, prepare

HP = "algorithm.hyperparam."


def paddable(num_envs, rollout_length, update_epochs, num_minibatches, actor_lr):
    return {
        HP + "num_envs": num_envs, HP + "rollout_length": rollout_length, HP + "update_epochs": update_epochs,
        HP + "num_minibatches": num_minibatches, HP + "actor_lr": actor_lr,
    }


def padded_and_solo(recipe_path, samples, total_timesteps):
    """The padded batch's output and each sample's solo output, with both executors."""
    recipe = load_recipe(str(recipe_path), "gymnax.cartpole")
    common = {"total_timesteps": total_timesteps, "num_evaluations": 2}
    batched = prepare(recipe, samples, Settings(hparam_batch_size=len(samples), **common), {})
    solo = prepare(recipe, samples, Settings(sequential=True, **common), {})
    (unit,) = batched.plan[0].units
    batch_executor, solo_executor = make_executor(batched), make_executor(solo)
    padded = batch_executor.run_unit(unit, samples)
    solos = [solo_executor.run_unit(run.units[0], [samples[i]]) for i, run in enumerate(solo.plan)]
    return padded, solos, batch_executor, solo_executor


def assert_lane_is_solo(padded, lane, solo):
    lane_tree = jax.tree.map(lambda x: x[lane], (padded.output.params, padded.output.opt_state))
    solo_tree = jax.tree.map(lambda x: x[0], (solo.output.params, solo.output.opt_state))
    for (path, got), want in zip(jax.tree_util.tree_leaves_with_path(lane_tree), jax.tree.leaves(solo_tree)):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0, err_msg=f"lane {lane} {jax.tree_util.keystr(path)}")
    np.testing.assert_array_equal(padded.output.returns[lane], solo.output.returns[0])
    assert padded.output.env_steps[lane] == solo.output.env_steps[0]


@pytest.fixture
def annealed_recipe(tiny_recipe):
    """The tiny recipe with a learning rate annealed over each lane's own number of updates."""
    tiny_recipe.write_text(tiny_recipe.read_text().replace('"anneal_lr": False', '"anneal_lr": True'))
    return tiny_recipe


def test_lanes_differing_in_every_paddable_value_equal_their_solo_runs_after_two_updates(annealed_recipe):
    # 32 env steps per update for every lane, so a 64-step budget is 2 full updates each.
    samples = [
        paddable(1, 32, 1, 1, 3e-4),
        paddable(2, 16, 2, 2, 5e-4),
        paddable(4, 8, 3, 4, 7e-4),
        paddable(8, 4, 4, 8, 9e-4),
    ]
    padded, solos, batch_executor, solo_executor = padded_and_solo(annealed_recipe, samples, 64)
    assert batch_executor.compile_count == 1 and solo_executor.compile_count == 4
    for lane, solo in enumerate(solos):
        assert_lane_is_solo(padded, lane, solo)
        # Adam stepped exactly update_epochs * num_minibatches times per update: masked steps skipped.
        counts = {int(x[lane, 0]) for x in jax.tree.leaves(padded.output.opt_state) if x.dtype == np.int32 and x.ndim == 2}
        epochs, minibatches = samples[lane][HP + "update_epochs"], samples[lane][HP + "num_minibatches"]
        assert counts == {2 * epochs * minibatches}
    kernels = padded.output.params["actor"]["params"]["Torso_0"]["Dense_0"]["kernel"]
    assert not np.allclose(kernels[0], kernels[1])


def test_lanes_with_different_numbers_of_updates_stop_at_their_own_budget(tiny_recipe):
    # 32, 64, 128 and 256 env steps per update: 8, 4, 2 and 1 updates of a 256-step budget.
    samples = [
        paddable(1, 32, 2, 2, 3e-4),
        paddable(2, 32, 1, 4, 5e-4),
        paddable(8, 16, 2, 1, 7e-4),
        paddable(16, 16, 1, 2, 9e-4),
    ]
    padded, solos, *_ = padded_and_solo(tiny_recipe, samples, 256)
    for lane, solo in enumerate(solos):
        assert_lane_is_solo(padded, lane, solo)
    assert not np.isnan(padded.output.returns).any()  # every lane has a point at every milestone
    assert list(padded.output.env_steps[:, 0]) == [256] * 4
    # 8 updates of up to 32 steps x 16 envs were computed for every lane
    assert padded.slots == 4 * 8 * 32 * 16 and padded.env_steps == 4 * 256
