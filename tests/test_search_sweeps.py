"""Sweeps whose samples an Optuna sampler asks batch by batch: the journal holds every trial with its
state, a resumed sweep asks what an uninterrupted one asks, W&B's method bayes, errors before work."""

import csv
import json
import shutil
import textwrap

import numpy as np
import optuna
import pytest
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from hyperlax.cli import main

HP = "algorithm.hyperparam."
ENV = "gymnax.cartpole"
SMALL = ["--total-timesteps", "1024", "--num-evaluations", "2", "--hparam-batch-size", "2", "--log-level", "WARNING"]


def load_study(root):
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(root / "study.log")))
    return optuna.load_study(study_name="hyperlax", storage=storage)


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def cut_journal_before_trial(path, number):
    """Keep the journal's lines before trial `number` was created (as if killed right then)."""
    create = optuna.storages.journal._storage.JournalOperation.CREATE_TRIAL
    lines = path.read_bytes().splitlines(keepends=True)
    created = [i for i, line in enumerate(lines) if json.loads(line)["op_code"] == create]
    path.write_bytes(b"".join(lines[: created[number]]))


def test_a_resumed_tpe_sweep_asks_what_an_uninterrupted_one_asks(tiny_recipe, tmp_path):
    args = ["sweep-hp-samples", "--algo-and-network-config", str(tiny_recipe), "--env-config", ENV,
            "--sampling-method", "tpe", "--num-samples", "6", "--seed", "3", *SMALL,
            "--set", HP + "actor_lr=[3e-4, 1e38]"]  # an update of 1e38 overflows: a diverged lane
    assert main([*args, "--output-root", str(tmp_path / "whole")]) == 0
    whole = tmp_path / "whole" / "tiny_ppo" / "gymnax_cartpole"
    trials = load_study(whole).trials
    results = {int(r["sample_id"]): r for r in read_csv(whole / "results.csv")}
    assert [t.user_attrs["sample_id"] for t in trials] == list(range(6)) == sorted(results)
    for trial in trials:  # every trial with its sample, its evaluations and the state its result gives
        row = results[trial.number]
        assert trial.params == {k: float(row[k]) for k in trial.params}
        assert trial.user_attrs["hyperparams"] == {k: json.loads(row[k]) for k in trial.user_attrs["hyperparams"]}
        if row["status"] == "diverged":
            assert trial.state == TrialState.FAIL and trial.value is None
        else:
            assert trial.state == TrialState.COMPLETE and trial.value == float(row["final_return"])
            assert set(trial.intermediate_values) == {512, 1024} and trial.intermediate_values[1024] == trial.value
    assert {t.state for t in trials} == {TrialState.COMPLETE, TrialState.FAIL}
    record = json.loads((whole / "sweep.json").read_text())
    assert record["sampler"] == "tpe" and record["batches"] is None and record["num_samples"] == 6
    # killed after two of three batches, before the third was asked: the resume asks the same samples
    cut = tmp_path / "cut" / "tiny_ppo" / "gymnax_cartpole"
    shutil.copytree(whole, cut)
    shutil.rmtree(cut / "samples" / "batch_00002")
    cut_journal_before_trial(cut / "study.log", 4)
    assert len(load_study(cut).trials) == 4
    assert main(["sweep-hp-samples", "--resume-from", str(cut), "--log-level", "WARNING"]) == 0
    assert (cut / "samples.csv").read_text() == (whole / "samples.csv").read_text()
    assert [(t.params, t.state, t.value) for t in load_study(cut).trials] == [(t.params, t.state, t.value) for t in trials]
    summary = json.loads((cut / "summary.json").read_text())
    assert summary["batches_skipped_on_resume"] == 2 and summary["compile_count"] == 1


def test_wandb_bayes_asks_a_gp_sampler_for_the_best_return_over_each_history(tiny_recipe, tmp_path):
    path = tmp_path / "bayes.yaml"
    path.write_text(textwrap.dedent(f"""\
        method: bayes
        algo: {tiny_recipe}
        env: {ENV}
        run_cap: 4
        metric: {{name: final_return, goal: maximize}}
        parameters:
          algorithm.hyperparam.actor_lr: {{distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2}}
          algorithm.hyperparam.gamma: {{distribution: normal, mu: 0.95, sigma: 0.01}}
          algorithm.hyperparam.clip_eps: {{value: 0.25}}
        """))
    assert main(["sweep", "--config", str(path), "--output-root", str(tmp_path / "out"), *SMALL]) == 0
    root = tmp_path / "out" / "tiny_ppo" / "gymnax_cartpole"
    study = load_study(root)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert sorted(study.trials[0].params) == [HP + "actor_lr", HP + "gamma (quantile)"]  # the constant is left out
    rows = {int(r["sample_id"]): r for r in read_csv(root / "results.csv")}
    assert len(rows) == 4 and {r[HP + "clip_eps"] for r in rows.values()} == {"0.25"}
    metrics = np.genfromtxt(next((root / "samples").glob("*/metrics.csv")), delimiter=",", names=True)
    first = int(metrics["sample_id"][0])
    best_over_history = metrics["mean_return"][metrics["sample_id"] == first].max()
    assert study.trials[first].value == best_over_history == float(rows[first]["best_return"])
    record = json.loads((root / "sweep.json").read_text())
    assert record["sampler"] == "gp" and record["arguments"]["config"] == str(path)


def test_a_bad_sampler_choice_stops_before_any_work(tiny_recipe, tmp_path, capsys):
    only_categorical = [f"{HP}{key}=[1e-4, 1e-3]" for key in ("actor_lr", "critic_lr", "gamma", "ent_coef")]
    args = ["sweep-hp-samples", "--algo-and-network-config", str(tiny_recipe), "--env-config", ENV,
            "--sampling-method", "cmaes", "--output-root", str(tmp_path / "out"), *SMALL]
    for item in only_categorical:
        args += ["--set", item]
    assert main(args) == 2
    assert "cmaes searches numbers, and every searched key is categorical" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # tyro refuses an unknown choice, naming the choices
        main([*args[:-2 * len(only_categorical)], "--sampling-method", "anneal"])
    assert exit_.value.code == 2 and "invalid choice 'anneal' for argument '--sampling-method'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
