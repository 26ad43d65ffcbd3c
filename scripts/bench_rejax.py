"""Benchmark rejax's PPO on the samples and schedule of hyperlax's R16, batched and sequential.

Run it in a virtualenv of its own (rejax 0.1.3 needs gymnax 0.0.9, hyperlax gymnax 1.0); it does not
import hyperlax. The samples come from `scripts/bench_sweep.py --dump-samples PATH`:

    python3 -m venv /tmp/rejax-venv
    /tmp/rejax-venv/bin/pip install rejax==0.1.3 gymnax==0.0.9 jax==0.10.2 jaxlib==0.10.2 flax==0.12.8 optax==0.2.8
    python scripts/bench_sweep.py --total-timesteps 102400 --dump-samples /tmp/r16.json
    /tmp/rejax-venv/bin/python scripts/bench_rejax.py /tmp/r16.json

Each sample's PPO values map to rejax's fields (num_envs, num_steps, num_epochs, num_minibatches,
learning_rate, gamma, gae_lambda, clip_eps, ent_coef, vf_coef, max_grad_norm, the MLP's sizes and
activation). rejax has one learning rate for actor and critic: it takes the actor's. It evaluates
every `total_timesteps / num_evaluations` env steps (rounded up to whole updates), as hyperlax does,
with `num_eval_episodes` episodes of its own `evaluate`, and not before training. Batched vmaps
train over the samples' float values, as rejax's documentation does; sequential compiles one run
and calls it for each sample. Modes run in hyperlax's order (sequential first), each traced cold.
Prints one JSON object; walls include compilation (tracing and lowering too).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import jax
import jax.extend
import jax.numpy as jnp
from rejax import PPO
from rejax.evaluate import evaluate

ENVS = {"gymnax.cartpole": "CartPole-v1", "gymnax.pendulum": "Pendulum-v1"}
# rejax's traced PPO fields and the hyperlax hyperparameters they take.
FLOATS = {
    "learning_rate": "actor_lr", "gamma": "gamma", "gae_lambda": "gae_lambda", "clip_eps": "clip_eps",
    "ent_coef": "ent_coef", "vf_coef": "vf_coef", "max_grad_norm": "max_grad_norm",
}


def count_equations(jaxpr) -> int:
    """Equations of a jaxpr, those of its sub-jaxprs (loop bodies, branches) included."""
    return len(jaxpr.eqns) + sum(count_equations(sub) for sub in jax.extend.core.subjaxprs(jaxpr))


def make_algo(config: dict, env: str) -> tuple[PPO, int]:
    """rejax's PPO with the sample's sizes, network and schedule, and the env steps it takes."""
    hp, training = config["algorithm"]["hyperparam"], config["training"]
    torso = config["algorithm"]["network"]["actor_network"]["pre_torso"]
    steps_per_update = hp["num_envs"] * hp["rollout_length"]
    eval_freq = round(training["total_timesteps"] / training["num_evaluations"])
    algo = PPO.create(
        env=ENVS[env],
        num_envs=hp["num_envs"],
        num_steps=hp["rollout_length"],
        num_epochs=hp["update_epochs"],
        num_minibatches=hp["num_minibatches"],
        total_timesteps=training["total_timesteps"],
        eval_freq=eval_freq,
        skip_initial_evaluation=True,
        agent_kwargs={"hidden_layer_sizes": tuple(torso["layer_sizes"]), "activation": torso["activation"]},
        **{field: hp[name] for field, name in FLOATS.items()},
    )
    episodes = training["num_eval_episodes"]

    def eval_callback(algo, ts, rng):
        _, returns = evaluate(algo.make_act(ts), rng, algo.env, algo.env_params, episodes, None)
        return returns.mean()

    updates = -(-eval_freq // steps_per_update) * -(-training["total_timesteps"] // eval_freq)
    return algo.replace(eval_callback=eval_callback), updates * steps_per_update


def floats(configs: list[dict]) -> dict[str, jax.Array]:
    """rejax's traced fields of every sample: float32 arrays [samples]."""
    return {f: jnp.asarray([c["algorithm"]["hyperparam"][n] for c in configs], jnp.float32) for f, n in FLOATS.items()}


def run_mode(train, values, keys, batched: bool) -> tuple[dict, jax.Array]:
    """Compile and run every sample, all at once (`batched`) or one after another on one compiled
    run; the figures (wall and compile seconds, env steps/s, the jaxpr's size) and the returns."""
    fn = jax.vmap(train) if batched else train
    args = (values, keys) if batched else jax.tree.map(lambda v: v[0], (values, keys))
    start = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - start
    if batched:
        returns = jax.block_until_ready(compiled(values, keys))
    else:
        runs = [compiled(*jax.tree.map(lambda v: v[i], (values, keys))) for i in range(len(keys))]
        returns = jnp.stack(jax.block_until_ready(runs))
    wall = time.perf_counter() - start
    equations = count_equations(jax.make_jaxpr(fn)(*args).jaxpr)  # after the timing: it would warm jit's trace cache
    return {"wall_s": round(wall, 3), "compile_s": round(compile_s, 3), "run_s": round(wall - compile_s, 3),
            "jaxpr_equations": equations}, returns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("samples", help="JSON written by scripts/bench_sweep.py --dump-samples")
    parser.add_argument("--modes", default="sequential,batched")
    args = parser.parse_args()
    dump = json.loads(open(args.samples).read())
    configs = dump["configs"]
    algo, steps_per_run = make_algo(configs[0], dump["env"])
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(dump["seed"]), i))(jnp.arange(len(configs)))
    values = floats(configs)

    def train(values, key):
        return algo.replace(**values).train(key)[1]

    result = {
        "tool": "rejax", "algo": "ppo", "env": dump["env"], "num_samples": len(configs),
        "env_steps_per_sample": steps_per_run,
        "device": f"{jax.devices()[0].platform}: {jax.devices()[0].device_kind} (x{jax.local_device_count()})",
        "cpu_count": os.cpu_count(), "python": platform.python_version(), "jax": jax.__version__,
    }
    env_steps = steps_per_run * len(configs)
    for mode in args.modes.split(","):
        figures, returns = run_mode(train, values, keys, batched=mode == "batched")
        result[mode] = {
            **figures,
            "env_steps_per_s": round(env_steps / figures["run_s"], 1),
            "end_to_end_env_steps_per_s": round(env_steps / figures["wall_s"], 1),
            "final_return_mean": round(float(returns[:, -1].mean()), 2),
        }
    if "batched" in result and "sequential" in result:
        result["ratio_batched_over_sequential"] = round(result["sequential"]["wall_s"] / result["batched"]["wall_s"], 3)
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
