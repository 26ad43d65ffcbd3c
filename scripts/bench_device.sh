#!/usr/bin/env bash
# Issue 14's device figures in one call: R16, R64 and M16, batched against sequential, on this
# machine's default jax backend (a GPU where there is one), each benchmark's JSON into OUTDIR.
#
#     bash scripts/bench_device.sh OUTDIR [BUDGET_S]
#
# Runs in priority order while the budget (default 540 s) lasts; each benchmark gets at most its
# share of the budget, and no more than is left, and is cut off there (its NAME.err then holds the
# modes that finished, a JSON line each). A case with under 30 s left is skipped
# (OUTDIR/skipped.txt). OUTDIR/device.txt names the device and the packages' versions. The compile
# cache is off in every mode (bench_sweep.py). PYTHON picks the interpreter (python).
# On a machine without network access, install hyperlax from scripts/device_wheels.sh's wheels first.
set -u
out=${1:?usage: bench_device.sh OUTDIR [BUDGET_S]}
budget=${2:-540}
mkdir -p "$out"
end=$((SECONDS + budget))
python=${PYTHON:-python}
{ nvidia-smi -L 2>/dev/null; "$python" -c 'import importlib.metadata as m, hyperlax, jax
print(jax.devices(), *(f"{p} {m.version(p)}" for p in ("jax", "flax", "optax", "gymnax")))'; } > "$out/device.txt" 2>&1

run() {  # run NAME SHARE ARGS...: bench_sweep.py ARGS into OUTDIR/NAME.json, for at most SHARE% of the budget
    local name=$1 start=$SECONDS left=$((end - SECONDS)) cap=$((budget * $2 / 100))
    shift 2
    ((left > cap)) && left=$cap
    if ((left < 30)); then
        echo "$name: skipped, $left s of the budget left" | tee -a "$out/skipped.txt"
        return
    fi
    echo "$name: up to $left s" >&2
    timeout "$left" "$python" scripts/bench_sweep.py --skip-segment-loop "$@" > "$out/$name.json" 2> "$out/$name.err"
    echo "$name: exit $? after $((SECONDS - start)) s" >&2
}

run r16 35 --total-timesteps 102400
run r64 35 --total-timesteps 102400 --num-samples 64
run m16 100 --case mixed --modes padded,grouped,sequential,auto
