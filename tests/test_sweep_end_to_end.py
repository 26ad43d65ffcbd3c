"""A whole sweep as a user runs it: output layout, compile count, resume, attribution."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from hyperlax.algos import ppo
from hyperlax.cli import main
from hyperlax.recipes import load_recipe
from hyperlax.run.executor import config_for, lane_key, params_by_leaf
from hyperlax.run.loop import Settings, execute, make_executor, prepare, start
from tests.lanes import config_lane, initial_params


def sweep(recipe, root, *extra):
    args = ["sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
            "--output-root", str(root), *extra]
    return main(args)


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_batched_sweep_layout_and_one_compile(tiny_recipe, tmp_path):
    assert sweep(tiny_recipe, tmp_path / "out", "--num-samples", "5", "--hparam-batch-size", "4", "--num-seeds", "2") == 0
    root = tmp_path / "out" / "tiny_ppo" / "gymnax_cartpole"
    assert sorted(p.name for p in (root / "samples").iterdir()) == ["batch_00000", "batch_00001"]
    record = json.loads((root / "sweep.json").read_text())
    assert record["arguments"]["num_samples"] == 5 and record["arguments"]["seed"] == 0
    assert len(record["fingerprint"]) == 64 and "jax" in record["versions"]
    machine = record["machine"]  # what the sweep's speed depends on
    assert machine["cores"] == len(os.sched_getaffinity(0)) and machine["devices"] == f"{jax.local_device_count()} x cpu: cpu"
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if "model name" in cpuinfo:  # Linux: the CPU's model, with its family and model numbers
        assert machine["cpu"].split(" (family ")[0] in cpuinfo and ", model " in machine["cpu"]
    assert [r["sample_id"] for r in read_csv(root / "samples.csv")] == ["0", "1", "2", "3", "4"]
    for name, ids in (("batch_00000", [0, 1, 2, 3]), ("batch_00001", [4])):
        batch = root / "samples" / name
        assert (batch / "success.txt").is_file()
        assert json.loads((batch / "hparams.json").read_text())["sample_ids"] == ids
        metrics = np.genfromtxt(batch / "metrics.csv", delimiter=",", names=True, ndmin=1)
        assert len(metrics) == len(ids) * 2 * 2  # samples x seeds x milestones
        assert set(metrics["env_steps"]) == {512, 1024}
        params = np.load(batch / "params.npz")
        assert params[f"sample_{ids[-1]}/actor/params/Torso_0/Dense_0/kernel"].shape == (2, 4, 16)  # seeds, obs, width
    rows = read_csv(root / "results.csv")
    assert [r["sample_id"] for r in rows] == ["0", "1", "2", "3", "4"]
    assert {"directory", "algorithm.hyperparam.actor_lr", "final_return", "best_return", "wall_s"} <= set(rows[0])
    summary = json.loads((root / "summary.json").read_text())
    # one structure, and the partial last batch is padded to reuse the same compiled function
    assert summary["compile_count"] == 1
    assert summary["num_finished_samples"] == 5
    # the sweep's Optuna study: one complete trial per sample, with the recipe's distributions
    study = optuna.load_study(study_name="hyperlax", storage=JournalStorage(JournalFileBackend(str(root / "study.log"))))
    assert [t.user_attrs["sample_id"] for t in study.trials] == [0, 1, 2, 3, 4]
    for trial, row in zip(study.trials, rows):
        assert trial.state == optuna.trial.TrialState.COMPLETE and trial.value == float(row["final_return"])
        assert trial.params == {k: float(row[k]) for k in trial.params} and len(trial.params) == 4
        assert set(trial.intermediate_values) == {512, 1024}
    assert study.trials[0].distributions["algorithm.hyperparam.actor_lr"].log


def test_sequential_runs_compile_once_per_structure(two_arch_recipe, tmp_path):
    assert sweep(two_arch_recipe, tmp_path, "--num-samples", "4", "--sequential", "--total-timesteps", "256",
                 "--num-evaluations", "1") == 0
    root = tmp_path / "two_arch_ppo" / "gymnax_cartpole"
    assert sorted(p.name for p in (root / "samples").iterdir()) == ["run_0000", "run_0001", "run_0002", "run_0003"]
    summary = json.loads((root / "summary.json").read_text())
    structures = {tuple(json.loads(r["algorithm.network.actor_network.pre_torso.layer_sizes"]))
                  for r in read_csv(root / "results.csv")}
    assert summary["compile_count"] == len(structures) == 2


def test_a_batch_mixing_architectures_runs_one_call_per_structure(two_arch_recipe, tmp_path):
    assert sweep(two_arch_recipe, tmp_path, "--num-samples", "4", "--hparam-batch-size", "4", "--total-timesteps", "256",
                 "--num-evaluations", "1") == 0
    root = tmp_path / "two_arch_ppo" / "gymnax_cartpole"
    batch = root / "samples" / "batch_00000"
    units = json.loads((batch / "info.json").read_text())["units"]
    assert len(units) == 2 and sorted(i for u in units for i in u["sample_ids"]) == [0, 1, 2, 3]
    params = np.load(batch / "params.npz")
    widths = {params[f"sample_{i}/actor/params/Torso_0/Dense_0/kernel"].shape[-1] for i in range(4)}
    assert widths == {8, 16}
    assert [r["sample_id"] for r in read_csv(root / "results.csv")] == ["0", "1", "2", "3"]


def test_grouped_batches_hold_one_structure_each(two_arch_recipe, tmp_path):
    assert sweep(two_arch_recipe, tmp_path, "--num-samples", "6", "--hparam-batch-size", "4",
                 "--group-by-structural-hparams", "True", "--total-timesteps", "256", "--num-evaluations", "1") == 0
    root = tmp_path / "two_arch_ppo" / "gymnax_cartpole"
    for batch in (root / "samples").iterdir():
        units = json.loads((batch / "info.json").read_text())["units"]
        assert len(units) == 1
    assert json.loads((root / "summary.json").read_text())["compile_count"] == 2


def test_existing_sweep_is_never_overwritten_and_resume_checks_the_fingerprint(tiny_recipe, tmp_path, capsys):
    args = ("--num-samples", "3", "--hparam-batch-size", "2", "--total-timesteps", "256", "--num-evaluations", "1")
    assert sweep(tiny_recipe, tmp_path, *args) == 0
    root = tmp_path / "tiny_ppo" / "gymnax_cartpole"
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file() and p.name not in ("summary.json", "results.csv")}
    assert sweep(tiny_recipe, tmp_path, *args) == 2
    assert "--resume-from" in capsys.readouterr().err
    assert main(["sweep-hp-samples", "--resume-from", str(root), "--num-samples", "4"]) == 2
    err = capsys.readouterr().err
    assert "refusing to resume" in err and "--num-samples" in err and "Nothing was deleted" in err
    assert main(["sweep-hp-samples", "--resume-from", str(root)]) == 0
    after = {p: p.stat().st_mtime_ns for p in before}
    assert before == after  # a finished sweep resumes without re-running or rewriting anything but results
    assert json.loads((root / "summary.json").read_text())["batches_skipped_on_resume"] == 2


def test_resume_after_sigkill_runs_each_sample_exactly_once(tiny_recipe, tmp_path):
    root = tmp_path / "tiny_ppo" / "gymnax_cartpole"
    cmd = [sys.executable, "-m", "hyperlax.cli", "sweep-hp-samples", "--algo-and-network-config", str(tiny_recipe),
           "--env-config", "gymnax.cartpole", "--output-root", str(tmp_path), "--num-samples", "6",
           "--hparam-batch-size", "2", "--total-timesteps", "8192", "--num-evaluations", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    first = root / "samples" / "batch_00000" / "success.txt"
    deadline = time.time() + 240
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert first.exists()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in (root / "samples").glob("*/success.txt")}
    assert len(finished) < 3, "the sweep finished before it could be killed"
    assert main(["sweep-hp-samples", "--resume-from", str(root)]) == 0
    for name, mtime in finished.items():
        assert (root / "samples" / name / "success.txt").stat().st_mtime_ns == mtime  # not re-run
    ids = [int(r["sample_id"]) for r in read_csv(root / "results.csv")]
    assert ids == [0, 1, 2, 3, 4, 5]


def test_a_lane_with_learning_rate_zero_keeps_its_initial_parameters(tiny_recipe, tmp_path):
    recipe = load_recipe(str(tiny_recipe), "gymnax.cartpole")
    samples = [{"algorithm.hyperparam.actor_lr": lr, "algorithm.hyperparam.critic_lr": lr} for lr in (3e-4, 1e-3, 0.0, 5e-4)]
    prepared = prepare(recipe, samples, Settings(hparam_batch_size=4, seed=7, total_timesteps=512), {"kind": "explicit"})
    root = tmp_path / "sweep"
    start(root, prepared, {}, resume=False)
    execute(root, prepared)
    params = np.load(root / "samples" / "batch_00000" / "params.npz")
    for sample_id in range(4):
        config = config_for(prepared.base_config, samples[sample_id])
        initial = initial_params(ppo.ALGORITHM, config, config_lane(ppo.ALGORITHM, config), lane_key(7, sample_id, 0))
        for path, leaf in jax.tree_util.tree_leaves_with_path(initial):
            name = "/".join(k.key for k in path)
            same = np.allclose(params[f"sample_{sample_id}/{name}"][0], leaf, atol=0)
            assert same == (sample_id == 2), (sample_id, name)
    rows = read_csv(root / "results.csv")
    assert float(rows[2]["algorithm.hyperparam.actor_lr"]) == 0.0 and rows[2]["sample_id"] == "2"


def test_a_batched_lane_equals_its_solo_run(tiny_recipe):
    recipe = load_recipe(str(tiny_recipe), "gymnax.cartpole")
    rng = np.random.default_rng(0)
    samples = [
        {"algorithm.hyperparam.actor_lr": float(rng.uniform(1e-4, 1e-3)), "algorithm.hyperparam.critic_lr": float(rng.uniform(1e-4, 1e-3)),
         "algorithm.hyperparam.ent_coef": float(rng.uniform(0, 0.05)), "algorithm.hyperparam.clip_eps": float(rng.uniform(0.1, 0.3))}
        for _ in range(4)
    ]
    one_update = Settings(hparam_batch_size=4, total_timesteps=128, num_evaluations=1)
    batched = prepare(recipe, samples, one_update, {})
    solo = prepare(recipe, samples, Settings(sequential=True, total_timesteps=128, num_evaluations=1), {})
    batch_executor, solo_executor = make_executor(batched), make_executor(solo)
    (unit,) = batched.plan[0].units
    batch = batch_executor.run_unit(unit, samples)
    params = params_by_leaf(batch.output.params)
    for sample_id in range(4):
        (solo_unit,) = solo.plan[sample_id].units
        alone = solo_executor.run_unit(solo_unit, [samples[sample_id]])
        for name, leaf in params_by_leaf(alone.output.params).items():
            np.testing.assert_allclose(params[name][sample_id], leaf[0], atol=1e-5, err_msg=name)
        np.testing.assert_allclose(batch.output.returns[sample_id], alone.output.returns[0], atol=1e-5)
    assert solo_executor.compile_count == 1 and batch_executor.compile_count == 1
    # the lanes really trained differently
    assert not np.allclose(params["actor/params/Torso_0/Dense_0/kernel"][0], params["actor/params/Torso_0/Dense_0/kernel"][1])


def test_continuous_actions_train_on_pendulum(tiny_recipe, tmp_path):
    args = ["sweep-hp-samples", "--algo-and-network-config", str(tiny_recipe), "--env-config", "gymnax.pendulum",
            "--output-root", str(tmp_path / "out"), "--num-samples", "2", "--total-timesteps", "256",
            "--num-evaluations", "1"]
    assert main(args) == 0
    rows = read_csv(tmp_path / "out" / "tiny_ppo" / "gymnax_pendulum" / "results.csv")
    returns = [float(r["final_return"]) for r in rows]
    assert len(returns) == 2 and all(-2000 < r < 0 for r in returns)  # 200 steps of Pendulum's negative reward
