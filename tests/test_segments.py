"""Training in segments: the executor's segment loop equals one call of init and every advance,
and each lane still equals its solo run, for PPO (with padded lanes), DQN and SAC."""

import jax
import numpy as np
import pytest

from hyperlax.algos import dqn, sac
from hyperlax.algos.common import LANES
from hyperlax.algos.interface import run_in_one_call
from hyperlax.envs import make_env
from hyperlax.plan import Unit
from hyperlax.run.executor import Executor, config_for
from tests import test_dqn, test_sac
from tests.lanes import assert_trees_close, tiny_config

# DQN and SAC have no paddable values; the PPO lanes (padded, from conftest) are shared with test_padding.
CASES = {
    "dqn": (dqn.ALGORITHM, "dqn_mlp", "gymnax.cartpole", test_dqn.TINY, test_dqn.LANES_HP),
    "sac": (sac.ALGORITHM, "sac_mlp", "gymnax.pendulum", test_sac.TINY, test_sac.LANES_HP),
}


def executor_for(algo, config, samples):
    """An executor whose one structure holds every sample's run, and the unit of all samples."""
    extents = algo.padded_extents([config_for(config, s) for s in samples])
    executor = Executor(algo, config, make_env(config["env"]), num_seeds=1, seed=7, extents={"one": extents})
    return executor, Unit("one", tuple(range(len(samples))), len(samples))


def solo_runs(algo, config, samples):
    """Each sample alone. Without paddable values every solo run is one program: compiled once."""
    assert not algo.paddable
    executor, _ = executor_for(algo, config, samples[:1])
    solos = [executor.run_unit(Unit("one", (i,), 1), [sample]) for i, sample in enumerate(samples)]
    assert executor.compile_count == 1
    return solos


@pytest.fixture(scope="module", params=["ppo", *CASES])
def case(request):
    if request.param == "ppo":
        run = request.getfixturevalue("padded_ppo")
        executor, config, samples, segmented, solos = (
            run.batch_executor, run.prepared.base_config, run.prepared.samples, run.padded, run.solos,
        )
        unit = run.prepared.plan[0].units[0]
    else:
        algo, algo_recipe, env_recipe, overrides, samples = CASES[request.param]
        config = tiny_config(algo_recipe, env_recipe, overrides)
        executor, unit = executor_for(algo, config, samples)
        segmented = executor.run_unit(unit, samples)
        solos = solo_runs(algo, config, samples)
    hparams, keys = executor.inputs(samples, unit.sample_ids, unit.lanes)
    segments = executor.algo.make_segments(config_for(config, samples[0]), executor.env, executor.extents[unit.structure])
    training = config["training"]
    train = run_in_one_call(segments, training["total_timesteps"], training["num_evaluations"])
    one_call = jax.device_get(jax.jit(jax.vmap(train, axis_name=LANES))(hparams, keys))
    return executor, segmented, one_call, solos


def test_segments_give_what_one_call_gives(case):
    # The same computations in two programs: XLA may round them a few float32 ulps apart (compiled
    # with the tests' reduced optimizations, SAC's parameters differ by up to 1e-6), so the check is at
    # that resolution, ten times finer than a lane against its solo run.
    executor, segmented, (state, metrics), _ = case
    num_evaluations = len(executor.milestones)
    assert executor.segments_run == num_evaluations and executor.compile_count == 1
    for got, want in zip(jax.tree.leaves(segmented.output.params), jax.tree.leaves(state["params"])):
        np.testing.assert_allclose(got[:, 0], want, rtol=1e-5, atol=1e-6)
    for got, want in zip(jax.tree.leaves(segmented.output.opt_state), jax.tree.leaves(state["opt_state"])):
        np.testing.assert_allclose(got[:, 0], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(segmented.output.returns[:, 0], metrics.episode_return, rtol=1e-5)
    np.testing.assert_array_equal(segmented.output.env_steps[:, 0], metrics.env_steps[:, -1])


def test_a_segmented_lane_equals_its_solo_run(case):
    _, segmented, _, solos = case
    assert np.isfinite(segmented.output.returns).all() and "diverged" not in segmented.output.status
    for i, solo in enumerate(solos):
        lane = jax.tree.map(lambda x: x[i], (segmented.output.params, segmented.output.opt_state))
        alone = jax.tree.map(lambda x: x[0], (solo.output.params, solo.output.opt_state))
        assert_trees_close(lane, alone, atol=1e-5)
        np.testing.assert_allclose(segmented.output.returns[i], solo.output.returns[0], atol=1e-4)
        assert segmented.output.env_steps[i, 0] == solo.output.env_steps[0, 0]
