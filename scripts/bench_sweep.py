"""Benchmark: the same N configurations of one algorithm recipe run in several modes, in one process.

Prints one JSON object. Samples are Sobol draws of the recipe's search space restricted to:
- same-shape (default; "R16" for PPO): the float hyperparameters, every other value the recipe's
  default (ppo_mlp: 4 envs x 128-step rollouts, 4 epochs x 4 minibatches, 64x64 tanh); run
  sequential and batched.
- mixed ("M16", PPO): the floats and the paddable integers (rollout_length, num_envs,
  update_epochs, num_minibatches; one architecture); run sequential, grouped (one batch per
  paddable combination) and padded (one batch, masked lanes).

    python scripts/bench_sweep.py [--algo ppo_mlp|dqn_mlp|sac_mlp] [--case same-shape|mixed]
                                  [--num-samples 16] [--total-timesteps 100000] [--env gymnax.cartpole]
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

from hyperlax.algos import ALGORITHMS
from hyperlax.recipes import load_recipe
from hyperlax.run.sweep import Settings, make_executor, prepare
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
    executor = make_executor(prepared)
    reset_peak_rss()
    start = time.perf_counter()
    for batch in prepared.plan:
        for unit in batch.units:
            executor.run_unit(unit, [prepared.samples[i] for i in unit.sample_ids])
    wall = time.perf_counter() - start
    steps = executor.env_steps
    return {
        "num_batches": len(prepared.plan),
        "padding_fraction": round(1.0 - steps / executor.slots, 4),
        "env_steps_per_s": round(steps / (wall - executor.compile_s), 1),
        "end_to_end_env_steps_per_s": round(steps / wall, 1),
        "compile_count": executor.compile_count,
        "compile_s": round(executor.compile_s, 3),
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=("same-shape", "mixed"), default="same-shape")
    parser.add_argument("--num-samples", type=int, default=16)
    parser.add_argument("--total-timesteps", type=int, default=100_000)
    parser.add_argument("--algo", default="ppo_mlp", help="algorithm recipe: ppo_mlp, dqn_mlp, sac_mlp, ...")
    parser.add_argument("--env", default=None, help="default: gymnax.pendulum for SAC, else gymnax.cartpole")
    parser.add_argument("--num-evaluations", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    jax.config.update("jax_enable_compilation_cache", False)  # every compile is paid, as on a fresh sweep

    env = args.env or ("gymnax.pendulum" if args.algo.startswith("sac") else "gymnax.cartpole")
    recipe = load_recipe(args.algo, env)
    algo = ALGORITHMS[recipe.base_config["algorithm"]["name"]]
    if args.case == "mixed" and not algo.PADDABLE:
        parser.error(f"--case mixed needs an algorithm with paddable values; {args.algo} has none")
    drawn = algo.VECTORIZED + (algo.PADDABLE if args.case == "mixed" else ())
    recipe = dataclasses.replace(recipe, distributions={k: v for k, v in recipe.distributions.items() if k in drawn})
    samples = draw_samples(recipe.distributions, args.num_samples, "qmc_sobol", args.seed)
    common = dict(seed=args.seed, total_timesteps=args.total_timesteps, num_evaluations=args.num_evaluations)
    modes = {"sequential": Settings(sequential=True, **common)}
    if args.case == "mixed":
        modes["grouped"] = Settings(hparam_batch_size=args.num_samples, group_by_structural_hparams=True, **common)
        modes["padded"] = Settings(hparam_batch_size=args.num_samples, **common)
    else:
        modes["batched"] = Settings(hparam_batch_size=args.num_samples, **common)
    prepared = {mode: prepare(recipe, samples, settings, {"kind": "bench"}) for mode, settings in modes.items()}
    hp = recipe.base_config["algorithm"]["hyperparam"]
    result = {
        "case": ("M" if args.case == "mixed" else "R") + str(args.num_samples),
        "algo": args.algo,
        "env": env,
        "num_samples": args.num_samples,
        "total_timesteps": args.total_timesteps,
        "num_evaluations": prepared["sequential"].base_config["training"]["num_evaluations"],
        "paddable": "drawn per sample" if args.case == "mixed" else {k: hp[k.rsplit(".", 1)[1]] for k in algo.PADDABLE},
        "device": f"{jax.devices()[0].platform}: {jax.devices()[0].device_kind}",
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
    }
    for mode, ready in prepared.items():
        result[mode] = run_mode(ready)
    for mode in prepared:
        if mode != "sequential":
            result[f"ratio_{mode}_over_sequential"] = round(
                result[mode]["end_to_end_env_steps_per_s"] / result["sequential"]["end_to_end_env_steps_per_s"], 3
            )
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
