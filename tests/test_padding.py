"""Lanes that differ in paddable values share one compiled function and each still is its solo run."""

import jax
import numpy as np

from tests.conftest import PADDED_BUDGET, PADDED_LANES


def assert_lane_is_solo(padded, lane, solo):
    lane_tree = jax.tree.map(lambda x: x[lane], (padded.output.params, padded.output.opt_state))
    solo_tree = jax.tree.map(lambda x: x[0], (solo.output.params, solo.output.opt_state))
    for (path, got), want in zip(jax.tree_util.tree_leaves_with_path(lane_tree), jax.tree.leaves(solo_tree)):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0, err_msg=f"lane {lane} {jax.tree_util.keystr(path)}")
    np.testing.assert_array_equal(padded.output.returns[lane], solo.output.returns[0])
    assert padded.output.env_steps[lane] == solo.output.env_steps[0]


def updates(lane):
    """Updates of the lane's own run within the budget."""
    num_envs, rollout_length, *_ = PADDED_LANES[lane]
    return PADDED_BUDGET // (num_envs * rollout_length)


def test_lanes_differing_in_every_paddable_value_equal_their_solo_runs(padded_ppo):
    # The learning rate is annealed over each lane's own number of updates.
    run = padded_ppo
    assert run.batch_executor.compile_count == 1 and run.solo_executor.compile_count == len(PADDED_LANES)
    for lane, solo in enumerate(run.solos):
        assert_lane_is_solo(run.padded, lane, solo)
        # Adam stepped exactly update_epochs * num_minibatches times per update: masked steps skipped.
        counts = {int(x[lane, 0]) for x in jax.tree.leaves(run.padded.output.opt_state) if x.dtype == np.int32 and x.ndim == 2}
        _, _, epochs, minibatches, _ = PADDED_LANES[lane]
        assert counts == {updates(lane) * epochs * minibatches}
    kernels = run.padded.output.params["actor"]["params"]["Torso_0"]["Dense_0"]["kernel"]
    assert not np.allclose(kernels[0], kernels[1])


def test_lanes_with_different_numbers_of_updates_stop_at_their_own_budget(padded_ppo):
    padded = padded_ppo.padded
    assert [updates(lane) for lane in range(4)] == [8, 4, 2, 1]
    assert not np.isnan(padded.output.returns).any()  # every lane has a point at every milestone
    assert list(padded.output.env_steps[:, 0]) == [PADDED_BUDGET] * 4
    # 8 updates of up to 32 steps x 64 envs were computed for every lane
    assert padded.slots == 4 * 8 * 32 * 64 and padded.env_steps == 4 * PADDED_BUDGET
