"""A sitting against rejax: R16 on hyperlax and on rejax 0.1.3, round by round, in one command.

Each round runs `scripts/bench_sweep.py` (sequential, batched, batched on 1 device) and
`scripts/bench_rejax.py` on the same 16 samples, each in a fresh process, one after the other;
hyperlax goes first in odd rounds, rejax in even ones. Prints one JSON object: every round's
figures (each run's with the CPU seconds other processes and the hypervisor took from the machine's
cores meanwhile), their medians, and issue 14's ratios (by the medians, and round by round), with
where batched over sequential stands: each mode's build and training, and its bound (the ratio with a
batched build as short as the sequential one and the sequential training split evenly over the
batched mode's devices). With
`--record NAME` it also appends the sitting to `docs/bench_rejax.json`'s `sittings`. If a benchmark
fails, it prints the runs that finished (JSON) and the failure, and exits with 1.

    python scripts/bench_sitting.py --rejax-python /tmp/rejax-venv/bin/python [--rounds 5] [--record NAME]

rejax needs a virtualenv of its own (see `scripts/bench_rejax.py`). Run nothing else meanwhile.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "docs" / "bench_rejax.json"

# name in the medians -> (tool, mode, figure) of each round
FIGURES = {
    "hyperlax_batched_wall_s": ("hyperlax", "batched", "wall_s"),
    "hyperlax_batched_compile_s": ("hyperlax", "batched", "compile_s"),
    "hyperlax_batched_compile_wait_s": ("hyperlax", "batched", "compile_wait_s"),
    "hyperlax_batched_on_1_device_wall_s": ("hyperlax", "batched_on_1_devices", "wall_s"),
    "hyperlax_batched_on_1_device_compile_s": ("hyperlax", "batched_on_1_devices", "compile_s"),
    "hyperlax_sequential_wall_s": ("hyperlax", "sequential", "wall_s"),
    "hyperlax_sequential_compile_s": ("hyperlax", "sequential", "compile_s"),
    "hyperlax_sequential_compile_wait_s": ("hyperlax", "sequential", "compile_wait_s"),
    "rejax_batched_wall_s": ("rejax", "batched", "wall_s"),
    "rejax_batched_compile_s": ("rejax", "batched", "compile_s"),
    "rejax_sequential_wall_s": ("rejax", "sequential", "wall_s"),
    "rejax_sequential_compile_s": ("rejax", "sequential", "compile_s"),
    "rejax_sequential_run_s": ("rejax", "sequential", "run_s"),
}


def machine_cpu_s() -> tuple[float, float] | None:
    """CPU seconds this machine's cores have been busy since boot, and those the hypervisor took
    (/proc/stat's first line), or None where there is no /proc/stat."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    per_s = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / per_s, steal / per_s


def machine_load(before: tuple[float, float] | None, after: tuple[float, float] | None, own_s: float) -> dict:
    """What else took the machine's cores between two `machine_cpu_s()` readings, besides the
    `own_s` CPU seconds of the benchmark: `vm_other_cpu_s`, those of every other process, and
    `vm_steal_s`, those the hypervisor took ({} where /proc/stat told nothing)."""
    if before is None or after is None:
        return {}
    return {"vm_other_cpu_s": round(after[0] - before[0] - own_s, 2), "vm_steal_s": round(after[1] - before[1], 2)}


def run_json(command: list[str]) -> dict:
    """Run a benchmark in a fresh process; the JSON object it prints, with what else took the
    machine's cores meanwhile (`machine_load`)."""
    before, own = machine_cpu_s(), os.times()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    after, ended = machine_cpu_s(), os.times()
    benchmark = ended.children_user + ended.children_system - own.children_user - own.children_system
    return {**json.loads(done.stdout), **machine_load(before, after, benchmark)}


def summary(rounds: list[dict]) -> tuple[dict, dict]:
    """The medians of the rounds' figures, and the ratios issue 14 sets targets on."""
    median = {
        name: round(statistics.median(r[tool][mode][figure] for r in rounds), 3)
        for name, (tool, mode, figure) in FIGURES.items()
    }
    seq = lambda r: r["hyperlax"]["sequential"]["wall_s"]  # noqa: E731
    for mode in ("sequential", "batched"):  # the wall time after the wait for the build
        training = [r["hyperlax"][mode]["wall_s"] - r["hyperlax"][mode]["compile_wait_s"] for r in rounds]
        median[f"hyperlax_{mode}_training_s"] = round(statistics.median(training), 3)
    build, train = median["hyperlax_sequential_compile_wait_s"], median["hyperlax_sequential_training_s"]
    devices = rounds[0]["hyperlax"]["batched"]["devices"]
    ratios = {
        "batched_hyperlax_over_rejax_wall": median["hyperlax_batched_wall_s"] / median["rejax_batched_wall_s"],
        "batched_on_1_device_hyperlax_over_rejax_wall": (
            median["hyperlax_batched_on_1_device_wall_s"] / median["rejax_batched_wall_s"]
        ),
        "sequential_hyperlax_over_rejax_wall": median["hyperlax_sequential_wall_s"] / median["rejax_sequential_wall_s"],
        "sequential_hyperlax_over_rejax_wall_by_round": [seq(r) / r["rejax"]["sequential"]["wall_s"] for r in rounds],
        "hyperlax_batched_over_sequential_speed": median["hyperlax_sequential_wall_s"] / median["hyperlax_batched_wall_s"],
        "hyperlax_batched_over_sequential_speed_by_round": [seq(r) / r["hyperlax"]["batched"]["wall_s"] for r in rounds],
        "hyperlax_batched_on_1_device_over_sequential_speed": (
            median["hyperlax_sequential_wall_s"] / median["hyperlax_batched_on_1_device_wall_s"]
        ),
        # where batched over sequential stands: its build against the sequential one's, its training
        # against the sequential one's, and the ratio with a build as short as the sequential one's
        # and the sequential training split evenly over the batched mode's devices
        "hyperlax_batched_build_over_sequential_build": median["hyperlax_batched_compile_wait_s"] / build,
        "hyperlax_sequential_training_over_batched_training": train / median["hyperlax_batched_training_s"],
        "hyperlax_batched_over_sequential_bound": (build + train) / (build + train / devices),
    }
    rounded = lambda x: [round(v, 3) for v in x] if isinstance(x, list) else round(x, 3)  # noqa: E731
    return median, {k: rounded(v) for k, v in ratios.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rejax-python", required=True, help="the python of a virtualenv with rejax 0.1.3 and gymnax 0.0.9")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--total-timesteps", type=int, default=102400)
    parser.add_argument("--record", metavar="NAME", help="append the sitting, named NAME, to docs/bench_rejax.json")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if shutil.which(args.rejax_python) is None:
        parser.error(f"--rejax-python: no python at {args.rejax_python}")
    began = datetime.datetime.now(datetime.timezone.utc)
    rounds = []
    with tempfile.TemporaryDirectory() as folder:
        samples = Path(folder) / "r16.json"  # written by hyperlax's first run, read by every rejax run
        hyperlax = [
            sys.executable, "scripts/bench_sweep.py", "--total-timesteps", str(args.total_timesteps),
            "--skip-segment-loop", "--devices", "1", "--dump-samples", str(samples),
        ]
        rejax = [args.rejax_python, "scripts/bench_rejax.py", str(samples)]
        for index in range(1, args.rounds + 1):
            order = ("hyperlax", "rejax") if index % 2 else ("rejax", "hyperlax")
            result = {"round": index, "first": order[0]}
            for tool in order:
                try:
                    result[tool] = run_json(hyperlax if tool == "hyperlax" else rejax)
                except RuntimeError as error:  # keep what finished
                    json.dump({"finished_rounds": rounds, "unfinished_round": result}, sys.stdout, indent=1)
                    sys.exit(f"round {index}: {error}")
                print(f"round {index}: {tool} done", file=sys.stderr, flush=True)
            rounds.append(result)
    ended = datetime.datetime.now(datetime.timezone.utc)
    median, ratios = summary(rounds)
    describe = ["git", "describe", "--always", "--dirty", "--abbrev=7"]  # the commit, "-dirty" if changed since
    commit = subprocess.run(describe, cwd=ROOT, capture_output=True, text=True).stdout
    sitting = {
        "sitting": args.record or "unrecorded",
        "time": f"{began:%Y-%m-%d %H:%M}-{ended:%H:%M} UTC",
        "code": commit.strip() or "unknown",
        "order": "hyperlax first in odd rounds, rejax first in even rounds",
        "machine": rounds[0]["hyperlax"]["machine"],
        "median": median,
        "ratios": ratios,
        "rounds": rounds,
    }
    if args.record:
        document = json.loads(RECORD.read_text())
        document["sittings"].append(sitting)
        RECORD.write_text(json.dumps(document, indent=1) + "\n")
    json.dump(sitting, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
