"""Benchmark: search methods on the same PPO CartPole space and budget, several seeds of each search.

Prints one JSON object. Every method runs the whole search (`--num-samples` configurations,
`--batch-size` at a time, each trained for `--total-timesteps` env steps) once per seed, as a sweep
of its own; `best_by_batch` is, per method and seed, the best final return over the samples of the
batches finished so far (batch index k: the first k + 1 batches), `mean_by_batch` the mean final
return of batch k's own samples (where the method is looking), each with its median over seeds.
`check` compares TPE's best after half the budget with random's after the whole budget (medians
over seeds). The space is `ppo_mlp`'s eight float hyperparameters, every other value fixed at the
recipe's (one architecture, one compiled function).

`METHODS` is a list of named methods, each the sweep options that make it.

`--study schedulers` compares the methods that stop or share runs instead: ASHA with refill
(`--num-samples` configurations), random search at full budget, W&B's Hyperband and PBT, on a
wider space (actor and critic learning rates over 3 decades, entropy, clip, gae_lambda; a 32x32
network). ASHA runs first in each seed; random search and PBT then train as many configurations
at full budget as fit in the env steps ASHA spent, so the methods compare at equal total env
steps. Each search's best finished configuration is re-trained with 2 fresh seeds (`rerun`) and
that final return is its score.

    python scripts/bench_search.py [--num-samples 64] [--batch-size 8] [--seeds 3]
                                   [--total-timesteps 20000] [--methods random,tpe,gp]
    python scripts/bench_search.py --study schedulers --num-samples 28 --total-timesteps 40000
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


SCHEDULER_RECIPE = '''
from hyperlax.configs.algo.ppo_mlp import get_base_config as ppo_config
from hyperlax.space import LogUniform, Uniform

def get_base_config():
    config = ppo_config()
    config["algorithm"]["hyperparam"].update(num_envs=4, rollout_length=64, update_epochs=2, num_minibatches=2)
    for net in ("actor_network", "critic_network"):
        config["algorithm"]["network"][net]["pre_torso"]["layer_sizes"] = [32, 32]
    return config

def get_base_hyperparam_distributions():
    return {
        "algorithm.hyperparam.actor_lr": LogUniform(domain=(1e-5, 1e-2)),
        "algorithm.hyperparam.critic_lr": LogUniform(domain=(1e-5, 1e-2)),
        "algorithm.hyperparam.ent_coef": LogUniform(domain=(1e-4, 1e-1)),
        "algorithm.hyperparam.clip_eps": Uniform(domain=(0.05, 0.4)),
        "algorithm.hyperparam.gae_lambda": Uniform(domain=(0.8, 0.99)),
    }
'''


def scheduler_methods(asha_samples: int, per_run: int) -> list[tuple[str, int | None, list[str]]]:
    """(name, configurations or None: as many at full budget as ASHA's env steps pay for, options)."""
    first = str(per_run // 8)
    return [
        ("asha", asha_samples, ["--early-stopping", "asha", "--grace-period", first]),
        ("random", None, []),
        ("hyperband", asha_samples, ["--early-stopping", "hyperband", "--grace-period", first]),
        ("pbt", None, ["--pbt", "--perturbation-interval", first]),
    ]


def run_scheduled(recipe: Path, out: Path, seed: int, num_samples: int, options: list[str], args) -> dict:
    from hyperlax.cli import main
    from hyperlax.report.rerun import rerun

    argv = [
        "sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
        "--num-samples", str(num_samples), "--hparam-batch-size", str(args.batch_size),
        "--total-timesteps", str(args.total_timesteps), "--num-evaluations", "8", "--sampling-method", "random",
        "--seed", str(seed), "--checkpoint-every", "0", "--output-root", str(out), "--log-level", "WARNING", *options,
    ]
    start = time.perf_counter()
    if main(argv) != 0:
        raise SystemExit(f"{options} seed {seed} failed")
    wall = time.perf_counter() - start
    sweep = out / recipe.stem / "gymnax_cartpole"
    summary = json.loads((sweep / "summary.json").read_text())
    best = summary["best"][0]
    with (rerun(sweep, [best["sample_id"]], num_seeds=2, seed=10_000 + seed) / "results.csv").open() as f:
        (row,) = list(csv.DictReader(f))
    return {
        "configurations_tried": summary["num_finished_samples"], "stopped": summary["num_stopped_samples"],
        "env_steps": summary["env_steps"], "best_sample": best["sample_id"],
        "best_final_return_in_search": best["final_return"],
        "best_final_return_fresh_seeds": float(row["final_return"]),
        "wall_s": round(wall, 1), "compile_count": summary["compile_count"],
    }


def scheduler_study(args: argparse.Namespace) -> dict:
    methods = scheduler_methods(args.num_samples, args.total_timesteps)
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in methods}
    with tempfile.TemporaryDirectory() as folder:
        recipe = Path(folder) / "bench_ppo.py"
        recipe.write_text(SCHEDULER_RECIPE)
        for seed in range(args.seeds):  # the methods alternate within each seed
            full_budget = max(2, args.num_samples // 3)
            for name, num_samples, options in methods:
                run = run_scheduled(recipe, Path(folder) / f"{name}_{seed}", seed, num_samples or full_budget, options, args)
                runs[name].append(run)
                if name == "asha":
                    full_budget = max(2, round(run["env_steps"] / args.total_timesteps))
    figures = ("configurations_tried", "env_steps", "best_final_return_fresh_seeds", "wall_s")
    return {
        "settings": {**vars(args), "env": "gymnax.cartpole"},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "runs": runs,
        "median": {name: {k: statistics.median(r[k] for r in rs) for k in figures} for name, rs in runs.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", choices=("samplers", "schedulers"), default="samplers")
    parser.add_argument("--num-samples", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--total-timesteps", type=int, default=20_000)
    parser.add_argument("--methods", default=",".join(m.name for m in METHODS))
    args = parser.parse_args()
    if args.study == "schedulers":
        json.dump(scheduler_study(args), sys.stdout, indent=2)
        print()
        return
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
