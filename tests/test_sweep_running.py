"""Running explicit configs: run_sweep, the `sweep --config FILE` command, resume, errors before work, --set."""

import csv
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest
from rich.console import Console

import hyperlax
from hyperlax.recipes import load_recipe
from hyperlax.run.loop import SweepError
from hyperlax.space import Categorical, draw_samples
from hyperlax.syntax import DynamicValue, Sweep, expand, load_wandb_sweep, piter
from hyperlax.cli.sweep_file import SweepFromFile, apply_set_overrides, run_sweep_command

HP = "algorithm.hyperparam."
SHORT = {"total_timesteps": 256, "num_evaluations": 1, "hparam_batch_size": 2}
ENV = "gymnax.cartpole"


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def run_file(**options):
    """run_sweep_command with the short budget; options as SweepFromFile fields."""
    return run_sweep_command(SweepFromFile(**{**SHORT, **options}), Console(stderr=True))


def write_wandb(path, body):
    path.write_text(textwrap.dedent(body))
    return path


def test_import_is_cheap_and_run_sweep_is_exported():
    code = "import sys, hyperlax; assert 'jax' not in sys.modules; hyperlax.run_sweep; assert 'jax' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
    from hyperlax.api import run_sweep

    assert hyperlax.run_sweep is run_sweep


def test_run_sweep_with_piter_keeps_iteration_order_and_fills_recipe_defaults(tiny_recipe, tmp_path):
    configs = piter @ {HP + "actor_lr": [1e-4, 1e-3]} * {HP + "clip_eps": [0.1, 0.3]}
    summary = hyperlax.run_sweep(configs, str(tiny_recipe), ENV, output_root=str(tmp_path), **SHORT)
    root = tmp_path / "tiny_ppo" / "gymnax_cartpole"
    rows = read_csv(root / "results.csv")
    assert [r["sample_id"] for r in rows] == ["0", "1", "2", "3"]
    assert [(float(r[HP + "actor_lr"]), float(r[HP + "clip_eps"])) for r in rows] == [
        (1e-4, 0.1), (1e-4, 0.3), (1e-3, 0.1), (1e-3, 0.3)
    ]
    # sampled by the recipe but not set: the recipe's default, not a random draw
    assert {float(r[HP + "critic_lr"]) for r in rows} == {3e-4} and {float(r[HP + "gamma"]) for r in rows} == {0.99}
    record = json.loads((root / "sweep.json").read_text())
    assert record["arguments"]["hparam_batch_size"] == 2 and record["num_samples"] == 4
    assert summary["num_finished_samples"] == 4 and summary["compile_count"] == 1


def test_run_sweep_with_expanded_dynamic_values(tiny_recipe, tmp_path):
    nested = {"algorithm": {"hyperparam": {"ent_coef": DynamicValue([0.0, 0.05]), "update_epochs": DynamicValue([1, 2])}}}
    hyperlax.run_sweep(expand(nested), str(tiny_recipe), ENV, output_root=str(tmp_path), **SHORT)
    rows = read_csv(tmp_path / "tiny_ppo" / "gymnax_cartpole" / "results.csv")
    assert [(float(r[HP + "ent_coef"]), int(r[HP + "update_epochs"])) for r in rows] == [(0.0, 1), (0.0, 2), (0.05, 1), (0.05, 2)]


def test_resuming_an_explicit_sweep_skips_finished_batches(tiny_recipe, tmp_path):
    configs = [{HP + "actor_lr": lr} for lr in (1e-4, 2e-4, 3e-4, 4e-4)]
    hyperlax.run_sweep(configs, str(tiny_recipe), ENV, output_root=str(tmp_path), **SHORT)
    root = tmp_path / "tiny_ppo" / "gymnax_cartpole"
    first = (root / "samples" / "batch_00000" / "success.txt").stat().st_mtime_ns
    (root / "samples" / "batch_00001" / "success.txt").unlink()  # as if killed during the last batch
    with pytest.raises(SweepError, match="already holds a sweep"):
        hyperlax.run_sweep(configs, str(tiny_recipe), ENV, output_root=str(tmp_path), **SHORT)
    with pytest.raises(SweepError, match="Nothing was deleted"):
        hyperlax.run_sweep(configs[:3], str(tiny_recipe), ENV, output_root=str(tmp_path), resume=True, **SHORT)
    summary = hyperlax.run_sweep(configs, str(tiny_recipe), ENV, output_root=str(tmp_path), resume=True, **SHORT)
    assert summary["batches_skipped_on_resume"] == 1 and summary["num_finished_samples"] == 4
    assert (root / "samples" / "batch_00000" / "success.txt").stat().st_mtime_ns == first
    assert [float(r[HP + "actor_lr"]) for r in read_csv(root / "results.csv")] == [1e-4, 2e-4, 3e-4, 4e-4]


def test_wandb_grid_file_runs_ranked_by_its_metric_and_resumes(tiny_recipe, tmp_path):
    path = write_wandb(tmp_path / "sweep.yaml", f"""\
        method: grid
        algo: {tiny_recipe}
        env: {ENV}
        project: ignored
        metric: {{name: best_return, goal: minimize}}
        parameters:
          algorithm:
            parameters:
              hyperparam:
                parameters:
                  actor_lr: {{values: [1.0e-4, 1.0e-3]}}
          algorithm.hyperparam.vf_coef: {{values: [0.25, 0.5]}}
        """)
    summary = run_file(config=str(path), output_root=str(tmp_path / "out"))
    root = tmp_path / "out" / "tiny_ppo" / "gymnax_cartpole"
    rows = read_csv(root / "results.csv")
    assert [(float(r[HP + "actor_lr"]), float(r[HP + "vf_coef"])) for r in rows] == [
        (1e-4, 0.25), (1e-4, 0.5), (1e-3, 0.25), (1e-3, 0.5)
    ]
    best = [b["best_return"] for b in summary["best"]]
    assert best == sorted(best) and summary["ranked_by"] == {"name": "best_return", "goal": "minimize"}
    assert json.loads((root / "summary.json").read_text())["ranked_by"]["goal"] == "minimize"
    # resume: unset options come from sweep.json (the file and recipes included); a change is refused
    with pytest.raises(SweepError, match="--seed: sweep has 0, asked 1"):
        run_sweep_command(SweepFromFile(resume_from=str(root), seed=1), Console(stderr=True))
    resumed = run_sweep_command(SweepFromFile(resume_from=str(root)), Console(stderr=True))
    assert resumed["batches_skipped_on_resume"] == 2 and resumed["compile_count"] == 0
    # the study: minimizing the file's metric, one trial per config (the resume added none)
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(root / "study.log")))
    study = optuna.load_study(study_name="hyperlax", storage=storage)
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    assert [t.value for t in study.trials] == [float(r["best_return"]) for r in rows]
    assert study.trials[0].params == {HP + "actor_lr": 1e-4, HP + "vf_coef": 0.25}


def test_wandb_random_file_draws_seeded_configs_and_the_flag_wins_over_the_file(tiny_recipe, tmp_path):
    path = write_wandb(tmp_path / "sweep.yaml", """\
        method: random
        algo: no_such_recipe
        parameters:
          algorithm.hyperparam.actor_lr: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-3}
          algorithm.hyperparam.clip_eps: {min: 0.1, max: 0.3}
        """)
    run_file(config=str(path), algo_and_network_config=str(tiny_recipe), env_config=ENV, num_samples=2,
             seed=3, output_root=str(tmp_path / "out"))
    rows = read_csv(tmp_path / "out" / "tiny_ppo" / "gymnax_cartpole" / "results.csv")
    expected = load_wandb_sweep(path, num_samples=2, seed=3).configs
    assert [{k: float(r[k]) for k in expected[0]} for r in rows] == expected


def test_a_saved_config_list_runs_in_order(tiny_recipe, tmp_path):
    path = tmp_path / "configs.jsonl"
    Sweep().product(**{HP + "gae_lambda": [0.9, 0.95]}).save(path)
    run_file(config=str(path), algo_and_network_config=str(tiny_recipe), env_config=ENV, output_root=str(tmp_path / "out"))
    rows = read_csv(tmp_path / "out" / "tiny_ppo" / "gymnax_cartpole" / "results.csv")
    assert [float(r[HP + "gae_lambda"]) for r in rows] == [0.9, 0.95]


BAYES = "method: bayes\nparameters: {algorithm.hyperparam.actor_lr: {values: [0.001]}}\n"
GRID = "method: grid\nparameters: {algorithm.hyperparam.actor_lr: {values: [0.001]}}\n"
OTHER_METRIC = GRID + "metric: {name: loss, goal: minimize}\n"


@pytest.mark.parametrize(
    "configs, match",
    [
        ([{HP + "actor_lrr": 1e-3}], r"unknown key 'algorithm.hyperparam.actor_lrr'; did you mean 'algorithm.hyperparam.actor_lr'"),
        ([{HP + "actor_lr": 1e-3}, {"algorithm": {"hyperparam": {"gama": 0.9}}}], r"config 1: unknown key .*gama.*'algorithm.hyperparam.gamma'"),
        ([{"training.total_timesteps": 512}], "once per sweep"),
        ([{HP + "actor_lr": "fast"}], "actor_lr must be a finite number"),
        ([], "no configs"),
    ],
)
def test_run_sweep_errors_come_before_any_work(tiny_recipe, tmp_path, configs, match):
    with pytest.raises(ValueError, match=match):
        hyperlax.run_sweep(configs, str(tiny_recipe), ENV, output_root=str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "body, options, error, match",
    [
        (BAYES, {}, ValueError, "bayes"),
        (GRID, {"algo_and_network_config": None}, SweepError, r"--algo-and-network-config \(or `algo:`"),
        (GRID, {"env_config": None}, SweepError, r"--env-config \(or `env:`"),
        (OTHER_METRIC, {}, ValueError, "metric 'loss' is not recorded by hyperlax; use one of final_return, best_return"),
        (GRID.replace("actor_lr", "actor_lrr"), {}, ValueError, "did you mean 'algorithm.hyperparam.actor_lr'"),
        ("method: random\nparameters: {x: {values: [1}\n", {}, ValueError, "not valid YAML"),
    ],
)
def test_sweep_file_errors_come_before_any_work(tiny_recipe, tmp_path, body, options, error, match):
    path = write_wandb(tmp_path / "sweep.yaml", body)
    options = {"config": str(path), "algo_and_network_config": str(tiny_recipe), "env_config": ENV, **options}
    with pytest.raises(error, match=match):
        run_file(output_root=str(tmp_path / "out"), **options)
    assert not (tmp_path / "out").exists()


def test_set_overrides_fix_and_sweep_keys(tiny_recipe):
    recipe = load_recipe(str(tiny_recipe), ENV)
    changed = apply_set_overrides(
        recipe, [HP + "actor_lr=5e-4", HP + "clip_eps=[0.1, 0.2, 0.3]", HP + "update_epochs=range(1, 4)",
                 HP + "vf_coef=uniform(0.1, 1.0, 3)"], seed=0,
    )
    assert HP + "actor_lr" not in changed.distributions and changed.base_config["algorithm"]["hyperparam"]["actor_lr"] == 5e-4
    assert changed.distributions[HP + "clip_eps"] == Categorical(values=[0.1, 0.2, 0.3])
    assert changed.distributions[HP + "update_epochs"] == Categorical(values=[1, 2, 3])
    draws = changed.distributions[HP + "vf_coef"].values
    assert len(draws) == 3 and all(0.1 <= v < 1.0 for v in draws)
    assert apply_set_overrides(recipe, [HP + "vf_coef=uniform(0.1, 1.0, 3)"], seed=0).distributions[HP + "vf_coef"].values == draws
    samples = draw_samples(changed.distributions, 5, "qmc_sobol", 0)
    assert len(samples) == 5 and all(s[HP + "clip_eps"] in (0.1, 0.2, 0.3) for s in samples)
    assert recipe.distributions.keys() == load_recipe(str(tiny_recipe), ENV).distributions.keys()  # not changed in place
    assert HP + "critic_lr" in changed.distributions  # untouched keys keep their distribution


@pytest.mark.parametrize(
    "item, match",
    [
        (HP + "actor_lr", r"--set 'algorithm.hyperparam.actor_lr': expected KEY=VALUE-STRING"),
        (HP + "actor_lrr=1e-3", r"--set .*did you mean 'algorithm.hyperparam.actor_lr'"),
        (HP + "actor_lr=[1e-3, 1e-4", r"--set 'algorithm.hyperparam.actor_lr=\[1e-3, 1e-4'.*bad value string"),
        (HP + "actor_lr=__import__('os').system('x')", r"--set .*not an allowed function"),
        ("env.name=[a, b]", "once per sweep"),
    ],
)
def test_bad_set_overrides_name_the_item(tiny_recipe, item, match):
    with pytest.raises(ValueError, match=match):
        apply_set_overrides(load_recipe(str(tiny_recipe), ENV), [item], seed=0)


def test_sweep_command_runs_value_strings_as_a_seeded_random_subset_of_the_grid(tiny_recipe, tmp_path):
    from hyperlax.cli import main

    lr, gamma = "algorithm.hyperparam.actor_lr", "algorithm.hyperparam.gamma"
    args = ["sweep", "--algo-and-network-config", str(tiny_recipe), "--env-config", "gymnax.cartpole",
            "--set", f"{lr}=[1e-4, 3e-4, 1e-3]", "--set", f"{gamma}=[0.9, 0.99]", "--strategy", "random_search",
            "--num-trials", "4", "--total-timesteps", "256", "--num-evaluations", "1", "--output-root", str(tmp_path)]
    assert main(args) == 0
    rows = list(csv.DictReader(open(tmp_path / "tiny_ppo" / "gymnax_cartpole" / "results.csv")))
    pairs = [(float(r[lr]), float(r[gamma])) for r in rows]
    grid = [(a, b) for a in (1e-4, 3e-4, 1e-3) for b in (0.9, 0.99)]
    assert len(set(pairs)) == 4 and all(p in grid for p in pairs)
    assert pairs == sorted(pairs, key=grid.index)  # kept in grid order


def test_sweep_command_takes_a_file_or_value_strings_not_both(tiny_recipe, tmp_path, capsys):
    from hyperlax.cli import main

    example = Path(__file__).parent.parent / "examples" / "ppo_cartpole_random.yaml"
    assert main(["sweep", "--config", str(example), "--set", "algorithm.hyperparam.gamma=0.9",
                 "--output-root", str(tmp_path / "out")]) == 2
    assert "either --config FILE or --set" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
