"""Benchmark: the same N PPO configurations run sequentially and batched, in one process.

Prints one JSON object. The default case is R16: 16 Sobol-sampled configurations (learning rates
and coefficients sampled), 100k env steps each on CartPole-v1, 4 envs x 128-step rollouts,
4 epochs x 4 minibatches, 64x64 tanh MLPs.

    python scripts/bench_sweep.py [--num-samples 16] [--total-timesteps 100000] [--env gymnax.cartpole]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import jax

from hyperlax.algos import ppo
from hyperlax.envs import make_env
from hyperlax.recipes import load_recipe
from hyperlax.run.executor import Executor
from hyperlax.run.sweep import Settings, prepare
from hyperlax.space import draw_samples


def reset_peak_rss() -> None:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM)."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_mode(prepared) -> dict:
    """Run every unit of the plan on a fresh executor (so compilation is counted); its figures."""
    config = prepared.base_config
    executor = Executor(ppo, config, make_env(config["env"]), prepared.settings.num_seeds, prepared.settings.seed)
    reset_peak_rss()
    start = time.perf_counter()
    for batch in prepared.plan:
        for unit in batch.units:
            executor.run_unit(unit, [prepared.samples[i] for i in unit.sample_ids])
    wall = time.perf_counter() - start
    steps = len(prepared.samples) * prepared.settings.num_seeds * config["training"]["total_timesteps"]
    return {
        "env_steps_per_s": round(steps / (wall - executor.compile_s), 1),
        "end_to_end_env_steps_per_s": round(steps / wall, 1),
        "compile_count": executor.compile_count,
        "compile_s": round(executor.compile_s, 3),
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-samples", type=int, default=16)
    parser.add_argument("--total-timesteps", type=int, default=100_000)
    parser.add_argument("--env", default="gymnax.cartpole")
    parser.add_argument("--num-evaluations", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    jax.config.update("jax_enable_compilation_cache", False)  # every compile is paid, as on a fresh sweep

    recipe = load_recipe("ppo_mlp", args.env)
    vectorized = {k: v for k, v in recipe.distributions.items() if k in ppo.VECTORIZED}
    recipe = dataclasses.replace(recipe, distributions=vectorized)  # one architecture and shape
    samples = draw_samples(recipe.distributions, args.num_samples, "qmc_sobol", args.seed)
    common = dict(seed=args.seed, total_timesteps=args.total_timesteps, num_evaluations=args.num_evaluations)
    sequential = prepare(recipe, samples, Settings(sequential=True, **common), {"kind": "bench"})
    batched = prepare(recipe, samples, Settings(hparam_batch_size=args.num_samples, **common), {"kind": "bench"})
    hp = recipe.base_config["algorithm"]["hyperparam"]
    result = {
        "case": f"R{args.num_samples}" if args.total_timesteps == 100_000 else "custom",
        "env": args.env,
        "num_samples": args.num_samples,
        "total_timesteps": args.total_timesteps,
        "num_evaluations": batched.base_config["training"]["num_evaluations"],
        "shape": {k: hp[k] for k in ("num_envs", "rollout_length", "update_epochs", "num_minibatches")},
        "device": f"{jax.devices()[0].platform}: {jax.devices()[0].device_kind}",
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "sequential": run_mode(sequential),
        "batched": run_mode(batched),
    }
    result["ratio_batched_over_sequential"] = round(
        result["batched"]["end_to_end_env_steps_per_s"] / result["sequential"]["end_to_end_env_steps_per_s"], 3
    )
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
