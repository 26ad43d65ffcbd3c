"""Checkpoints inside a batch: a batch killed after its second checkpoint resumes from it and ends
bit for bit like an uninterrupted run, re-running only the later segments; a checkpoint that does
not match is discarded; live progress; diverged lanes are flagged without touching the others."""

import csv
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import optuna
import pytest

from hyperlax.cli import main
from hyperlax.run import checkpoint

NUM_EVALUATIONS = 5
KILL_AFTER_CHECKPOINT = """
import os, signal, sys
from hyperlax.run import checkpoint
save = checkpoint.save
def save_then_die(path, header, *rest):
    save(path, header, *rest)
    if header["segments_done"] == STEPS:
        os.kill(os.getpid(), signal.SIGKILL)
checkpoint.save = save_then_die
from hyperlax.cli import main
sys.exit(main(sys.argv[1:]))
"""


def kill_after_checkpoint(steps: int, argv: list[str]) -> None:
    """Run the CLI with `argv` in a subprocess that SIGKILLs itself right after the checkpoint of `steps` segments."""
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_CHECKPOINT.replace("STEPS", str(steps)), *argv],
        capture_output=True, text=True, env=os.environ,
    )
    assert killed.returncode == -9, killed.stderr


def sweep_args(recipe: Path, output_root: Path) -> list[str]:
    return [
        "sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
        "--num-samples", "3", "--hparam-batch-size", "4", "--total-timesteps", "1280",
        "--num-evaluations", str(NUM_EVALUATIONS), "--output-root", str(output_root), "--log-level", "WARNING",
    ]


def sweep_dir(output_root: Path, recipe: Path) -> Path:
    return output_root / recipe.stem / "gymnax_cartpole"


def rows(path: Path, drop=("wall_s",)) -> list[dict[str, str]]:
    with path.open() as f:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    from tests.conftest import write_recipe

    return write_recipe(tmp_path_factory.mktemp("recipe"))


@pytest.fixture(scope="module")
def uninterrupted(recipe, tmp_path_factory):
    root = tmp_path_factory.mktemp("whole")
    assert main([*sweep_args(recipe, root), "--keep-checkpoints"]) == 0
    return sweep_dir(root, recipe)


def test_a_batch_killed_after_its_second_checkpoint_resumes_from_it_bit_for_bit(recipe, uninterrupted, tmp_path):
    kill_after_checkpoint(2, sweep_args(recipe, tmp_path))
    root = sweep_dir(tmp_path, recipe)
    batch = root / "samples" / "batch_00000"
    assert not (batch / "success.txt").exists()
    (saved,) = (batch / "checkpoint").glob("unit_*.npz")
    with np.load(saved) as data:
        assert json.loads(data[checkpoint.HEADER].tobytes())["segments_done"] == 2

    assert main(["sweep-hp-samples", "--resume-from", str(root), "--log-level", "WARNING"]) == 0
    summary = json.loads((root / "summary.json").read_text())
    assert summary["segments_run"] == NUM_EVALUATIONS - 2  # only the segments after the checkpoint
    assert rows(root / "results.csv") == rows(uninterrupted / "results.csv")
    assert (batch / "metrics.csv").read_bytes() == (uninterrupted / "samples" / "batch_00000" / "metrics.csv").read_bytes()
    with np.load(batch / "params.npz") as got, np.load(uninterrupted / "samples" / "batch_00000" / "params.npz") as want:
        assert sorted(got.files) == sorted(want.files)
        for name in want.files:
            np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert not (batch / "checkpoint").exists()  # removed once the batch is done
    assert not list(root.rglob("*.tmp"))


def test_a_finished_batch_keeps_its_checkpoint_only_when_asked(uninterrupted):
    batch = uninterrupted / "samples" / "batch_00000"
    (saved,) = (batch / "checkpoint").glob("unit_*.npz")
    progress = json.loads((batch / "progress.json").read_text())
    assert progress["segments_done"] == progress["checkpoint_segments_done"] == NUM_EVALUATIONS
    assert progress["env_steps_per_lane"] == [1280] * 3 and len(progress["returns"]) == 3


def test_a_checkpoint_that_does_not_match_is_discarded_never_loaded(tmp_path, caplog):
    state = {"params": {"w": np.arange(4, dtype=np.float32)}, "update": np.zeros(2, np.int32)}
    header = {"fingerprint": "abc", "sample_ids": [0, 1], "lanes": 2, "num_seeds": 1, "milestones": [8, 16]}
    path = tmp_path / "checkpoint" / "unit_00000_2.npz"
    like = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), state)

    def saved():
        checkpoint.save(path, {**header, "segments_done": 1, "env_steps_per_lane": [8, 8]}, state, checkpoint.Record.empty(2, 2))

    saved()
    loaded, _, done, _, _ = checkpoint.load(path, header, like)
    assert done == 1 and np.array_equal(loaded["params"]["w"], state["params"]["w"])
    with caplog.at_level(logging.WARNING, logger="hyperlax"):
        assert checkpoint.load(path, {**header, "fingerprint": "other"}, like) is None
    assert "different fingerprint" in caplog.text and not path.exists()
    saved()
    assert checkpoint.load(path, {**header, "sample_ids": [0, 2]}, like) is None and not path.exists()
    saved()
    wider = {**like, "params": {"w": jax.ShapeDtypeStruct((5,), np.float32)}}
    assert checkpoint.load(path, header, wider) is None and not path.exists()
    path.write_bytes(b"truncated")
    assert checkpoint.load(path, header, like) is None and not path.exists()


def test_a_diverged_lane_is_flagged_and_the_others_are_unchanged(recipe, tmp_path, caplog):
    def run(lrs, root):
        config = tmp_path / f"lrs_{len(lrs)}.jsonl"
        lines = [{"algorithm.hyperparam.actor_lr": lr, "algorithm.hyperparam.critic_lr": lr} for lr in lrs]
        config.write_text("".join(json.dumps(line) + "\n" for line in lines))
        args = ["sweep", "--config", str(config), "--algo-and-network-config", str(recipe), "--env-config",
                "gymnax.cartpole", "--total-timesteps", "512", "--hparam-batch-size", "8", "--output-root", str(root)]
        assert main(args) == 0
        return sweep_dir(root, recipe)

    with caplog.at_level(logging.WARNING, logger="hyperlax"):
        with_bad = run([3e-4, 1e38], tmp_path / "bad")  # an update of 1e38 overflows the parameters
    alone = run([3e-4], tmp_path / "good")
    same, bad = rows(with_bad / "results.csv")
    assert bad["status"] == "diverged" and bad["final_return"] == "NaN" and bad["best_return"] == "NaN"
    summary = json.loads((with_bad / "summary.json").read_text())
    assert summary["num_diverged_samples"] == 1 and [r["sample_id"] for r in summary["best"]] == [0]
    assert "1 samples diverged" in caplog.text
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(with_bad / "study.log")))
    trials = optuna.load_study(study_name="hyperlax", storage=storage).trials  # in the order samples ended
    states = [t.state.name for t in sorted(trials, key=lambda t: t.user_attrs["sample_id"])]
    assert states == ["COMPLETE", "FAIL"]  # the diverged lane is a failed trial
    good = rows(alone / "results.csv")[0]
    np.testing.assert_allclose(float(same["final_return"]), float(good["final_return"]), atol=1e-4)
    assert same["status"] == good["status"] == "finished"
