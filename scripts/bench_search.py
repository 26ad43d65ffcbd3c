"""Benchmark: search methods on the same PPO CartPole space and budget, several seeds of each search.

Prints one JSON object. Every method runs the whole search (`--num-samples` configurations,
`--batch-size` at a time, each trained for `--total-timesteps` env steps) once per seed, as a sweep
of its own; `best_by_batch` is, per method and seed, the best final return over the samples of the
batches finished so far (batch index k: the first k + 1 batches), `mean_by_batch` the mean final
return of batch k's own samples (where the method is looking), each with its median over seeds.
`check` compares TPE's best after half the budget with random's after the whole budget (medians
over seeds). The space is `ppo_mlp`'s eight float hyperparameters, every other value fixed at the
recipe's (one architecture, one compiled function).

`METHODS` is a list of named methods, each the sweep options that make it, so that methods which
stop or replace runs (ASHA, Hyperband, PBT) join the same comparison.

    python scripts/bench_search.py [--num-samples 64] [--batch-size 8] [--seeds 3]
                                   [--total-timesteps 20000] [--methods random,tpe,gp]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

HP = "algorithm.hyperparam."
FIXED = [  # one architecture and one set of array sizes: the search is over the floats
    f"{HP}rollout_length=128", f"{HP}num_envs=4", f"{HP}update_epochs=4", f"{HP}num_minibatches=4",
    "algorithm.network.actor_network.pre_torso.layer_sizes=[[64, 64]]",
    "algorithm.network.actor_network.pre_torso.activation=tanh",
]


class Method(NamedTuple):
    name: str
    options: list[str]  # sweep-hp-samples options that make the method


METHODS = [
    Method("random", ["--sampling-method", "random"]),
    Method("tpe", ["--sampling-method", "tpe"]),
    Method("gp", ["--sampling-method", "gp"]),
]


def by_batch(results: Path, num_samples: int, batch_size: int) -> tuple[list[float], list[float]]:
    """Per batch k: the best finite final return over samples 0 .. (k + 1) * batch_size - 1, and
    the mean finite final return of batch k's own samples (where the sampler is looking)."""
    with open(results) as f:
        returns = {int(r["sample_id"]): float(r["final_return"]) for r in csv.DictReader(f)}
    best, bests, means = float("-inf"), [], []
    for k in range(-(-num_samples // batch_size)):
        batch = [returns.get(i, float("nan")) for i in range(k * batch_size, min((k + 1) * batch_size, num_samples))]
        finite = [v for v in batch if v == v]
        best = max([best, *finite])
        bests.append(best)
        means.append(statistics.fmean(finite) if finite else float("nan"))
    return bests, means


def run_search(method: Method, seed: int, args: argparse.Namespace, folder: Path) -> dict:
    from hyperlax.cli import main

    root = folder / f"{method.name}_{seed}"
    argv = [
        "sweep-hp-samples", "--algo-and-network-config", "ppo_mlp", "--env-config", "gymnax.cartpole",
        "--num-samples", str(args.num_samples), "--hparam-batch-size", str(args.batch_size), "--seed", str(seed),
        "--total-timesteps", str(args.total_timesteps), "--num-evaluations", "4", "--output-root", str(root),
        "--log-level", "WARNING", *(item for fixed in FIXED for item in ("--set", fixed)), *method.options,
    ]
    start = time.perf_counter()
    if main(argv) != 0:
        raise SystemExit(f"{method.name} seed {seed} failed")
    wall = time.perf_counter() - start
    sweep = root / "ppo_mlp" / "gymnax_cartpole"
    summary = json.loads((sweep / "summary.json").read_text())
    bests, means = by_batch(sweep / "results.csv", args.num_samples, args.batch_size)
    return {"best_by_batch": bests, "mean_by_batch": means, "wall_s": round(wall, 1), "compile_count": summary["compile_count"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--total-timesteps", type=int, default=20_000)
    parser.add_argument("--methods", default=",".join(m.name for m in METHODS))
    args = parser.parse_args()
    chosen = [m for m in METHODS if m.name in args.methods.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        # every sweep compiles the same program: compile it once, read it from the cache after
        os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(folder) / "jax_cache"))
        runs = {m.name: {seed: run_search(m, seed, args, Path(folder)) for seed in range(args.seeds)} for m in chosen}
    methods = {}
    for name, by_seed in runs.items():
        methods[name] = {
            **{
                f"{figure}_by_batch": {str(seed): run[f"{figure}_by_batch"] for seed, run in by_seed.items()}
                for figure in ("best", "mean")
            },
            **{
                f"median_{figure}_by_batch": [
                    statistics.median(values) for values in zip(*(run[f"{figure}_by_batch"] for run in by_seed.values()))
                ]
                for figure in ("best", "mean")
            },
            "wall_s": {str(seed): run["wall_s"] for seed, run in by_seed.items()},
        }
    result = {
        "settings": {**vars(args), "space": "ppo_mlp floats", "env": "gymnax.cartpole", "fixed": FIXED},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "methods": methods,
    }
    if {"random", "tpe"} <= set(methods):
        half = len(methods["tpe"]["median_best_by_batch"]) // 2 - 1
        tpe_half, random_whole = methods["tpe"]["median_best_by_batch"][half], methods["random"]["median_best_by_batch"][-1]
        result["check"] = {
            "tpe_best_after_half_budget": tpe_half, "random_best_after_whole_budget": random_whole,
            "tpe_half_at_least_random_whole": tpe_half >= random_whole,
        }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
