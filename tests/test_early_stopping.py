"""Early stopping with refill: the rules on hand-made curves, then real sweeps whose stopped lanes
take the next samples inside one compiled function; a refilled lane equals its solo run; a
resumed sweep makes the same decisions; bad arguments fail before any work."""

import csv
import json
from pathlib import Path

import jax
import numpy as np
import pytest

from hyperlax.cli import main
from hyperlax.plan import Unit
from hyperlax.run import stopping
from hyperlax.run.stopping import Asha, Hyperband, Median, make_rule, wandb_hyperband
from tests.test_checkpoints import kill_after_checkpoint

MILESTONES = [100 * (i + 1) for i in range(9)]


def ask(rule, curves: dict[int, list[float]], order: list[int]) -> list[bool]:
    """Ask the rule about each sample in `order`, showing it the curves up to that sample's turn."""
    return [rule.stops(s, curves) for s in order]


def test_asha_compares_each_sample_with_those_recorded_at_its_rung_before_it():
    asha = Asha(rungs=[1, 3], eta=3)
    curves = {0: [10.0], 1: [5.0], 2: [20.0], 3: [9.0]}
    # 0 is the first at rung 1; 1 is below the 2/3 quantile of {10}; 2 above that of {10, 5} (8.33);
    # 3 below that of {10, 5, 20} (13.3).
    assert ask(asha, curves, [0, 1, 2, 3]) == [False, True, False, True]
    curves = {0: [10.0, 11.0, 12.0], 2: [20.0, 21.0, 3.0]}
    assert ask(asha, curves, [0, 2]) == [False, True]  # at rung 3: 2 is below 0's 12
    assert asha.stops(0, {0: [10.0, 11.0, 12.0, 13.0]}) is False  # no rung at 4 evaluations


def test_asha_state_restores_the_same_decisions():
    first = Asha(rungs=[1], eta=2)
    first.stops(0, {0: [10.0]})
    second = Asha(rungs=[1], eta=2)
    second.restore(json.loads(json.dumps(first.state())))
    assert second.stops(1, {1: [4.0]}) and not second.stops(2, {2: [11.0]})


def test_wandb_hyperband_strict_and_conservative_modes():
    # returns (maximized); band 2's threshold: the 2nd values sorted best first [-9, -10], index int(2/3) = 0
    curves = {0: [-10.0, -10.0, -6.0], 1: [-10.0, -9.0, -8.0]}
    assert Hyperband([2, 6], eta=3, strict=True).stops(0, curves)  # its value at band 2 (-10) is worse than -9
    assert not Hyperband([2, 6], eta=3, strict=False).stops(0, curves)  # its best so far (-6) is not
    assert not Hyperband([2, 6], eta=3).stops(1, curves)
    assert not Hyperband([2, 6], eta=3).stops(0, {0: [-10.0]})  # no band passed yet


def test_wandb_hyperband_bands_from_min_iter_or_max_iter():
    assert wandb_hyperband({"type": "hyperband", "min_iter": 3}, 27, 1.0).bands == [3, 9, 27]
    assert wandb_hyperband({"type": "hyperband", "max_iter": 18, "s": 2}, 27, 1.0).bands == [2, 6]
    rule = wandb_hyperband({"type": "hyperband", "min_iter": 1, "eta": 2, "strict": False}, 5, 1.0)
    assert rule.bands == [1, 2, 4] and rule.eta == 2 and rule.strict is False
    with pytest.raises(ValueError, match="max_iter needs s"):
        wandb_hyperband({"type": "hyperband", "max_iter": 9}, 9, 1.0)
    with pytest.raises(ValueError, match="unknown key 'min_iters'"):
        wandb_hyperband({"type": "hyperband", "min_iters": 3}, 9, 1.0)
    with pytest.raises(ValueError, match="eta must be a number of at least 2"):
        wandb_hyperband({"type": "hyperband", "min_iter": 3, "eta": 1}, 9, 1.0)


def test_median_stopping_needs_three_others_that_got_as_far():
    median = Median(grace=2)
    curves = {0: [1.0, 2.0], 1: [5.0, 5.0], 2: [4.0, 6.0]}
    assert not median.stops(0, curves)  # two others only
    curves[3] = [3.0, 3.0, 3.0]
    assert median.stops(0, curves)  # best 2 < median of running means {5, 5, 3} = 5
    assert not median.stops(0, {**curves, 0: [1.0]})  # before the grace period


def test_rungs_from_grace_period_and_reduction_factor():
    assert make_rule("asha", MILESTONES, 100, 3, None).rungs == [3, 1]  # 900 env steps is the budget: no rung
    assert make_rule("asha", MILESTONES, 150, 2, 600).rungs == [3, 2]  # 150 and 300 env steps: below the 600 budget
    assert make_rule("hyperband", MILESTONES, None, 3, None).bands == [1, 3]
    assert make_rule("none", MILESTONES, None, 3, None) is None
    assert stopping.last_milestone(MILESTONES, 450) == 4


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--early-stopping", "asha", "--reduction-factor", "1.5"], "--reduction-factor must be at least 2"),
        (["--early-stopping", "asha", "--grace-period", "4096"], "--grace-period 4096 must be positive and below the budget"),
        (["--early-stopping", "median", "--sequential"], "does not go with --sequential"),
        (["--early-stopping", "asha", "--pbt"], "--pbt and --early-stopping asha do not go together"),
        (["--pbt", "--set", "algorithm.hyperparam.actor_lr=3e-4", "--set", "algorithm.hyperparam.critic_lr=3e-4",
          "--set", "algorithm.hyperparam.gamma=0.99", "--set", "algorithm.hyperparam.ent_coef=0.01",
          "--set", "algorithm.hyperparam.num_envs=[2, 4]"], "--pbt needs at least one vectorized"),
        (["--pbt", "--perturbation-interval", "1024"], "leaves no perturbation before the last"),
        (["--pruner", "sha", "--early-stopping", "asha"], "--early-stopping asha and --pruner sha both stop samples"),
        (["--pruner", "hyperband", "--reduction-factor", "2.5"], "--pruner hyperband needs a whole --reduction-factor"),
        (["--pruner", "median", "--grace-period", "4096"], "--grace-period 4096 must be positive and below the budget"),
        (["--pruner", "sha", "--sampling-method", "tpe", "--pbt"], "--pbt does not go with it yet"),
    ],
)
def test_bad_arguments_fail_before_any_work(tiny_recipe, tmp_path, capsys, arguments, message):
    code = main([
        "sweep-hp-samples", "--algo-and-network-config", str(tiny_recipe), "--env-config", "gymnax.cartpole",
        "--num-samples", "4", "--total-timesteps", "1024", "--output-root", str(tmp_path / "out"), *arguments,
    ])
    assert code == 2 and message in capsys.readouterr().err.replace("\n", " ")
    assert not (tmp_path / "out").exists()


NUM_EVALUATIONS = 4
def es_args(recipe: Path, output_root: Path) -> list[str]:
    return [
        "sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
        "--num-samples", "7", "--hparam-batch-size", "3", "--total-timesteps", "1024",
        "--num-evaluations", str(NUM_EVALUATIONS), "--early-stopping", "asha", "--reduction-factor", "2",
        "--output-root", str(output_root), "--log-level", "WARNING",
    ]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return [{k: v for k, v in row.items() if k != "wall_s"} for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    from tests.conftest import write_recipe

    return write_recipe(tmp_path_factory.mktemp("recipe"))


@pytest.fixture(scope="module")
def sweep(recipe, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("asha")
    assert main(es_args(recipe, root)) == 0
    return root / recipe.stem / "gymnax_cartpole"


def test_asha_sweep_refills_stopped_lanes_in_one_compiled_function(sweep):
    summary = json.loads((sweep / "summary.json").read_text())
    results = rows(sweep / "results.csv")
    status = [r["status"] for r in results]
    assert len(results) == 7 and summary["compile_count"] == 1  # 7 samples through 3 lanes
    assert summary["num_stopped_samples"] == status.count("stopped") >= 2 and "finished" in status
    assert summary["env_steps"] == sum(int(r["env_steps"]) for r in results) < summary["env_steps_full_budget"] == 7 * 1024
    assert {r["sample_id"] for r in summary["best"]} <= {int(r["sample_id"]) for r in results if r["status"] == "finished"}
    with (sweep / "samples" / "batch_00000" / "metrics.csv").open() as f:
        metrics = list(csv.DictReader(f))
    for row in results:  # a stopped sample's curve ends at its stop; it trained exactly that far
        mine = [m for m in metrics if m["sample_id"] == row["sample_id"]]
        assert int(mine[-1]["env_steps"]) == int(row["env_steps"])
        assert len(mine) == (NUM_EVALUATIONS if row["status"] == "finished" else len(mine)) and len(mine) >= 1
        assert all(np.isfinite(float(m["mean_return"])) for m in mine)


def test_a_refilled_lane_equals_its_solo_run(sweep, recipe):
    from hyperlax.report.sweep_data import load_sweep, sweep_recipe
    from hyperlax.run.loop import Settings, make_executor, prepare

    results = rows(sweep / "results.csv")
    refilled = [int(r["sample_id"]) for r in results if r["status"] == "finished" and int(r["sample_id"]) >= 3]
    assert refilled, "no sample that started in a refilled lane ran to the end"
    sample_id = refilled[0]
    data = load_sweep(sweep)
    settings = Settings(hparam_batch_size=1, total_timesteps=1024, num_evaluations=NUM_EVALUATIONS)
    prepared = prepare(sweep_recipe(data), [data.rows[sample_id]["hyperparams"]], settings, {"kind": "test"})
    solo = make_executor(prepared).run_unit(Unit(prepared.plan[0].units[0].structure, (sample_id,), 1), prepared.samples)
    with np.load(sweep / "samples" / "batch_00000" / "params.npz") as batched:
        leaves = {name: batched[name] for name in batched.files if name.startswith(f"sample_{sample_id}/")}
    from hyperlax.run.executor import params_by_leaf

    for name, leaf in params_by_leaf(solo.output.params).items():
        np.testing.assert_allclose(leaves[f"sample_{sample_id}/{name}"], leaf[0], atol=1e-5, err_msg=name)
    np.testing.assert_allclose(solo.output.returns[0, 0], data.returns[sample_id][0], atol=1e-4)


def test_a_resumed_sweep_makes_the_same_stops_and_refills(recipe, sweep, tmp_path):
    kill_after_checkpoint(3, es_args(recipe, tmp_path))
    root = tmp_path / recipe.stem / "gymnax_cartpole"
    assert not (root / "samples" / "batch_00000" / "success.txt").exists()
    assert main(["sweep-hp-samples", "--resume-from", str(root), "--log-level", "WARNING"]) == 0
    assert rows(root / "results.csv") == rows(sweep / "results.csv")
    got, want = (p / "samples" / "batch_00000" / "metrics.csv" for p in (root, sweep))
    assert got.read_bytes() == want.read_bytes()
    summary = json.loads((root / "summary.json").read_text())
    assert summary["segments_run"] == json.loads((sweep / "summary.json").read_text())["segments_run"] - 3


def test_wandb_early_terminate_runs_with_its_bands(recipe, tmp_path):
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(
        "method: random\nrun_cap: 5\nmetric: {name: final_return, goal: maximize}\n"
        "early_terminate: {type: hyperband, min_iter: 1, eta: 3}\n"
        "parameters:\n  algorithm.hyperparam.actor_lr: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2}\n"
    )
    assert main([
        "sweep", "--config", str(sweep_file), "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
        "--hparam-batch-size", "2", "--total-timesteps", "1024", "--num-evaluations", "4",
        "--output-root", str(tmp_path / "out"), "--log-level", "WARNING",
    ]) == 0
    root = tmp_path / "out" / recipe.stem / "gymnax_cartpole"
    summary = json.loads((root / "summary.json").read_text())
    assert summary["num_finished_samples"] == 5 and summary["compile_count"] == 1
    assert summary["num_stopped_samples"] >= 1
    assert json.loads((root / "sweep.json").read_text())["arguments"]  # recorded like any sweep


class StopSampleZero:
    """A rule that stops sample 0 at its first milestone, so sample 2 starts while sample 1 goes on."""

    def stops(self, sample, curves):
        return sample == 0

    def state(self):
        return None

    def restore(self, state):
        pass


def test_an_off_policy_lane_refilled_mid_run_equals_its_solo_run():
    from hyperlax.algos import dqn
    from hyperlax.envs import make_env
    from hyperlax.run.executor import Executor, Scheduler
    from tests.lanes import tiny_config
    from tests.test_dqn import LANES_HP, TINY

    config = tiny_config("dqn_mlp", "gymnax.cartpole", {**TINY, "training": {**TINY["training"], "num_evaluations": 4}})
    env, extents = make_env(config["env"]), {"s": dqn.padded_extents([config])}
    pool = Executor(dqn.ALGORITHM, config, env, 1, 0, extents, scheduler=Scheduler(StopSampleZero()))
    together = pool.run_unit(Unit("s", (0, 1, 2), 2), LANES_HP)
    assert together.output.status == ["stopped", "finished", "finished"] and pool.compile_count == 1
    assert together.output.env_steps[:, 0].tolist() == [16, 64, 64]
    solo = Executor(dqn.ALGORITHM, config, env, 1, 0, extents)
    for i in (1, 2):
        alone = solo.run_unit(Unit("s", (i,), 1), [LANES_HP[i]]).output
        for got, want in zip(jax.tree.leaves((together.output.params, together.output.opt_state)), jax.tree.leaves((alone.params, alone.opt_state))):
            np.testing.assert_allclose(got[i], want[0], atol=1e-5)
        np.testing.assert_allclose(together.output.returns[i], alone.returns[0], atol=1e-4)


def test_stopped_samples_are_pruned_trials_of_the_sweeps_study(sweep):
    import optuna

    study = optuna.load_study(study_name="hyperlax", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(sweep / "study.log"))))
    by_id = {t.user_attrs["sample_id"]: t for t in study.trials}
    for row in rows(sweep / "results.csv"):
        trial = by_id[int(row["sample_id"])]
        assert trial.state.name == {"stopped": "PRUNED", "finished": "COMPLETE"}[row["status"]]
        assert len(trial.intermediate_values) >= 1
