"""The report, Saltelli sampling and Sobol indices, re-runs and export, on one tiny Saltelli sweep."""

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tests.conftest import write_recipe

from hyperlax import cli
from hyperlax.algos.common import LANES
from hyperlax.algos.interface import lane_hparams
from hyperlax.config import flatten
from hyperlax.envs import make_env
from hyperlax.recipes import load_recipe
from hyperlax.report.build import write_report
from hyperlax.report.importance import build_study, importances
from hyperlax.report.evaluate import final_params
from hyperlax.report.rerun import export_recipe
from hyperlax.report.sweep_data import SweepData, load_sweep, row_of, sample_config, sweep_recipe, varying_keys
from hyperlax.run.executor import lane_key
from hyperlax.space import Categorical, LogUniform, Uniform, UniformInt, draw_samples
from hyperlax.space.saltelli import saltelli_size

BASE_N, NUM_KEYS = 2, 4  # the tiny recipe samples 4 numeric keys: 2 * (4 + 2) = 12 samples


def run_cli(*argv: str) -> int:
    return cli.main([*argv, "--log-level", "WARNING"])


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A finished Saltelli sweep of the tiny recipe: 12 samples, sequential (run_XXXX), one compilation."""
    folder = tmp_path_factory.mktemp("saltelli")
    recipe = write_recipe(folder)
    code = run_cli(
        "sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
        "--num-samples", str(BASE_N), "--sampling-method", "saltelli", "--sequential",
        "--output-root", str(folder / "out"),
    )
    assert code == 0
    return folder / "out" / "tiny_ppo" / "gymnax_cartpole"


def copy_of(sweep: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(sweep, tmp_path / "sweep"))


def without_data_uris(page: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)


def test_saltelli_design_has_n_times_d_plus_two_samples_in_the_domains():
    space = {"a.lr": LogUniform(domain=(1e-5, 1e-3)), "a.g": Uniform(domain=(0.9, 0.99)), "a.n": UniformInt(domain=(1, 4))}
    samples = draw_samples(space, 8, "saltelli", seed=0)
    assert len(samples) == saltelli_size(8, 3) == 8 * 5
    assert samples == draw_samples(space, 8, "saltelli", seed=0)
    assert all(1e-5 <= s["a.lr"] <= 1e-3 and 0.9 <= s["a.g"] <= 0.99 and s["a.n"] in (1, 2, 3, 4) for s in samples)


def test_saltelli_refuses_categorical_keys_by_name_before_any_work(tmp_path, capsys):
    space = {"a.lr": LogUniform(domain=(1e-5, 1e-3)), "a.sizes": Categorical(values=[[8], [16]])}
    with pytest.raises(ValueError, match="a.sizes"):
        draw_samples(space, 4, "saltelli", seed=0)
    extra = '"algorithm.network.actor_network.pre_torso.layer_sizes": Categorical(values=[[8], [16]]),'
    recipe = write_recipe(tmp_path, "two_arch_ppo", extra)
    code = run_cli(
        "sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
        "--sampling-method", "saltelli", "--output-root", str(tmp_path / "out"),
    )
    assert code == 2 and not (tmp_path / "out").exists()
    assert "algorithm.network.actor_network.pre_torso.layer_sizes" in capsys.readouterr().err.replace("\n", "")


def test_report_on_a_finished_sweep_writes_the_page_figures_and_sensitivity(sweep, tmp_path):
    root = copy_of(sweep, tmp_path)
    assert run_cli("report", str(root)) == 0
    folder = root / "report"
    page = (folder / "index.html").read_text()
    assert "https://" not in without_data_uris(page) and "http://" not in without_data_uris(page)
    assert "12 of 12 finished" in page and page.count("data:image/png;base64,") >= 8
    pngs = {p.name for p in folder.glob("*.png")}
    assert {"learning_curves.png", "parallel_coordinates.png", "importance.png", "sensitivity.png", "effect_gamma.png"} <= pngs
    with open(folder / "sensitivity.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["key", "S1", "S1_conf", "ST", "ST_conf"]
    assert [r["key"] for r in rows] == load_sweep(root).keys and len(rows) == NUM_KEYS


def test_importance_from_an_optuna_study_of_the_results(sweep):
    data = load_sweep(sweep)
    study = build_study(data.rows, varying_keys(data), sweep_recipe(data).distributions, "best_return")
    assert len(study.trials) == 12
    found = importances(study)
    for name in ("fANOVA", "PED-ANOVA"):
        assert set(found[name]) == {"actor_lr", "critic_lr", "gamma", "ent_coef"}
        assert sum(found[name].values()) == pytest.approx(1.0)


def test_report_on_an_interrupted_sweep_uses_what_finished(sweep, tmp_path):
    root = copy_of(sweep, tmp_path)
    (root / "samples" / "run_0005" / "success.txt").unlink()
    page = write_report(root, "best_return").read_text()
    assert page.count("11 of 12 finished") == 2  # samples and runs
    assert "needs every sample of the Saltelli design; 11 of 12 have finished" in page
    assert not (root / "report" / "sensitivity.csv").exists()
    assert (root / "report" / "learning_curves.png").is_file()
    for marker in (root / "samples").glob("*/success.txt"):
        marker.unlink()
    assert "Nothing has finished yet." in write_report(root).read_text()


def test_rerun_trains_chosen_samples_with_fresh_seeds_and_the_report_shows_them(sweep, tmp_path):
    root = copy_of(sweep, tmp_path)  # the re-run is an explicit-config sweep, batched
    best = max(load_sweep(root).rows, key=lambda r: r["final_return"])["sample_id"]
    other = 0 if best != 0 else 1
    assert run_cli("rerun", str(root), "--sample-id", str(other), "--top", "1", "--num-seeds", "2") == 0
    rerun = load_sweep(root / "reruns" / "rerun_000")
    assert rerun.record["arguments"]["rerun_of"] == [other, best]
    assert rerun.record["settings"]["seed"] != load_sweep(root).record["settings"]["seed"]
    assert [r["hyperparams"] for r in rerun.rows] == [load_sweep(root).rows[i]["hyperparams"] for i in (other, best)]
    assert all(returns.shape[0] == 2 for returns in rerun.returns.values())
    assert [d.name for d in (rerun.root / "samples").iterdir()] == ["batch_00000"]
    page = write_report(root).read_text()
    assert "Re-runs with fresh seeds" in page and (root / "report" / "reruns.png").is_file()


def test_evaluate_scores_saved_final_policies_and_equals_the_recorded_final_evaluation(sweep, tmp_path):
    root = copy_of(sweep, tmp_path)
    assert run_cli("evaluate", str(root), "--sample-id", "3", "--top", "1", "--episodes", "4", "--seed", "5") == 0
    report = json.loads((root / "reruns" / "evaluate_seed_5.json").read_text())
    best = max(load_sweep(root).rows, key=lambda r: r["final_return"])["sample_id"]
    assert [s["sample_id"] for s in report["samples"]] == list(dict.fromkeys([3, best]))
    assert report["episodes_per_policy"] == 4
    for sample in report["samples"]:
        assert all(0 < r <= 500 for r in sample["returns_per_seed"])
        assert sample["mean_return"] == pytest.approx(np.mean(sample["returns_per_seed"]))
    # With the key and episodes of the sweep's last evaluation, a saved policy scores its recorded final return.
    data = load_sweep(root)
    recipe = sweep_recipe(data)
    config = sample_config(data, recipe, 3)
    algo, hp = recipe.algorithm, config["algorithm"]["hyperparam"]
    segments = algo.make_segments(config, make_env(config["env"]), algo.padded_extents([config]))
    flat = flatten(config)
    hparams = lane_hparams(algo, [{k: flat[k] for k in algo.vectorized + algo.paddable}])
    keys = lane_key(jnp.int32(data.record["settings"]["seed"]), jnp.int32(3), jnp.int32(0))[None]
    state = jax.vmap(segments.init, axis_name=LANES)(hparams, keys)
    params = final_params(root / "samples" / row_of(data, 3)["directory"], 3, state["params"])
    num_updates = config["training"]["total_timesteps"] // (hp["num_envs"] * hp["rollout_length"])
    eval_keys = jax.vmap(lambda k: jax.random.fold_in(k, num_updates - 1))(state["eval_key"])
    score = jax.vmap(segments.evaluate, axis_name=LANES)(params, eval_keys)
    np.testing.assert_allclose(score, data.returns[3][:1, -1], atol=1e-4)
    assert run_cli("evaluate", str(root), "--sample-id", "3", "--episodes", "0") == 2


def test_export_prints_a_recipe_that_loads_as_the_samples_config(sweep, tmp_path, capsys):
    assert run_cli("export", str(sweep), "--sample-id", "5") == 0
    path = tmp_path / "sample_5.py"
    path.write_text(capsys.readouterr().out)
    assert path.read_text() == export_recipe(sweep, 5)
    data = load_sweep(sweep)
    loaded = load_recipe(str(path), "gymnax.cartpole")
    assert loaded.base_config == sample_config(data, sweep_recipe(data), 5)
    assert loaded.distributions == {}


def test_the_recipe_of_a_sampled_sweep_has_its_set_values(tmp_path):
    recipe = write_recipe(tmp_path)
    arguments = {"sampling_method": "qmc_sobol", "seed": 0, "set": [
        "algorithm.hyperparam.gamma=0.9", "algorithm.hyperparam.num_envs=[4, 8]",
    ]}
    record = {"arguments": arguments, "recipe": {"algo": str(recipe), "env": "gymnax.cartpole"}}
    found = sweep_recipe(SweepData(tmp_path, record, [], [], None, {}, []))
    assert found.base_config["algorithm"]["hyperparam"]["gamma"] == 0.9
    assert "algorithm.hyperparam.gamma" not in found.distributions
    assert found.distributions["algorithm.hyperparam.num_envs"] == Categorical(values=[4, 8])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["report", "{tmp}"], "is not a sweep directory"),
        (["export", "{sweep}", "--sample-id", "12"], "sample 12 of"),
        (["rerun", "{sweep}", "--sample-id", "-1"], "sample -1 of"),
        (["rerun", "{sweep}"], "--sample-id K"),
    ],
)
def test_bad_input_exits_2_with_a_message_naming_it(sweep, tmp_path, capsys, argv, message):
    argv = [a.format(tmp=tmp_path, sweep=sweep) for a in argv]
    assert run_cli(*argv) == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert message in err and "Traceback" not in err


def test_bad_metric_is_refused(sweep):
    with pytest.raises(ValueError, match="'mean_return'"):
        write_report(sweep, "mean_return")
    with pytest.raises(SystemExit) as exit_info:
        run_cli("report", str(sweep), "--metric", "mean_return")
    assert exit_info.value.code == 2


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_the_page_renders_in_headless_chromium(sweep, tmp_path):
    root = copy_of(sweep, tmp_path)
    page = write_report(root)
    command = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert "Best configurations by final_return" in dom.stdout and dom.stdout.count("<img") >= 8
