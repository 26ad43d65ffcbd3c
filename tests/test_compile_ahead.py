"""Steps compiled ahead: told the units to come, the executor compiles their programs in plan order
on a background thread while earlier units train; the programs, and so the results, are those it
would compile when each unit starts, and a failed compile surfaces when its unit runs. A unit's
programs compile side by side, `start` on a helper thread with XLA options for compile speed that
leave its numbers as they were; `start` writes each fresh lane as that lane starts alone."""

import re
import threading

import jax
import numpy as np
import pytest

from hyperlax.algos.common import LANES
from hyperlax.recipes import load_recipe
from hyperlax.run import executor as executor_module
from hyperlax.run.executor import ONCE, Executor, config_for, lane_score, lane_start
from hyperlax.run.loop import Settings, make_executor, prepare
from hyperlax.space import draw_samples
from tests.lanes import lane


@pytest.fixture
def planned(two_arch_recipe):
    """A prepared sweep of two structures (two hidden widths), and its units with their samples."""
    recipe = load_recipe(str(two_arch_recipe), "gymnax.cartpole")
    samples = draw_samples(recipe.distributions, 4, "qmc_sobol", 0)
    settings = Settings(hparam_batch_size=2, total_timesteps=256, num_evaluations=2, compile_cache="off")
    prepared = prepare(recipe, samples, settings, {})
    units = [(u, [prepared.samples[i] for i in u.sample_ids]) for b in prepared.plan for u in b.units]
    assert len({u.structure for u, _ in units}) == 2
    return prepared, units


@pytest.fixture
def builds(monkeypatch):
    """Each step the executors compile: (the thread it compiled on, its unit's structure), in order."""
    seen, build = [], Executor._build

    def recorded(self, unit, *args):
        seen.append((threading.current_thread().name, unit.structure))
        return build(self, unit, *args)

    monkeypatch.setattr(Executor, "_build", recorded)
    return seen


def test_steps_compiled_ahead_are_the_steps_compiled_in_turn(planned, builds):
    prepared, units = planned
    ahead = make_executor(prepared)
    ahead.compile_ahead(units)
    results = [ahead.run_unit(unit, samples) for unit, samples in units]
    ahead.close()
    structures = list(dict.fromkeys(u.structure for u, _ in units))
    assert [structure for _, structure in builds] == structures  # once each, in plan order
    assert all(thread.startswith("hyperlax-compile") for thread, _ in builds)
    assert ahead.compile_count == 2 and 0 < ahead.compile_wait_s and 0 < ahead.compile_s

    builds.clear()
    in_turn = make_executor(prepared)
    expected = [in_turn.run_unit(unit, samples) for unit, samples in units]
    assert [thread for thread, _ in builds] == [threading.current_thread().name] * 2
    for got, want in zip(results, expected):
        assert got.sample_ids == want.sample_ids
        np.testing.assert_array_equal(got.output.returns, want.output.returns)
        for leaf, wanted in zip(jax.tree.leaves(got.output.params), jax.tree.leaves(want.output.params)):
            np.testing.assert_array_equal(leaf, wanted)


def test_a_step_that_fails_to_compile_ahead_fails_its_unit_and_leaves_no_thread(planned, monkeypatch):
    prepared, units = planned
    failing = units[-1][0].structure
    build = Executor._build

    def build_or_fail(self, unit, *args):
        if unit.structure == failing:
            raise RuntimeError(f"no program for {unit.structure}")
        return build(self, unit, *args)

    monkeypatch.setattr(Executor, "_build", build_or_fail)
    executor = make_executor(prepared)
    executor.compile_ahead(units)
    first = [(u, s) for u, s in units if u.structure != failing]
    for unit, samples in first:
        executor.run_unit(unit, samples)
    with pytest.raises(RuntimeError, match=re.escape(f"no program for {failing}")):
        executor.run_unit(*units[-1])
    executor.close()
    assert not any(t.name.startswith("hyperlax-compile") for t in threading.enumerate())


def test_closing_drops_the_steps_not_yet_compiled_and_a_unit_then_compiles_its_own(planned, builds):
    prepared, units = planned
    executor = make_executor(prepared)
    executor.compile_ahead(units)
    executor.close()
    assert executor.ahead == {} and executor.compile_count == 0
    compiled_ahead = len(builds)  # the first may have begun compiling before close; the second had not
    assert compiled_ahead <= 1
    unit, samples = units[-1]
    executor.run_unit(unit, samples)
    assert executor.compile_count == 1 and builds[-1] == (threading.current_thread().name, unit.structure)


def test_a_units_programs_compile_side_by_side(planned, monkeypatch):
    prepared, units = planned
    seen, compiled = [], executor_module._compiled

    def recorded(lowered, options=None):
        seen.append((re.search(r"module @(\w+)", lowered.as_text()).group(1), threading.current_thread().name))
        return compiled(lowered, options)

    monkeypatch.setattr(executor_module, "_compiled", recorded)
    executor = make_executor(prepared)
    unit, samples = units[0]
    result = executor.run_unit(unit, samples)
    threads = dict(seen)
    assert len(seen) == 3 and set(threads) == {"jit_start", "jit_advance", "jit_score"}  # no copy without PBT
    assert threads["jit_start"].startswith("hyperlax-compile-start") and threads["jit_score"] == threads["jit_start"]
    assert threads["jit_advance"] == threading.current_thread().name
    assert executor.compile_count == 1 and np.isfinite(result.output.returns).all()


ALGORITHMS = [("ppo_mlp", "gymnax.cartpole"), ("dqn_mlp", "gymnax.cartpole"), ("sac_mlp", "gymnax.pendulum")]


def two_lanes(algo, env):
    """Two samples of the recipe's float values as one unit: the executor, its segments, the lanes'
    inputs and state shapes."""
    recipe = load_recipe(algo, env)
    floats = {k: v for k, v in recipe.distributions.items() if k in recipe.algorithm.vectorized}
    samples = draw_samples(floats, 2, "qmc_sobol", 0)
    prepared = prepare(recipe, samples, Settings(hparam_batch_size=2, total_timesteps=20480, compile_cache="off"), {})
    executor = make_executor(prepared)
    (unit,) = prepared.plan[0].units
    unit_samples = [prepared.samples[i] for i in unit.sample_ids]
    hparams, keys = executor.inputs(unit_samples, unit.sample_ids, unit.lanes)
    segments = recipe.algorithm.make_segments(
        config_for(prepared.base_config, unit_samples[0]), executor.env, prepared.extents[unit.structure]
    )
    shapes = jax.eval_shape(jax.vmap(segments.init, axis_name=LANES), hparams, keys)
    assert keys.shape[0] == 2
    return executor, segments, unit_samples, unit.sample_ids, hparams, keys, shapes


def zeros(shapes):
    return jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes)


@pytest.mark.parametrize(("algo", "env"), ALGORITHMS)
def test_start_and_score_compiled_for_compile_speed_match_the_default_compile_bit_for_bit(algo, env):
    _, segments, _, _, hparams, keys, shapes = two_lanes(algo, env)
    fresh = np.ones(keys.shape[0], bool)
    lowered = jax.jit(lane_start(segments)).lower(shapes, hparams, keys, fresh)
    default = jax.device_get(lowered.compile()(zeros(shapes), hparams, keys, fresh))
    fast = jax.device_get(lowered.compile(compiler_options=ONCE)(zeros(shapes), hparams, keys, fresh))
    assert jax.tree.structure(fast) == jax.tree.structure(default)
    for a, b in zip(jax.tree.leaves(fast), jax.tree.leaves(default)):
        np.testing.assert_array_equal(a, b)
    scoring = jax.jit(lane_score(segments)).lower(shapes)
    returns = [scoring.compile(compiler_options=options)(default) for options in (None, ONCE)]
    assert np.isfinite(returns[0]).all()
    np.testing.assert_array_equal(returns[1], returns[0])


@pytest.mark.parametrize(("algo", "env"), ALGORITHMS)
def test_start_writes_each_fresh_lane_as_it_starts_alone_and_keeps_the_others(algo, env):
    executor, segments, samples, sample_ids, hparams, keys, shapes = two_lanes(algo, env)

    def start(state, hparams, keys, *fresh):
        fresh = np.array(fresh)
        program = jax.jit(lane_start(segments), donate_argnums=0).lower(state, hparams, keys, fresh)
        return jax.device_get(program.compile(compiler_options=ONCE)(state, hparams, keys, fresh))

    def assert_lanes_equal(got, i, want, j):
        jax.tree.map(np.testing.assert_array_equal, lane(got, i), lane(want, j))

    both = start(zeros(shapes), hparams, keys, True, True)
    one_lane = jax.tree.map(lambda s: jax.ShapeDtypeStruct((1, *s.shape[1:]), s.dtype), shapes)
    for i in range(2):
        alone = start(zeros(one_lane), *executor.inputs(samples[i : i + 1], sample_ids[i : i + 1], 1), True)
        assert_lanes_equal(both, i, alone, 0)
    swapped = keys[::-1]  # lane 1 starts again, from lane 0's key; lane 0 keeps its state
    again = start(both, hparams, swapped, False, True)
    assert_lanes_equal(again, 0, both, 0)
    assert_lanes_equal(again, 1, start(zeros(shapes), hparams, swapped, True, True), 1)
