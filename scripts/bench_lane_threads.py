"""Benchmark: one recipe's `advance` trained on one CPU device with XLA's intra-op threads as they come,
pinned to one core after the compile, with the whole process on one core from its start, and with
jax's CPU client started on one core (its intra-op pool then has one thread) and the process given
back its cores before the compile.

Each measurement is a fresh process (jax's CPU client sizes its intra-op pool by the cores and CPU
devices there are when it starts, and XLA:CPU splits large loop fusions into as many parallel
partitions as that pool has threads); the conditions alternate round by round, their order
rotating. Prints one JSON object: per condition and lane count, each round's compile seconds, loop
fusions split into parallel partitions, CPU devices, intra-op pool threads, cores busy while
training, and milliseconds per update, with the median of the last.

    python scripts/bench_lane_threads.py [--lanes 1,8] [--rounds 3] [--algo ppo_mlp] [--env gymnax.cartpole]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CONDITIONS = ("as_they_come", "pinned_after_compile", "one_core_from_start", "client_on_one_core")
ROOT = Path(__file__).resolve().parent.parent


def measure(condition: str, lanes: int, algo_name: str, env_name: str, calls: int = 12, updates_per_call: int = 20) -> dict:
    """One condition's figures, in this (fresh) process."""
    cores = sorted(os.sched_getaffinity(0))
    if condition in ("one_core_from_start", "client_on_one_core"):
        os.sched_setaffinity(0, {cores[0]})  # before jax starts: its threads inherit it
    import time

    import jax
    import jax.numpy as jnp
    import numpy as np

    if condition == "client_on_one_core":
        import hyperlax  # noqa: F401  (one CPU device per usable core: one here)

        jax.devices()  # starts the client and its intra-op pool, on the one core
        for tid in os.listdir("/proc/self/task"):
            os.sched_setaffinity(int(tid), cores)

    # this script's folder is first on sys.path
    from bench_lane_ab import lowered_advance

    lowered, fresh, hparams, steps_per_update = lowered_advance(algo_name, env_name, lanes)
    state = fresh()
    start = time.perf_counter()
    program = lowered.compile()
    compile_s = time.perf_counter() - start
    threads = {t: Path(f"/proc/self/task/{t}/comm").read_text().strip() for t in os.listdir("/proc/self/task")}
    if condition == "pinned_after_compile":
        for tid in threads:
            os.sched_setaffinity(int(tid), {cores[0]})
    times, cpu = [], 0.0
    for call in range(calls + 1):  # call 0 warms up
        until = jnp.full(lanes, steps_per_update * updates_per_call * (call + 1), jnp.int32)
        wall, process = time.perf_counter(), time.process_time()
        state, _, _ = program(state, hparams, until)
        jax.block_until_ready(state)
        if call:
            times.append(time.perf_counter() - wall)
            cpu += time.process_time() - process
    return {
        "compile_s": round(compile_s, 3),
        "partitioned_fusions": program.as_text().count('"outer_dimension_partitions":["'),
        "cpu_devices": len(jax.devices()),
        "intra_op_threads": sum(name == "tf_XLAEigen" for name in threads.values()),
        "cores_busy": round(cpu / sum(times), 2),
        "ms_per_update": round(1000 * float(np.median(times)) / updates_per_call, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lanes", default="1,8", help="lane counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--algo", default="ppo_mlp")
    parser.add_argument("--env", default="gymnax.cartpole")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # condition,lanes: measure in this process
    args = parser.parse_args()
    if args.child:
        condition, lanes = args.child.split(",")
        print(json.dumps(measure(condition, int(lanes), args.algo, args.env)))
        return

    environment = dict(os.environ)  # the children's: without the device count `import hyperlax` adds for this process's cores
    from hyperlax.run.devices import machine

    figures = {str(lanes): {c: [] for c in CONDITIONS} for lanes in map(int, args.lanes.split(","))}
    for round_ in range(args.rounds):
        order = CONDITIONS[round_ % len(CONDITIONS) :] + CONDITIONS[: round_ % len(CONDITIONS)]
        for lanes in figures:
            for condition in order:
                command = [sys.executable, __file__, "--child", f"{condition},{lanes}", "--algo", args.algo, "--env", args.env]
                done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
                figures[lanes][condition].append(json.loads(done.stdout.strip().splitlines()[-1]))
    result = {
        "algo": args.algo, "env": args.env, "rounds": args.rounds, "machine": machine(),
        "lanes": {
            lanes: {
                condition: {"median_ms_per_update": statistics.median(r["ms_per_update"] for r in runs), "rounds": runs}
                for condition, runs in by_condition.items()
            }
            for lanes, by_condition in figures.items()
        },
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
