"""Batches as Ray tasks on a local cluster of 2 CPUs: the sweep equals the local run, each sample
recorded once, though the worker of one task is killed mid-batch (its task is retried and
continues from the batch's checkpoint)."""

import csv
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from hyperlax.cli import main
from hyperlax.run.loop import Settings
from tests.conftest import write_recipe

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # jax warns of Ray's fork + exec
ray_batches = pytest.importorskip("hyperlax.run.ray_batches")


@pytest.fixture(scope="module")
def marker(tmp_path_factory):
    """A cluster whose first task to reach a second segment kills its own worker; the marker it leaves."""
    path = tmp_path_factory.mktemp("ray") / "killed"
    env_vars = {ray_batches.KILL_WORKER_ONCE: str(path)}
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": env_vars})
    yield path
    ray.shutdown()


def rows(root):
    with open(root / "results.csv") as f:
        return [{k: v for k, v in row.items() if k != "wall_s"} for row in csv.DictReader(f)]


def test_a_sweep_on_ray_with_a_killed_worker_equals_the_local_run(marker, tmp_path):
    recipe = write_recipe(tmp_path)
    args = ["sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
            "--num-samples", "4", "--hparam-batch-size", "2", "--total-timesteps", "256", "--num-evaluations", "2"]
    assert main([*args, "--output-root", str(tmp_path / "local")]) == 0
    assert main([*args, "--ray", "local", "--output-root", str(tmp_path / "ray")]) == 0

    assert marker.exists()  # a worker was killed in its second segment
    local, on_ray = (tmp_path / name / "tiny_ppo" / "gymnax_cartpole" for name in ("local", "ray"))
    assert rows(on_ray) == rows(local)
    assert [int(r["sample_id"]) for r in rows(on_ray)] == [0, 1, 2, 3]
    assert not (on_ray / "sweep.lock").exists()
    assert json.loads((on_ray / "summary.json").read_text())["num_finished_samples"] == 4
    for batch in ("batch_00000", "batch_00001"):
        directory = on_ray / "samples" / batch
        assert sorted(p.name for p in directory.iterdir()) == [
            "hparams.json", "info.json", "metrics.csv", "params.npz", "progress.json", "success.txt"
        ]
        with open(directory / "metrics.csv") as f:
            assert len(list(csv.DictReader(f))) == 2 * 2  # samples x milestones, once each
        with np.load(local / "samples" / batch / "params.npz") as a, np.load(directory / "params.npz") as b:
            assert sorted(a.files) == sorted(b.files)
            for name in a.files:
                np.testing.assert_allclose(b[name], a[name], rtol=0, atol=1e-6, err_msg=name)


def test_auto_batch_size_on_ray_measures_a_worker(marker):
    free, count = ray_batches.worker_memory(Settings(ray="auto"))
    assert free > 0 and count == 1


def test_padding_on_ray_is_priced_with_the_costs_of_the_cluster_s_platform(marker, monkeypatch):
    """The plan is made on the driver, but its units train on the tasks' platform: the far sizes a CPU
    cluster splits pad together on a cluster with GPUs (its nodes as Ray reports them)."""
    from hyperlax.recipes import load_recipe
    from hyperlax.run.loop import prepare
    from tests.test_plan import ppo_samples

    recipe = load_recipe("ppo_mlp", "gymnax.cartpole")
    far = ppo_samples([(4, 32, 1, 1), (4, 32, 1, 1), (64, 256, 8, 8)])
    settings = Settings(hparam_batch_size=8, total_timesteps=100_000, ray="auto")
    assert ray_batches.task_platform(settings) == "cpu"
    (on_cpus,) = prepare(recipe, far, settings, {}).padding
    assert on_cpus["costs_of"] == "cpu" and on_cpus["units"] == 2
    nodes = ray.nodes()
    monkeypatch.setattr(ray, "nodes", lambda: [{**n, "Resources": {**n["Resources"], "GPU": 1.0}} for n in nodes])
    (on_gpus,) = prepare(recipe, far, settings, {}).padding
    assert on_gpus["costs_of"] == "gpu" and on_gpus["units"] == 1


@pytest.mark.parametrize("args, platforms", [(["--ray", "local"], "cpu"), (["--ray=auto"], "cpu"), ([], "")])
def test_a_ray_driver_keeps_jax_on_the_cpu(args, platforms):
    """With --ray the command only plans and schedules: jax is set to the CPU before any backend starts
    (on a GPU it would hold 75% of each GPU's memory that the tasks on this machine need)."""
    script = textwrap.dedent(f"""
        import jax
        from hyperlax.cli import main
        try:
            main(["sweep-hp-samples", *{args!r}, "--help"])  # --help exits before any sweep
        except SystemExit:
            pass
        print("PLATFORMS=" + (jax.config.jax_platforms or ""))
    """)
    env = {k: v for k, v in os.environ.items() if k != "JAX_PLATFORMS"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert f"PLATFORMS={platforms}\n" in done.stdout, done.stderr[-2000:]


def test_a_resumed_sweep_takes_its_recorded_ray_address(tmp_path):
    from hyperlax.cli import ray_address

    (tmp_path / "sweep.json").write_text(json.dumps({"arguments": {"ray": "auto"}, "fingerprint": "0" * 64}))
    assert ray_address(["sweep-hp-samples", "--resume-from", str(tmp_path)]) == "auto"
    assert ray_address(["sweep-hp-samples", f"--resume-from={tmp_path}", "--ray", "off"]) == "off"
    assert ray_address(["sweep-hp-samples", "--resume-from", str(tmp_path / "missing")]) == "off"
