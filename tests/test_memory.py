"""Memory: estimates, --hparam-batch-size auto, and splitting a batch that runs out of memory."""

import csv
import json

import jax
import pytest

from hyperlax.algos import ppo
from hyperlax.cli import main
from hyperlax.envs import make_env
from hyperlax.recipes import load_recipe
from hyperlax.run import memory
from hyperlax.run.executor import Executor


def test_auto_batch_size_fits_half_the_memory_and_stays_in_range():
    assert memory.auto_batch_size(bytes_per_lane=100, num_seeds=2, num_samples=64, available=4000) == 10
    assert memory.auto_batch_size(bytes_per_lane=100, num_seeds=1, num_samples=8, available=10**9) == 8
    assert memory.auto_batch_size(bytes_per_lane=10**9, num_seeds=1, num_samples=8, available=10**6) == 1
    assert memory.available_bytes() > 0


def test_ppo_estimate_grows_with_extents_and_width():
    recipe = load_recipe("ppo_mlp", "gymnax.cartpole")
    env = make_env(recipe.base_config["env"])
    small = {"num_envs": 4, "rollout_length": 128, "update_epochs": 4, "num_minibatches": 4, "minibatch_size": 128,
             "chunk_size": 128}
    large = {**small, "num_envs": 64, "minibatch_size": 2048, "chunk_size": 2048}
    assert ppo.lane_bytes(recipe.base_config, env, large) > 8 * ppo.lane_bytes(recipe.base_config, env, small)


def read_rows(root):
    with open(root / "results.csv") as f:
        return {r["sample_id"]: r for r in csv.DictReader(f)}


def test_a_batch_that_runs_out_of_memory_is_split_and_gives_the_same_results(tiny_recipe, tmp_path, monkeypatch):
    args = ["sweep-hp-samples", "--algo-and-network-config", str(tiny_recipe), "--env-config", "gymnax.cartpole",
            "--num-samples", "4", "--total-timesteps", "256", "--num-evaluations", "1"]
    assert main([*args, "--hparam-batch-size", "2", "--output-root", str(tmp_path / "pairs")]) == 0

    compile_unit = Executor._compile

    def out_of_memory_above_two_lanes(self, unit, samples, sample_ids):
        if unit.lanes > 2:
            raise jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate")
        return compile_unit(self, unit, samples, sample_ids)

    monkeypatch.setattr(Executor, "_compile", out_of_memory_above_two_lanes)
    assert main([*args, "--hparam-batch-size", "4", "--output-root", str(tmp_path / "split")]) == 0
    pairs, split = (read_rows(tmp_path / name / "tiny_ppo" / "gymnax_cartpole") for name in ("pairs", "split"))
    assert sorted(split) == ["0", "1", "2", "3"]
    for sample_id, row in split.items():
        assert row["final_return"] == pairs[sample_id]["final_return"]
    info = json.loads((tmp_path / "split" / "tiny_ppo" / "gymnax_cartpole" / "samples" / "batch_00000" / "info.json").read_text())
    assert info["env_steps"] == 4 * 256


def test_other_errors_are_not_retried(tiny_recipe, tmp_path, monkeypatch):
    def broken(self, unit, samples, sample_ids):
        raise jax.errors.JaxRuntimeError("INTERNAL: something else")

    monkeypatch.setattr(Executor, "_compile", broken)
    args = ["sweep-hp-samples", "--algo-and-network-config", str(tiny_recipe), "--env-config", "gymnax.cartpole",
            "--num-samples", "2", "--output-root", str(tmp_path / "out")]
    with pytest.raises(jax.errors.JaxRuntimeError, match="INTERNAL"):
        main(args)


def test_auto_batch_size_is_recorded_as_a_number(tiny_recipe, tmp_path):
    args = ["sweep-hp-samples", "--algo-and-network-config", str(tiny_recipe), "--env-config", "gymnax.cartpole",
            "--num-samples", "3", "--hparam-batch-size", "auto", "--total-timesteps", "256", "--num-evaluations", "1",
            "--output-root", str(tmp_path / "out")]
    assert main(args) == 0
    record = json.loads((tmp_path / "out" / "tiny_ppo" / "gymnax_cartpole" / "sweep.json").read_text())
    assert record["arguments"]["hparam_batch_size"] == 3  # tiny lanes: all three fit


def test_a_single_lane_out_of_memory_stops_with_advice_and_keeps_finished_batches(tiny_recipe, tmp_path, monkeypatch):
    args = ["sweep-hp-samples", "--algo-and-network-config", str(tiny_recipe), "--env-config", "gymnax.cartpole",
            "--num-samples", "2", "--hparam-batch-size", "1", "--total-timesteps", "256", "--num-evaluations", "1",
            "--output-root", str(tmp_path / "out")]
    compile_unit = Executor._compile

    def out_of_memory_for_sample_1(self, unit, samples, sample_ids):
        if unit.sample_ids == (1,):
            raise jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate")
        return compile_unit(self, unit, samples, sample_ids)

    monkeypatch.setattr(Executor, "_compile", out_of_memory_for_sample_1)
    assert main(args) == 2
    samples = tmp_path / "out" / "tiny_ppo" / "gymnax_cartpole" / "samples"
    assert (samples / "batch_00000" / "success.txt").is_file()
    assert not (samples / "batch_00001" / "success.txt").exists()
