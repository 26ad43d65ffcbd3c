"""Population-based training: exploit copies a lane's whole state inside the compiled step,
explore stays within the distributions, lineage.csv records every interval, and a final lane's
schedule replays as a run of its own with the lane's result."""

import csv
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hyperlax.algos.interface import lane_hparams
from hyperlax.cli import main
from hyperlax.config import flatten, merge
from hyperlax.envs import make_env
from hyperlax.recipes import load_recipe
from hyperlax.run import pbt
from hyperlax.run.devices import LaneSharding
from hyperlax.space import LogUniform, Uniform

OPTIONS = pbt.Options(
    perturbation_interval=100, quantile_fraction=0.25, resample_probability=0.25, perturbation_factors=(1.2, 0.8),
    keys=("lr", "gamma"), distributions={"lr": LogUniform(domain=(1e-4, 1e-2)), "gamma": Uniform(domain=(0.9, 0.99))},
)


def test_the_bottom_quantile_exploits_the_top_one_and_explores_within_bounds():
    values = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, float("nan")]
    current = [{"lr": 1e-3, "gamma": 0.95 + 0.001 * i} for i in range(8)]
    exploits = pbt.step(OPTIONS, values, current, seed=0, unit_id=0, interval=1)
    assert sorted(e.child for e in exploits) == [1, 7]  # the two worst (NaN ranks last)
    assert all(e.parent in (2, 6) for e in exploits)  # the two best
    for e in exploits:
        for key, value in e.hyperparams.items():
            low, high = pbt.bounds(OPTIONS.distributions[key])
            assert low <= value <= high
    assert exploits == pbt.step(OPTIONS, values, current, seed=0, unit_id=0, interval=1)  # seeded
    never_resampled = OPTIONS._replace(resample_probability=0.0, perturbation_factors=(1.2,))
    (e, _) = pbt.step(never_resampled, values, current, seed=0, unit_id=0, interval=1)
    assert e.hyperparams["lr"] == pytest.approx(1.2e-3) and e.hyperparams["gamma"] == 0.99  # clipped to the bound


def test_intervals_cross_multiples_of_the_perturbation_interval():
    milestones = [100, 200, 300, 400, 500]
    assert pbt.intervals(OPTIONS, milestones) == [0, 1, 2, 3]  # never at the last milestone
    assert pbt.intervals(OPTIONS._replace(perturbation_interval=250), milestones) == [2]  # 300 crosses 250; 500 is the last


def test_schedule_follows_the_state_back_to_its_first_sample():
    def row(interval, sample, parent, lr):
        return {"interval": interval, "sample_id": sample, "parent_id": parent, "from_segment": interval, "lr": lr}

    lineage = [row(0, 0, 0, 1), row(0, 1, 1, 2), row(1, 0, 0, 1), row(1, 1, 0, 3), row(2, 0, 1, 4), row(2, 1, 1, 3)]
    ancestor, pieces = pbt.schedule(lineage, 0)  # 0 copied 1 at interval 2, which had copied 0 at interval 1
    assert ancestor == 0 and [(first, r["lr"]) for first, r in pieces] == [(0, 1), (1, 3), (2, 4)]
    ancestor, pieces = pbt.schedule(lineage, 1)
    assert ancestor == 0 and [(first, r["lr"]) for first, r in pieces] == [(0, 1), (1, 3), (2, 3)]


@pytest.mark.parametrize("num_devices", [1, 2])
def test_exploit_copies_every_leaf_of_a_lane_state_replay_buffer_included(num_devices):
    if len(jax.local_devices()) < num_devices:
        pytest.skip(f"needs {num_devices} devices")
    recipe = load_recipe("dqn_mlp", "gymnax.cartpole")
    small = {"hyperparam": {"num_envs": 2, "buffer_size": 64, "batch_size": 8}, "network": {"q_network": {"pre_torso": {"layer_sizes": [8]}}}}
    config = merge(recipe.base_config, {"algorithm": small})
    env = make_env(config["env"])
    segments = recipe.algorithm.make_segments(config, env, recipe.algorithm.padded_extents([config]))
    hparams = lane_hparams(recipe.algorithm, [flatten(config)] * 4)
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    copy = LaneSharding(jax.local_devices()[:num_devices]).jit_copy()
    state = jax.jit(jax.vmap(segments.init))(hparams, keys)
    state = jax.tree.map(lambda x: x.at[3].set(~x[3]) if x.dtype == bool else x.at[3].add(1), state)  # lane 3 differs
    copied = copy(jax.tree.map(jnp.copy, state), jnp.asarray([0, 3, 2, 3], jnp.int32))  # lane 1 takes lane 3's
    assert {"params", "opt_state", "buffer", "env_state", "loop_key"} <= set(copied)
    for (path, got), want in zip(jax.tree_util.tree_leaves_with_path(copied), jax.tree.leaves(state)):
        np.testing.assert_array_equal(got[1], want[3], err_msg=jax.tree_util.keystr(path))
        for kept in (0, 2, 3):
            np.testing.assert_array_equal(got[kept], want[kept], err_msg=jax.tree_util.keystr(path))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    from tests.conftest import write_recipe

    recipe = write_recipe(tmp_path_factory.mktemp("recipe"))
    root = tmp_path_factory.mktemp("pbt")
    assert main([
        "sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
        "--num-samples", "4", "--hparam-batch-size", "4", "--total-timesteps", "1024", "--num-evaluations", "4",
        "--pbt", "--output-root", str(root), "--log-level", "WARNING",
    ]) == 0
    return root / recipe.stem / "gymnax_cartpole"


def lineage_of(sweep):
    with (sweep / "lineage.csv").open() as f:
        return list(csv.DictReader(f))


def test_lineage_records_every_interval_and_sample(sweep):
    lineage = lineage_of(sweep)
    assert [int(r["interval"]) for r in lineage] == [i for i in range(4) for _ in range(4)]
    exploited = [r for r in lineage if r["parent_id"] != r["sample_id"]]
    assert len(exploited) == 3  # one of four samples per interval
    summary = json.loads((sweep / "summary.json").read_text())
    assert summary["compile_count"] == 1 and summary["num_finished_samples"] == 4
    by = {(r["interval"], r["sample_id"]): r for r in lineage}
    for child in exploited:  # a child's values are its parent's, perturbed or redrawn
        parent = by[(child["interval"], child["parent_id"])]
        assert float(child["return"]) <= float(parent["return"])


def test_a_replayed_schedule_equals_the_lane(sweep):
    from hyperlax.report.rerun import replay_schedule

    child = next(r for r in reversed(lineage_of(sweep)) if r["parent_id"] != r["sample_id"])
    report = replay_schedule(sweep, int(child["sample_id"]))
    assert len(report["schedule"]) == 4
    np.testing.assert_allclose(report["replayed_returns"], report["recorded_returns"], atol=1e-3)
    assert (sweep / "reruns" / f"replay_sample_{child['sample_id']}.json").is_file()
