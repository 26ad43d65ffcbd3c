"""Optuna's pruners stop samples at evaluation milestones; with a learning sampler, every evaluation
is reported to the sample's trial as it lands, and the lanes of stopped samples are refilled with
samples asked from the sampler, which already knows every finished and pruned trial."""

import csv
import json

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from hyperlax.cli import main
from hyperlax.run.pruning import OptunaPruner
from tests.test_checkpoints import kill_after_checkpoint

MILESTONES = [256, 512, 768, 1024]
WIDTH = "algorithm.network.actor_network.pre_torso.layer_sizes"


def test_successive_halving_keeps_the_top_of_each_rung():
    rule = OptunaPruner("sha", MILESTONES, last=3, grace=256, eta=2)
    curves = {0: [10.0]}
    assert not rule.stops(0, curves)  # the first at rung 256 goes on
    curves[1] = [5.0]
    assert rule.stops(1, curves)  # below the only other value there
    curves[2] = [20.0]
    assert not rule.stops(2, curves)
    curves[0] = [10.0, 30.0]
    assert not rule.stops(0, curves)  # the first at rung 512
    curves[2] = [20.0, 25.0]
    assert rule.stops(2, curves)
    curves[3] = [15.0]
    assert not rule.stops(3, curves)  # 4 values at rung 256: the top 2 (20, 15) go on
    copy = OptunaPruner("sha", MILESTONES, last=3, grace=256, eta=2)
    copy.restore(json.loads(json.dumps(rule.state())))  # as a checkpoint keeps it
    curves[4] = [12.0]
    assert rule.stops(4, curves) and copy.stops(4, curves)
    assert rule.state() == copy.state()


def test_median_pruner_waits_for_five_completed_samples():
    rule = OptunaPruner("median", MILESTONES, last=1, grace=256, eta=3)
    curves = {s: [float(s), float(s)] for s in range(4)}  # four samples completed at milestone 1
    curves[4] = [0.5]
    assert not rule.stops(4, curves)  # Optuna's n_startup_trials: 5 completed
    curves[5] = [9.0, 9.0]
    curves[6] = [1.5]
    assert rule.stops(6, curves)  # below the median (2) of the five completed at 256 steps
    curves[7] = [2.5]
    assert not rule.stops(7, curves)


def test_pruner_arguments_are_checked():
    with pytest.raises(ValueError, match="needs a whole --reduction-factor"):
        OptunaPruner("hyperband", MILESTONES, last=3, grace=256, eta=2.5)


def load_study(root):
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(root / "study.log")))
    return optuna.load_study(study_name="hyperlax", storage=storage)


def rows(path):
    with path.open() as f:
        return [{k: v for k, v in row.items() if k != "wall_s"} for row in csv.DictReader(f)]


def tpe_sha_args(recipe, output_root):
    return [
        "sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
        "--sampling-method", "tpe", "--pruner", "sha", "--reduction-factor", "2", "--num-samples", "7",
        "--hparam-batch-size", "2", "--total-timesteps", "1024", "--num-evaluations", "4", "--seed", "1",
        "--output-root", str(output_root), "--log-level", "WARNING",
    ]


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    from tests.conftest import write_recipe

    extra = f'"{WIDTH}": Categorical(values=[[8], [16]]),'
    return write_recipe(tmp_path_factory.mktemp("recipe"), "two_arch_ppo", extra)


@pytest.fixture(scope="module")
def sweep(recipe, tmp_path_factory):
    root = tmp_path_factory.mktemp("tpe_sha")
    assert main(tpe_sha_args(recipe, root)) == 0
    return root / recipe.stem / "gymnax_cartpole"


def test_tpe_with_a_pruner_refills_stopped_lanes_with_asked_samples(sweep):
    results = {int(r["sample_id"]): r for r in rows(sweep / "results.csv")}
    trials = load_study(sweep).trials
    assert sorted(results) == [t.number for t in trials] == list(range(7))
    assert {r["status"] for r in results.values()} == {"finished", "stopped"}
    for trial in trials:  # each evaluation reported at its env steps; pruned where the sample stopped
        row = results[trial.number]
        assert trial.state == (TrialState.PRUNED if row["status"] == "stopped" else TrialState.COMPLETE)
        assert max(trial.intermediate_values) == int(row["env_steps"])
        assert set(trial.intermediate_values) == set(range(256, int(row["env_steps"]) + 1, 256))
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    later = [t for t in trials if t.datetime_start > pruned[0].datetime_complete]
    assert later, "no sample was asked after the first stop"
    units = [u for d in sorted((sweep / "samples").iterdir()) for u in json.loads((d / "info.json").read_text())["units"]]
    assert sorted(i for u in units for i in u["sample_ids"]) == list(range(7))
    for unit in units:  # a refill is asked with its pool's architecture fixed
        assert len({results[i][WIDTH] for i in unit["sample_ids"]}) == 1
    summary = json.loads((sweep / "summary.json").read_text())
    assert summary["compile_count"] == len(units) <= 2 and summary["num_stopped_samples"] == len(pruned)


def test_a_resumed_tpe_sha_sweep_asks_and_stops_the_same(recipe, sweep, tmp_path):
    kill_after_checkpoint(3, tpe_sha_args(recipe, tmp_path))
    root = tmp_path / recipe.stem / "gymnax_cartpole"
    assert main(["sweep-hp-samples", "--resume-from", str(root), "--log-level", "WARNING"]) == 0
    assert rows(root / "results.csv") == rows(sweep / "results.csv")
    got, want = load_study(root).trials, load_study(sweep).trials
    assert [(t.params, t.state, t.intermediate_values) for t in got] == [
        (t.params, t.state, t.intermediate_values) for t in want
    ]
