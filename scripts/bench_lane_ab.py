"""Benchmark: one recipe's `advance` compiled twice, with and without some XLA options, alternated.

Both programs train the same lanes (the recipe's defaults, same keys) from the same start, call by
call in turns (the order flips every round), so the machine's phases touch both alike. Prints one
JSON object: each program's compile seconds and fusion count, the median milliseconds per update of
each, the median of the per-call ratios (with options over without), and whether the two ended
with bit-identical parameters (options that reorder float sums change them).

    python scripts/bench_lane_ab.py '{"xla_cpu_prefer_vector_width": 512}' [--lanes 1] [--pairs 20]
                                    [--algo ppo_mlp] [--env gymnax.cartpole] [--updates-per-call 10]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hyperlax.algos.common import LANES
from hyperlax.algos.interface import lane_hparams
from hyperlax.config import flatten
from hyperlax.envs import make_env
from hyperlax.recipes import load_recipe
from hyperlax.run.devices import machine
from hyperlax.run.executor import lane_advance


def lowered_advance(algo_name: str, env_name: str, lanes: int) -> tuple[Any, Callable[[], Any], Any, int]:
    """The recipe's `advance` over `lanes` lanes of its defaults (same keys), lowered; a function
    that gives the lanes' fresh state, their hyperparameters, and the env steps of one update."""
    recipe = load_recipe(algo_name, env_name)
    algo, config = recipe.algorithm, recipe.base_config
    config["training"]["total_timesteps"] = 10**9  # never reached: each call stops at its `until`
    segments = algo.make_segments(config, make_env(config["env"]), algo.padded_extents([config]))
    hparams = lane_hparams(algo, [flatten(config)] * lanes)
    keys = jax.random.split(jax.random.key(0), lanes)
    init = jax.jit(jax.vmap(segments.init, axis_name=LANES))
    fresh = lambda: init(hparams, keys)  # noqa: E731
    lowered = jax.jit(lane_advance(segments)).lower(fresh(), hparams, jnp.zeros(lanes, jnp.int32))
    hp = config["algorithm"]["hyperparam"]
    return lowered, fresh, hparams, hp.get("num_envs", 1) * hp.get("rollout_length", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("options", help="XLA compile options of the second program, as JSON")
    parser.add_argument("--lanes", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--algo", default="ppo_mlp")
    parser.add_argument("--env", default="gymnax.cartpole")
    parser.add_argument("--updates-per-call", type=int, default=10, help="PPO updates (else iterations) per call")
    args = parser.parse_args()
    options = json.loads(args.options)

    lowered, fresh, hparams, steps_per_update = lowered_advance(args.algo, args.env, args.lanes)

    programs, figures = [], []
    for chosen in (None, options):
        start = time.perf_counter()
        program = lowered.compile(compiler_options=chosen)
        compile_s = time.perf_counter() - start
        programs.append(program)
        figures.append({"compile_s": round(compile_s, 3), "fusions": program.as_text().count(" fusion(")})
    states = [fresh(), fresh()]
    times: list[list[float]] = [[], []]
    for round_ in range(args.pairs + 1):  # round 0 warms both up
        until = jnp.full(args.lanes, steps_per_update * args.updates_per_call * (round_ + 1), jnp.int32)
        for which in (0, 1) if round_ % 2 else (1, 0):
            start = time.perf_counter()
            states[which], _, _ = programs[which](states[which], hparams, until)
            jax.block_until_ready(states[which])
            if round_:
                times[which].append(time.perf_counter() - start)
    same = all(
        bool(jnp.array_equal(a, b)) for a, b in zip(jax.tree.leaves(states[0]["params"]), jax.tree.leaves(states[1]["params"]))
    )
    per_update = [round(1000 * float(np.median(t)) / args.updates_per_call, 3) for t in times]
    result = {
        "algo": args.algo, "env": args.env, "lanes": args.lanes, "pairs": args.pairs, "options": options,
        "without": {**figures[0], "ms_per_update": per_update[0]},
        "with": {**figures[1], "ms_per_update": per_update[1]},
        "median_ratio_with_over_without": round(float(np.median(np.divide(times[1], times[0]))), 3),
        "parameters_bit_identical": same,
        "machine": machine(),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
