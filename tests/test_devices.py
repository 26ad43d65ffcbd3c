"""A unit's lanes split over local devices (`--devices`): four host devices, forced in a subprocess
(XLA_FLAGS must be set before jax starts), give the single-device run's results; a unit takes no
more devices than it has lanes; lane groups in threads (a CPU's) and sharded (an accelerator's)
compute what one group does."""

import csv
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from hyperlax.algos import ppo
from hyperlax.algos.interface import lane_hparams
from hyperlax.cli import main
from hyperlax.run import memory
from hyperlax.run.devices import GroupedProgram, LaneSharding, LaneThreads, lanes_over, padded_lanes
from hyperlax.run.executor import lane_advance, lane_score, lane_start
from tests.conftest import write_recipe
from tests.lanes import config_lane, segments_of, tiny_config


def test_lanes_are_padded_to_split_evenly_and_auto_batches_fit_every_device():
    assert [padded_lanes(lanes, 1, 4) for lanes in (1, 3, 4, 5)] == [4, 4, 4, 8]
    assert padded_lanes(3, 2, 4) == 4 and padded_lanes(3, 4, 4) == 3 and padded_lanes(3, 6, 4) == 4
    assert padded_lanes(3, 1, 1) == 3
    local = jax.local_devices()  # hyperlax made one CPU device per core
    assert lanes_over(local, 1).count == 1 and lanes_over(local, 64).count == len(local)
    # 5 lanes fit each device: 20 over four of them; with 3 seeds, 4 samples (12 lanes, 3 per device)
    assert memory.auto_batch_size(bytes_per_lane=100, num_seeds=1, num_samples=64, available=1000, devices=4) == 20
    assert memory.auto_batch_size(bytes_per_lane=100, num_seeds=3, num_samples=64, available=1000, devices=4) == 4
    cpu = jax.devices()[0]
    assert memory.available_bytes([cpu, cpu]) <= 0.6 * memory.available_bytes([cpu])  # host devices share the RAM


TINY = {
    "algorithm": {
        "hyperparam": {"num_envs": 2, "rollout_length": 8, "update_epochs": 1, "num_minibatches": 2},
        "network": {"actor_network": {"pre_torso": {"layer_sizes": [8]}}, "critic_network": {"pre_torso": {"layer_sizes": [8]}}},
    },
    "training": {"total_timesteps": 64, "num_evaluations": 1, "num_eval_episodes": 2},
}


def run_programs(split, segments, hparams, keys):
    """`start`, `advance` to 32 env steps and `score`, compiled as the executor compiles them over
    `split`'s groups: the lanes' state and returns, as NumPy arrays."""
    lanes = keys.shape[0]
    shapes = jax.eval_shape(jax.vmap(segments.init), hparams, keys)
    fresh, until = np.ones(lanes, bool), np.full(lanes, 32, np.int32)
    start = split.jit(lane_start(segments), 4).lower(shapes, hparams, keys, fresh).compile()
    advance = split.jit(lane_advance(segments), 3).lower(shapes, hparams, until).compile()
    assert isinstance(advance, GroupedProgram) == (isinstance(split, LaneThreads) and split.count > 1)
    score = split.jit(lane_score(segments), 1, donate=False).lower(shapes).compile()
    state = start(jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes), hparams, keys, fresh)
    state, _, finite = advance(state, hparams, until)
    assert np.all(finite)
    return jax.device_get((state, score(state)))


def test_lanes_in_threads_or_sharded_over_devices_equal_one_group():
    local = jax.local_devices()
    if len(local) < 2:
        pytest.skip("needs 2 CPU devices (one per core)")
    config = tiny_config("ppo_mlp", "gymnax.cartpole", TINY)
    lane = config_lane(ppo.ALGORITHM, config)
    lrs = (1e-3, 3e-3, 1e-2, 3e-4)
    hparams = lane_hparams(ppo.ALGORITHM, [{**lane, "algorithm.hyperparam.actor_lr": lr} for lr in lrs])
    keys = np.asarray(jax.random.split(jax.random.PRNGKey(1), len(lrs)))
    segments = segments_of(ppo.ALGORITHM, config)
    assert isinstance(lanes_over(local, 4), LaneThreads)  # a CPU's
    one = run_programs(LaneThreads(local[:1]), segments, hparams, keys)
    for split in (LaneThreads(local[:2]), LaneSharding(local[:2])):
        for got, want in zip(jax.tree.leaves(run_programs(split, segments, hparams, keys)), jax.tree.leaves(one)):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6, err_msg=type(split).__name__)


def after_import(code: str, xla_flags: str, platforms: str = "cpu", num_cpu_devices: str | None = None) -> str:
    """What `code` prints in a fresh process that imports hyperlax first, under these XLA_FLAGS,
    JAX_PLATFORMS and JAX_NUM_CPU_DEVICES (none when None)."""
    env = {**os.environ, "XLA_FLAGS": xla_flags, "JAX_PLATFORMS": platforms}
    env.pop("JAX_NUM_CPU_DEVICES", None)
    if num_cpu_devices is not None:
        env["JAX_NUM_CPU_DEVICES"] = num_cpu_devices
    run = subprocess.run([sys.executable, "-c", f"import hyperlax; {code}"], env=env, capture_output=True, text=True, check=True)
    return run.stdout


def cpu_devices_started(xla_flags: str, num_cpu_devices: str | None = None) -> int:
    """The CPU devices jax starts in a fresh process that imports hyperlax first, under these
    XLA_FLAGS and JAX_NUM_CPU_DEVICES."""
    return int(after_import("import jax; print(jax.local_device_count())", xla_flags, num_cpu_devices=num_cpu_devices))


def test_hyperlax_starts_one_cpu_device_per_core_unless_told_a_count():
    cores = len(os.sched_getaffinity(0))
    assert cpu_devices_started("") == cores
    assert cpu_devices_started("--xla_force_host_platform_device_count=3") == 3
    assert cpu_devices_started("", num_cpu_devices=str(2 * cores)) == 2 * cores  # a count the user sets


def xla_flags_after_import(platforms: str, xla_flags: str = "") -> str:
    """XLA_FLAGS in a fresh process (under these JAX_PLATFORMS and XLA_FLAGS) after `import hyperlax`."""
    return after_import("import os; print(os.environ['XLA_FLAGS'])", xla_flags, platforms)


def test_loop_strength_reduction_is_off_on_a_cpu_only_install_unless_the_user_set_llvm_options():
    assert "--xla_backend_extra_options=-disable-lsr" in xla_flags_after_import("cpu")
    assert "-disable-lsr" not in xla_flags_after_import("cuda,cpu")
    mine = xla_flags_after_import("cpu", "--xla_backend_extra_options=-some-option")
    assert "-disable-lsr" not in mine and "--xla_backend_extra_options=-some-option" in mine


def rows(root):
    with open(root / "results.csv") as f:
        return [{k: v for k, v in row.items() if k != "wall_s"} for row in csv.DictReader(f)]


def test_a_sweep_sharded_over_four_devices_equals_it_on_one(tmp_path):
    recipe = write_recipe(tmp_path)
    args = ["sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
            "--num-samples", "5", "--hparam-batch-size", "5", "--total-timesteps", "256", "--num-evaluations", "1"]
    assert main([*args, "--devices", "1", "--output-root", str(tmp_path / "one")]) == 0
    env = {**os.environ, "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4"}
    sharded = subprocess.run(
        [sys.executable, "-m", "hyperlax.cli", *args, "--devices", "all", "--output-root", str(tmp_path / "four")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert sharded.returncode == 0, sharded.stderr[-3000:]

    one, four = (tmp_path / name / "tiny_ppo" / "gymnax_cartpole" for name in ("one", "four"))
    assert rows(four) == rows(one) and len(rows(one)) == 5
    batch = "samples/batch_00000"
    info = [json.loads((root / batch / "info.json").read_text()) for root in (one, four)]
    assert [i["devices"] for i in info] == [1, 4]
    assert info[1]["padding_fraction"] == 0.375  # 5 lanes padded to 8, two per device
    with np.load(one / batch / "params.npz") as a, np.load(four / batch / "params.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            np.testing.assert_allclose(b[name], a[name], rtol=0, atol=1e-6, err_msg=name)
