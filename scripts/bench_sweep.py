"""Benchmark: the same N configurations of one algorithm recipe run in several modes, in one process.

Prints one JSON object. Samples are Sobol draws of the recipe's search space restricted to:
- same-shape (default; "R16" for PPO): the float hyperparameters, every other value the recipe's
  default (ppo_mlp: 4 envs x 128-step rollouts, 4 epochs x 4 minibatches, 64x64 tanh); run
  sequential and batched.
- mixed ("M16", PPO): the floats and the paddable integers (rollout_length, num_envs,
  update_epochs, num_minibatches; one architecture); run sequential, grouped (one batch per
  paddable combination) and padded (one batch, masked lanes).
Every mode shards a unit's lanes over the local devices (hyperlax's default `--devices all`; on a
CPU one device per core); with `--devices 1,2,...` the batched plan also runs on that many devices
(mode `batched_on_<N>_devices`). `segment_loop` compares the batched unit run segment by segment
(the executor) with the same unit in one compiled call, both compiled beforehand on one device:
what the segment loop costs, as a share of the batched wall time. Every compilation is cold: the
benchmark turns jax's persistent compilation cache off itself (`--compile-cache off` in each mode,
whatever the environment sets) and reports `compile_cache_hits` (0) to show it. As in a sweep, the
units' programs compile ahead on a background thread while earlier units train (`--no-compile-ahead`:
each when its unit starts); `compile_s` counts compiling on either thread, `compile_wait_s` the
units' waits for it, which `env_steps_per_s` leaves out. `jaxpr_equations`
is the size of the batched plan's programs (`start`, `advance` and `score`, sub-jaxprs included), those whose
compilation the batched mode's `compile_s` times.
Each mode lists its `units` in run order: lanes, devices, wall and compile seconds, and where the
algorithm has a padding cost model (PPO) its estimate of the unit's seconds (`hyperlax/padding.py`);
and, where /proc/stat tells them, what else took the machine's cores while the mode ran: the CPU
seconds of other processes (`vm_other_cpu_s`) and of the hypervisor (`vm_steal_s`).
`--dump-samples PATH` also writes every sample's whole config (and the schedule) as JSON, for
scripts/bench_rejax.py to run the same samples.

    python scripts/bench_sweep.py [--algo ppo_mlp|dqn_mlp|sac_mlp] [--case same-shape|mixed]
                                  [--num-samples 16] [--total-timesteps 100000] [--env gymnax.cartpole]
                                  [--devices 1,2] [--dump-samples PATH] [--skip-segment-loop]
                                  [--no-compile-ahead]
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
import jax.extend

from bench_sitting import machine_cpu_s, machine_load  # this folder is on the path of a script run from it
from hyperlax import padding
from hyperlax.algos.common import LANES
from hyperlax.algos.interface import run_in_one_call
from hyperlax.recipes import load_recipe
from hyperlax.run.devices import machine
from hyperlax.run.executor import config_for, lane_advance, lane_score, lane_start
from hyperlax.run.loop import Settings, make_executor, prepare
from hyperlax.space import draw_samples


def reset_peak_rss() -> None:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM)."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_mode(prepared, ahead: bool = True) -> dict:
    """Run every unit of the plan on a fresh executor (so compilation is counted), compiling ahead as a
    sweep does unless `ahead` is false; its figures."""
    executor = make_executor(prepared)
    reset_peak_rss()
    machine_before, own_before = machine_cpu_s(), os.times()
    start, units = time.perf_counter(), []
    planned = [(unit, [prepared.samples[i] for i in unit.sample_ids]) for batch in prepared.plan for unit in batch.units]
    if ahead:
        executor.compile_ahead(planned)
    for unit, samples in planned:
        began, compiling_before = time.perf_counter(), executor.compile_s
        executor.run_unit(unit, samples)
        seconds, compile_s = time.perf_counter() - began, executor.compile_s - compiling_before
        units.append(unit_figures(prepared, samples, seconds, compile_s, executor.sharding(unit).count))
    wall = time.perf_counter() - start
    machine_after, own_after = machine_cpu_s(), os.times()
    executor.close()
    steps = executor.env_steps
    own = own_after.user + own_after.system - own_before.user - own_before.system
    return {
        "num_batches": len(prepared.plan),
        "devices": max(unit["devices"] for unit in units),
        "padding_fraction": round(1.0 - steps / executor.slots, 4),
        "env_steps_per_s": round(steps / (wall - executor.compile_wait_s), 1),
        "end_to_end_env_steps_per_s": round(steps / wall, 1),
        "compile_count": executor.compile_count,
        "compile_cache_hits": executor.compile_cache_hits,
        "compile_s": round(executor.compile_s, 3),
        "compile_wait_s": round(executor.compile_wait_s, 3),
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "units": units,
        **machine_load(machine_before, machine_after, own),
    }


def unit_figures(prepared, samples, seconds: float, compile_s: float, devices: int) -> dict:
    """One unit's lanes, devices and seconds, with the padding cost model's estimate where the algorithm has one."""
    figures = {"lanes": len(samples), "devices": devices, "wall_s": round(seconds, 3), "compile_s": round(compile_s, 3)}
    algo = prepared.recipe.algorithm
    if algo.unit_cost is not None:
        costs = padding.costs()
        estimate = padding.seconds(algo, [config_for(prepared.base_config, sample) for sample in samples], costs)
        figures["estimated_s"] = round(estimate - (costs.compile_s if compile_s == 0 else 0), 1)
    return figures


def count_equations(jaxpr) -> int:
    """Equations of a jaxpr, those of its sub-jaxprs (loop bodies, branches) included."""
    return len(jaxpr.eqns) + sum(count_equations(sub) for sub in jax.extend.core.subjaxprs(jaxpr))


def jaxpr_equations(prepared) -> dict[str, int]:
    """The size of the batched plan's first unit's programs (what the executor compiles): their jaxprs' equations."""
    executor = make_executor(prepared)
    unit = prepared.plan[0].units[0]
    samples = [prepared.samples[i] for i in unit.sample_ids]
    hparams, keys = executor.inputs(samples, unit.sample_ids, unit.lanes)
    config = config_for(prepared.base_config, samples[0])
    segments = prepared.recipe.algorithm.make_segments(config, executor.env, prepared.extents[unit.structure])
    state = jax.eval_shape(jax.vmap(segments.init, axis_name=LANES), hparams, keys)
    lanes = keys.shape[:1]
    fresh, until = jax.ShapeDtypeStruct(lanes, jax.numpy.bool_), jax.ShapeDtypeStruct(lanes, jax.numpy.int32)
    start = count_equations(jax.make_jaxpr(lane_start(segments))(state, hparams, keys, fresh).jaxpr)
    advance = count_equations(jax.make_jaxpr(lane_advance(segments))(state, hparams, until).jaxpr)
    score = count_equations(jax.make_jaxpr(lane_score(segments))(state).jaxpr)
    return {"start": start, "advance": advance, "score": score, "total": start + advance + score}


def dump_samples(path: str, prepared, env: str) -> None:
    """Every sample's whole config, in sample order, with the env and the sweep's seed."""
    configs = [config_for(prepared.base_config, sample) for sample in prepared.samples]
    Path(path).write_text(json.dumps({"env": env, "seed": prepared.settings.seed, "configs": configs}, indent=1))


def segment_loop_cost(prepared, batched_wall_s: float, repeats: int = 2) -> dict:
    """The executor's segment loop against one call of init and every advance, on the batched
    plan's first unit on one device (compiled beforehand; the fastest of `repeats` alternating runs
    of each)."""
    executor = make_executor(dataclasses.replace(prepared, settings=dataclasses.replace(prepared.settings, devices=1)))
    unit = prepared.plan[0].units[0]
    samples = [prepared.samples[i] for i in unit.sample_ids]
    hparams, keys = executor.inputs(samples, unit.sample_ids, unit.lanes)
    config = config_for(prepared.base_config, samples[0])
    segments = prepared.recipe.algorithm.make_segments(config, executor.env, prepared.extents[unit.structure])
    training = prepared.base_config["training"]
    train = run_in_one_call(segments, training["total_timesteps"], training["num_evaluations"])
    one_call = jax.jit(jax.vmap(train, axis_name=LANES)).lower(hparams, keys).compile()
    executor.run_unit(unit, samples)  # compiles the segmented step
    times = {"segmented_s": [], "one_call_s": []}
    for _ in range(repeats):
        start = time.perf_counter()
        executor.run_unit(unit, samples)
        times["segmented_s"].append(time.perf_counter() - start)
        start = time.perf_counter()
        jax.block_until_ready(one_call(hparams, keys))
        times["one_call_s"].append(time.perf_counter() - start)
    segmented, whole = min(times["segmented_s"]), min(times["one_call_s"])
    return {
        "segments": training["num_evaluations"],
        "segmented_s": round(segmented, 3),
        "one_call_s": round(whole, 3),
        "loop_cost_fraction_of_batched_wall": round((segmented - whole) / batched_wall_s, 4),
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
    parser.add_argument("--devices", default="", help="device counts to also run the batched plan on, e.g. 1,2")
    parser.add_argument("--skip-segment-loop", action="store_true", help="leave out the segment_loop figure")
    parser.add_argument("--dump-samples", default="", help="write every sample's config here (JSON) and go on")
    parser.add_argument(
        "--modes", default="", help="run only these modes, in this order, e.g. auto,padded (default: every mode)"
    )
    parser.add_argument("--no-compile-ahead", action="store_true", help="compile each unit's step when it starts")
    args = parser.parse_args()

    env = args.env or ("gymnax.pendulum" if args.algo.startswith("sac") else "gymnax.cartpole")
    recipe = load_recipe(args.algo, env)
    algo = recipe.algorithm
    if args.case == "mixed" and not algo.paddable:
        parser.error(f"--case mixed needs an algorithm with paddable values; {args.algo} has none")
    drawn = algo.vectorized + (algo.paddable if args.case == "mixed" else ())
    recipe = dataclasses.replace(recipe, distributions={k: v for k, v in recipe.distributions.items() if k in drawn})
    samples = draw_samples(recipe.distributions, args.num_samples, "qmc_sobol", args.seed)
    # compile_cache off: every compile is paid, as on a fresh sweep (each executor turns jax's cache off).
    common = dict(
        seed=args.seed, total_timesteps=args.total_timesteps, num_evaluations=args.num_evaluations, compile_cache="off"
    )
    modes = {"sequential": Settings(sequential=True, **common)}
    if args.case == "mixed":
        modes["grouped"] = Settings(hparam_batch_size=args.num_samples, group_by_structural_hparams=True, **common)
        modes["padded"] = Settings(hparam_batch_size=args.num_samples, padding="together", **common)
        modes["auto"] = Settings(hparam_batch_size=args.num_samples, **common)  # the cost model's split
    else:
        modes["batched"] = Settings(hparam_batch_size=args.num_samples, **common)
    for count in filter(None, args.devices.split(",")):
        modes[f"batched_on_{count}_devices"] = Settings(hparam_batch_size=args.num_samples, devices=int(count), **common)
    if args.modes:
        unknown = [mode for mode in args.modes.split(",") if mode not in modes]
        if unknown:
            parser.error(f"--modes: no mode {', '.join(unknown)} in this case; its modes: {', '.join(modes)}")
        modes = {mode: modes[mode] for mode in args.modes.split(",")}
    prepared = {mode: prepare(recipe, samples, settings, {"kind": "bench"}) for mode, settings in modes.items()}
    hp = recipe.base_config["algorithm"]["hyperparam"]
    result = {
        "case": ("M" if args.case == "mixed" else "R") + str(args.num_samples),
        "algo": args.algo,
        "env": env,
        "num_samples": args.num_samples,
        "total_timesteps": args.total_timesteps,
        "num_evaluations": next(iter(prepared.values())).base_config["training"]["num_evaluations"],
        "paddable": "drawn per sample" if args.case == "mixed" else {k: hp[k.rsplit(".", 1)[1]] for k in algo.paddable},
        "machine": machine(),
        "python": platform.python_version(),
        "jax": jax.__version__,
    }
    batched = "padded" if args.case == "mixed" else "batched"
    if args.dump_samples:
        dump_samples(args.dump_samples, next(iter(prepared.values())), env)
    for mode, ready in prepared.items():
        result[mode] = run_mode(ready, ahead=not args.no_compile_ahead)
        print(f"{mode}: {json.dumps(result[mode])}", file=sys.stderr, flush=True)
    if batched in prepared:
        result[batched]["jaxpr_equations"] = jaxpr_equations(prepared[batched])
    if batched in prepared and not args.skip_segment_loop:
        result["segment_loop"] = segment_loop_cost(prepared[batched], result[batched]["wall_s"])
    for mode in prepared:
        if mode != "sequential" and "sequential" in prepared:
            result[f"ratio_{mode}_over_sequential"] = round(
                result[mode]["end_to_end_env_steps_per_s"] / result["sequential"]["end_to_end_env_steps_per_s"], 3
            )
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
