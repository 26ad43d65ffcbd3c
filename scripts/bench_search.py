"""Benchmark: search methods on the same PPO CartPole space and budget, several seeds of each search.

Prints one JSON object (and each search's figures on stderr as it ends). Every method runs the
whole search (`--num-samples` configurations, `--batch-size` at a time, each trained for
`--total-timesteps` env steps) once per seed, as a sweep of its own; `best_by_batch` is, per
method and seed, the best in-search final return over the samples of the batches finished so far
(batch index k: the first k + 1 batches), `mean_by_batch` the mean final return of batch k's own
samples (where the method is looking), `best_sample_by_batch` that best sample's id, and
`fresh_best_by_batch` that sample re-trained from scratch with `--rerun-seeds` fresh seeds
(`rerun`, seed 10,000 + the search seed for every method: the mean over those seeds of the final
evaluation), each with its median over seeds. The in-search best is the maximum of single noisy
runs, so it favours the method that ran the most samples; the fresh figure measures the
configuration a method would hand over. `check` compares TPE's best after half the budget with
random's after the whole budget (medians over seeds), by both figures. The space is `ppo_mlp`'s
eight float hyperparameters, every other value fixed at the recipe's (one architecture, one
compiled function).

`METHODS` is a list of named methods, each the sweep options that make it.

`--study schedulers` compares the methods that stop or share runs instead: ASHA with refill
(`--num-samples` configurations, `--grace-period`, `--reduction-factor`), random search at full
budget, W&B's Hyperband (same rungs) and PBT (`--perturbation-interval`; its population is all its
configurations, in one batch), on a wider space (actor and critic learning rates over 3 decades,
entropy, clip, gae_lambda; a 32x32 network). ASHA runs first in each seed; random search and PBT
then train as many configurations at full budget as fit in the env steps ASHA spent, so the
methods compare at equal total env steps (every method draws the same random samples in sample_id
order, so random's configurations are the first of ASHA's). Each search's best finished
configuration (by its in-search final return) is re-trained from scratch with `--rerun-seeds`
fresh seeds, the same for every method, and that final return is its `score`; PBT's score is its
best member's hyperparameter schedule replayed from scratch with those seeds
(`best_config_fresh_seeds` is the configuration results.csv records for it trained from scratch:
for PBT the sample as drawn, not the hyperparameters its final state trained with). The finalist is
picked by two rules, each applied to every method and scored (`by_selection`): `last`, the highest
final evaluation (the summary's best), and `tail`, the highest mean of the last `--tail` evaluations
(ties to the whole curve's mean); `--selection` names the one `score` reports. Each pick is re-trained
alone, so a configuration scores the same whichever method or rule picks it (`score_sem`: the
standard error over the fresh seeds). `final_policy_fresh_episodes` is the pick's final policies (for
PBT the member's own parameters) on `--policy-episodes` fresh episodes (`evaluate`): what the search
hands over, not re-trained. `--num-seeds` trains every configuration of every method with
that many seeds in the search (random and PBT then get ASHA's env steps / (budget x seeds) configurations).

    python scripts/bench_search.py [--num-samples 64] [--batch-size 8] [--seeds 5] [--rerun-seeds 8]
                                   [--total-timesteps 20000] [--methods random,tpe,gp]
    python scripts/bench_search.py --study schedulers --num-samples 28 --total-timesteps 40000
                                   [--grace-period 5000] [--reduction-factor 3] [--perturbation-interval 5000]
                                   [--quantile-fraction 0.25] [--num-seeds 1] [--selection tail] [--tail 3]
"""

from __future__ import annotations

import argparse
import contextlib
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

import numpy as np

HP = "algorithm.hyperparam."
FRESH_SEED = 10_000  # re-evaluations train with seed FRESH_SEED + the search seed
FIXED = [  # one architecture and one set of array sizes: the search is over the floats
    f"{HP}rollout_length=128", f"{HP}num_envs=4", f"{HP}update_epochs=4", f"{HP}num_minibatches=4",
    "algorithm.network.actor_network.pre_torso.layer_sizes=[[64, 64]]",
    "algorithm.network.actor_network.pre_torso.activation=tanh",
]


def machine() -> dict:
    """The CPU, cores and devices this ran on (`hyperlax.run.devices.machine`), with Python's version and the OS."""
    from hyperlax.run.devices import machine as hardware

    return {**hardware(), "python": platform.python_version(), "platform": platform.platform()}


class Method(NamedTuple):
    name: str
    options: list[str]  # sweep-hp-samples options that make the method


METHODS = [
    Method("random", ["--sampling-method", "random"]),
    Method("tpe", ["--sampling-method", "tpe"]),
    Method("gp", ["--sampling-method", "gp"]),
]


def by_batch(results: Path, num_samples: int, batch_size: int) -> tuple[list[float], list[float], list[int]]:
    """Per batch k: the best finite final return over samples 0 .. (k + 1) * batch_size - 1, the
    mean finite final return of batch k's own samples (where the sampler is looking), and the
    sample id of that best (the lowest id among equal returns)."""
    with open(results) as f:
        returns = {int(r["sample_id"]): float(r["final_return"]) for r in csv.DictReader(f)}
    best, best_id, bests, means, ids = float("-inf"), -1, [], [], []
    for k in range(-(-num_samples // batch_size)):
        batch = range(k * batch_size, min((k + 1) * batch_size, num_samples))
        finite = {i: returns[i] for i in batch if i in returns and returns[i] == returns[i]}
        for i, value in finite.items():
            if value > best:
                best, best_id = value, i
        bests.append(best)
        ids.append(best_id)
        means.append(statistics.fmean(finite.values()) if finite else float("nan"))
    return bests, means, ids


def fresh_scores(sweep: Path, sample_ids: list[int], num_seeds: int, seed: int) -> dict[int, float]:
    """Each of `sample_ids` trained again from scratch with `num_seeds` fresh seeds (`rerun`, one
    batched sweep): its final return, the mean over those seeds of the last evaluation."""
    from hyperlax.report.rerun import rerun

    ids = sorted(set(sample_ids))
    with (rerun(sweep, ids, num_seeds=num_seeds, seed=seed) / "results.csv").open() as f:
        rows = {int(r["sample_id"]): float(r["final_return"]) for r in csv.DictReader(f)}
    return {sample_id: rows[i] for i, sample_id in enumerate(ids)}  # re-run sample i trained ids[i]


def fresh_alone(sweep: Path, sample_id: int, num_seeds: int, seed: int) -> tuple[float, float]:
    """`sample_id` trained again from scratch, alone, with `num_seeds` fresh seeds (`rerun`): the mean
    over those seeds of the last evaluation, and its standard error. Alone, it is the re-run's
    sample 0, so its keys (and score) are the same whatever else a method picks: a re-run's keys
    derive from its own sample ids."""
    from hyperlax.report.rerun import rerun
    from hyperlax.report.sweep_data import load_sweep

    finals = load_sweep(rerun(sweep, [sample_id], num_seeds=num_seeds, seed=seed)).returns[0][:, -1]
    return float(finals.mean()), float(finals.std(ddof=1) / np.sqrt(finals.size)) if finals.size > 1 else float("nan")


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
    bests, means, ids = by_batch(sweep / "results.csv", args.num_samples, args.batch_size)
    fresh = fresh_scores(sweep, ids, args.rerun_seeds, FRESH_SEED + seed) if args.rerun_seeds else {}
    return {
        "best_by_batch": bests, "mean_by_batch": means, "best_sample_by_batch": ids,
        "fresh_best_by_batch": [fresh[i] for i in ids] if fresh else None,
        "wall_s": round(wall, 1), "compile_count": summary["compile_count"],
    }


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


def work_folder(keep: str | None):
    """Where the sweeps go: a temporary folder, or `--keep DIR` (made if need be) to look at them after."""
    if keep is None:
        return tempfile.TemporaryDirectory()
    Path(keep).mkdir(parents=True, exist_ok=True)
    return contextlib.nullcontext(keep)


def scheduler_methods(args: argparse.Namespace) -> list[tuple[str, int | None, list[str]]]:
    """(name, configurations or None: as many at full budget as ASHA's env steps pay for, options)."""
    stopping = ["--grace-period", str(args.grace_period), "--reduction-factor", str(args.reduction_factor)]
    pbt = ["--perturbation-interval", str(args.perturbation_interval), "--quantile-fraction", str(args.quantile_fraction)]
    return [
        ("asha", args.num_samples, ["--early-stopping", "asha", *stopping]),
        ("random", None, []),
        ("hyperband", args.num_samples, ["--early-stopping", "hyperband", *stopping]),
        ("pbt", None, ["--pbt", *pbt]),
    ]


SELECTIONS = ("last", "tail")  # finalist rules; every method is scored under each, `--selection` names the headline


def finalists(sweep: Path, tail: int) -> dict[str, dict]:
    """Each selection rule's pick among the sweep's finished samples with a finite curve, from their
    in-search curves (metrics.csv: the mean over the search's seeds at each evaluation):
    `last`, the highest last evaluation (the summary's `best`; ties to the lowest id); `tail`, the
    highest mean of the last `tail` evaluations, ties to the highest mean of the whole curve, then
    the lowest id. Each pick: sample id and its last / tail / whole-curve means."""
    from hyperlax.report.sweep_data import load_sweep

    data = load_sweep(sweep)
    figures = []
    for row in data.rows:
        curve = data.returns[row["sample_id"]].mean(axis=0)
        if row["status"] == "finished" and bool(np.isfinite(curve).all()):
            figures.append((row["sample_id"], float(curve[-1]), float(curve[-tail:].mean()), float(curve.mean())))
    if not figures:
        raise SystemExit(f"{sweep}: no finished sample with a finite curve")
    picks = {
        "last": min(figures, key=lambda f: (-f[1], f[0])),
        "tail": min(figures, key=lambda f: (-f[2], -f[3], f[0])),
    }
    return {
        rule: {"sample": i, "last_in_search": last, "tail_in_search": round(t, 3), "curve_mean_in_search": round(m, 3)}
        for rule, (i, last, t, m) in picks.items()
    }


def final_policy(sweep: Path, sample_id: int, episodes: int, seed: int) -> float:
    """The sample's final policies (one per search seed; a PBT member's own, inherited weights
    included) evaluated on `episodes` fresh greedy episodes each (`evaluate`): their mean return."""
    from rich.console import Console

    from hyperlax.report.evaluate import evaluate_final

    report = evaluate_final(sweep, [sample_id], episodes, seed, Console(stderr=True, quiet=True))
    return report["samples"][0]["mean_return"]


def replay_fresh(sweep: Path, sample_id: int, num_seeds: int, seed: int) -> tuple[float, float]:
    """A PBT sweep's sample's schedule trained as a run of its own with `num_seeds` fresh seeds
    (`rerun.replay_schedule`); its final return (the mean over those seeds of the last evaluation) and
    that mean's standard error."""
    from rich.console import Console

    from hyperlax.report.rerun import replay_schedule

    finals = np.asarray(replay_schedule(sweep, sample_id, Console(stderr=True, quiet=True), seed, num_seeds)["replayed_returns"])[:, -1]
    return float(finals.mean()), float(finals.std(ddof=1) / np.sqrt(finals.size)) if finals.size > 1 else float("nan")


def run_scheduled(recipe: Path, out: Path, seed: int, num_samples: int, options: list[str], args) -> dict:
    from hyperlax.cli import main

    pbt = "--pbt" in options  # the population is the whole search: one batch of every configuration
    argv = [
        "sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
        "--num-samples", str(num_samples), "--hparam-batch-size", str(num_samples if pbt else args.batch_size),
        "--num-seeds", str(args.num_seeds), "--total-timesteps", str(args.total_timesteps), "--num-evaluations", str(args.num_evaluations),
        "--sampling-method", "random", "--seed", str(seed), "--checkpoint-every", "0", "--output-root", str(out),
        "--log-level", "WARNING", *options,
    ]
    start = time.perf_counter()
    if main(argv) != 0:
        raise SystemExit(f"{options} seed {seed} failed")
    wall = time.perf_counter() - start
    sweep = out / recipe.stem / "gymnax_cartpole"
    summary = json.loads((sweep / "summary.json").read_text())
    picks = finalists(sweep, args.tail)
    ids = sorted({p["sample"] for p in picks.values()})
    fresh = {i: fresh_alone(sweep, i, args.rerun_seeds, FRESH_SEED + seed) for i in ids}  # each pick re-run alone
    for pick in picks.values():
        # its hyperparameters in results.csv (PBT: as sampled) trained from scratch
        pick["config_fresh_seeds"], pick["config_fresh_seeds_sem"] = fresh[pick["sample"]]
        pick["score"], pick["score_sem"] = fresh[pick["sample"]]
    policies = {i: final_policy(sweep, i, args.policy_episodes, FRESH_SEED + seed) for i in ids}
    for pick in picks.values():  # the policy the search trained, on fresh episodes (PBT: the member's own)
        pick["final_policy_fresh_episodes"] = policies[pick["sample"]]
    if pbt:  # PBT's product is a schedule: the pick's, replayed from scratch with the same fresh seeds
        replayed = {i: replay_fresh(sweep, i, args.rerun_seeds, FRESH_SEED + seed) for i in ids}
        for pick in picks.values():
            pick["score"], pick["score_sem"] = replayed[pick["sample"]]
            pick["schedule_fresh_seeds"] = pick["score"]
    chosen = picks[args.selection]
    run = {
        "configurations_tried": summary["num_finished_samples"], "stopped": summary["num_stopped_samples"],
        "env_steps": summary["env_steps"], "best_sample": chosen["sample"],
        "best_final_return_in_search": chosen["last_in_search"],
        "best_config_fresh_seeds": chosen["config_fresh_seeds"],
        "score": chosen["score"], "score_sem": chosen["score_sem"],
        "final_policy_fresh_episodes": chosen["final_policy_fresh_episodes"], "by_selection": picks,
        "wall_s": round(wall, 1), "compile_count": summary["compile_count"],
    }
    if pbt:
        run["best_schedule_fresh_seeds"] = chosen["schedule_fresh_seeds"]
    return run


def scheduler_study(args: argparse.Namespace) -> dict:
    args.grace_period = args.grace_period or args.total_timesteps // 8
    args.perturbation_interval = args.perturbation_interval or args.total_timesteps // 8
    methods = scheduler_methods(args)
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in methods}
    with work_folder(args.keep) as folder:
        recipe = Path(folder) / "bench_ppo.py"
        recipe.write_text(SCHEDULER_RECIPE)
        for seed in range(args.seeds):  # the methods alternate within each seed
            full_budget = max(2, args.num_samples // 3)
            for name, num_samples, options in methods:
                run = run_scheduled(recipe, Path(folder) / f"{name}_{seed}", seed, num_samples or full_budget, options, args)
                if name == "random":  # the same sample under ASHA (random's samples are ASHA's first ones)
                    with (Path(folder) / f"asha_{seed}" / recipe.stem / "gymnax_cartpole" / "results.csv").open() as f:
                        row = next(r for r in csv.DictReader(f) if int(r["sample_id"]) == run["best_sample"])
                    run["best_sample_under_asha"] = {k: row[k] for k in ("status", "env_steps", "final_return")}
                runs[name].append(run)
                print(f"seed {seed} {name}: {json.dumps(run)}", file=sys.stderr, flush=True)
                if name == "asha":
                    full_budget = max(2, round(run["env_steps"] / (args.total_timesteps * args.num_seeds)))
    figures = (
        "configurations_tried", "env_steps", "best_final_return_in_search", "best_config_fresh_seeds", "score",
        "final_policy_fresh_episodes", "wall_s",
    )
    median = {name: {k: statistics.median(r[k] for r in rs) for k in figures} for name, rs in runs.items()}
    median["pbt"]["best_schedule_fresh_seeds"] = statistics.median(r["best_schedule_fresh_seeds"] for r in runs["pbt"])
    by_selection = {  # every rule's score, per method: medians and per seed
        rule: {
            name: {"median": statistics.median(r["by_selection"][rule]["score"] for r in rs),
                   "per_seed": [r["by_selection"][rule]["score"] for r in rs]}
            for name, rs in runs.items()
        }
        for rule in SELECTIONS
    }
    ratios = [a["configurations_tried"] / r["configurations_tried"] for a, r in zip(runs["asha"], runs["random"])]
    return {
        "settings": {
            **vars(args), "env": "gymnax.cartpole", "recipe": SCHEDULER_RECIPE.strip(),
            "equal_env_steps": "random and PBT train round(ASHA's env steps / (total_timesteps x num_seeds)) "
            "configurations at full budget",
            "pbt_population": "all of its configurations, one batch",
            "selection": f"{args.selection}: each search's finalist among its finished samples, by its in-search curve "
            f"(the mean over its {args.num_seeds} search seed(s) at each evaluation, num_eval_episodes 8 each); "
            f"'last': the highest last evaluation, ties to the lowest id (the summary's best); 'tail': the highest "
            f"mean of the last {args.tail} evaluations, ties to the highest whole-curve mean, then the lowest id. "
            "Every rule is applied to every method and scored (by_selection); `score` is the named rule's",
            "score": f"that sample re-trained from scratch, alone (so a configuration scores the same whichever method "
            f"or rule picks it), with {args.rerun_seeds} fresh seeds ({FRESH_SEED} + search seed, "
            "the same for every method): the mean over them of the final evaluation; for PBT its best member's "
            "hyperparameter schedule replayed with those seeds (best_config_fresh_seeds: the hyperparameters results.csv "
            "records for it, which for PBT are that sample's as sampled, not those its final state trained with, "
            "trained from scratch)",
            "final_policy_fresh_episodes": f"the pick's final policies, one per search seed (PBT: the member's own "
            f"parameters, inherited weights included), each evaluated on {args.policy_episodes} fresh greedy episodes "
            f"(`evaluate`, seed {FRESH_SEED} + search seed): the mean return; what the search hands over, not re-trained",
        },
        "machine": machine(),
        "runs": runs,
        "median": median,
        "by_selection": by_selection,
        "check": {
            "asha_configurations_over_random_per_seed": [round(x, 2) for x in ratios],
            "asha_configurations_over_random_median": statistics.median(ratios),
            "asha_tries_3x": statistics.median(ratios) >= 3,
            "asha_score_at_least_random": median["asha"]["score"] >= median["random"]["score"],
            "pbt_score_at_least_random": median["pbt"]["score"] >= median["random"]["score"],
            "pbt_config_from_scratch_at_least_random": median["pbt"]["best_config_fresh_seeds"] >= median["random"]["score"],
            "final_policy": {
                f"{name}_at_least_random": median[name]["final_policy_fresh_episodes"]
                >= median["random"]["final_policy_fresh_episodes"]
                for name in ("asha", "hyperband", "pbt")
            },
            "by_selection": {
                rule: {
                    "asha_score_at_least_random": scores["asha"]["median"] >= scores["random"]["median"],
                    "pbt_score_at_least_random": scores["pbt"]["median"] >= scores["random"]["median"],
                }
                for rule, scores in by_selection.items()
            },
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", choices=("samplers", "schedulers"), default="samplers")
    parser.add_argument("--num-samples", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--total-timesteps", type=int, default=20_000)
    parser.add_argument("--methods", default=",".join(m.name for m in METHODS))
    parser.add_argument("--rerun-seeds", type=int, default=8, help="fresh seeds that re-train each chosen best (0: none)")
    parser.add_argument("--keep", default=None, help="keep the sweeps in this folder (default: a temporary one)")
    parser.add_argument("--num-evaluations", type=int, default=8, help="schedulers: evaluation milestones per run")
    parser.add_argument("--grace-period", type=int, default=0, help="schedulers: ASHA/Hyperband (default total / 8)")
    parser.add_argument("--reduction-factor", type=float, default=3.0, help="schedulers: ASHA/Hyperband eta")
    parser.add_argument("--perturbation-interval", type=int, default=0, help="schedulers: PBT (default total / 8)")
    parser.add_argument("--quantile-fraction", type=float, default=0.25, help="schedulers: PBT's bottom / top fraction")
    parser.add_argument("--num-seeds", type=int, default=1, help="schedulers: training seeds per configuration in the search")
    parser.add_argument("--selection", choices=SELECTIONS, default="tail", help="schedulers: the finalist rule `score` uses")
    parser.add_argument("--tail", type=int, default=3, help="schedulers: evaluations the 'tail' rule averages")
    parser.add_argument("--policy-episodes", type=int, default=64, help="schedulers: fresh episodes per final policy")
    args = parser.parse_args()
    if args.study == "schedulers":
        json.dump(scheduler_study(args), sys.stdout, indent=2)
        print()
        return
    chosen = [m for m in METHODS if m.name in args.methods.split(",")]
    figures = ("best", "mean", "fresh_best") if args.rerun_seeds else ("best", "mean")
    with work_folder(args.keep) as folder:
        # every sweep compiles the same program: compile it once, read it from the cache after
        os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(folder) / "jax_cache"))
        runs = {}
        for m in chosen:
            runs[m.name] = {}
            for seed in range(args.seeds):
                runs[m.name][seed] = run = run_search(m, seed, args, Path(folder))
                print(f"{m.name} seed {seed}: {json.dumps(run)}", file=sys.stderr, flush=True)
    methods = {}
    for name, by_seed in runs.items():
        methods[name] = {
            **{
                f"{figure}_by_batch": {str(seed): run[f"{figure}_by_batch"] for seed, run in by_seed.items()}
                for figure in (*figures, "best_sample")
            },
            **{
                f"median_{figure}_by_batch": [
                    statistics.median(values) for values in zip(*(run[f"{figure}_by_batch"] for run in by_seed.values()))
                ]
                for figure in figures
            },
            "wall_s": {str(seed): run["wall_s"] for seed, run in by_seed.items()},
        }
    result = {
        "settings": {
            **vars(args), "space": "ppo_mlp floats", "env": "gymnax.cartpole", "fixed": FIXED,
            "fresh_best": f"the best-so-far sample after each batch re-trained from scratch with {args.rerun_seeds} "
            f"fresh seeds ({FRESH_SEED} + search seed, the same for every method): the mean over them of the final evaluation",
        },
        "machine": machine(),
        "methods": methods,
    }
    if {"random", "tpe"} <= set(methods):
        half = len(methods["tpe"]["median_best_by_batch"]) // 2 - 1
        check = {}
        for figure in figures:
            if figure == "mean":
                continue
            tpe_half = methods["tpe"][f"median_{figure}_by_batch"][half]
            random_whole = methods["random"][f"median_{figure}_by_batch"][-1]
            check[figure] = {
                "tpe_after_half_budget": tpe_half, "random_after_whole_budget": random_whole,
                "tpe_half_at_least_random_whole": tpe_half >= random_whole,
            }
        result["check"] = check
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
