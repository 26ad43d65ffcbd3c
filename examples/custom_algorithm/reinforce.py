"""REINFORCE with a learned baseline: a complete algorithm of your own for hyperlax, top to bottom.

Each update rolls out `num_envs` envs for `rollout_length` steps with the sampled (softmax)
policy, computes discounted returns-to-go (cut where an episode ended; bootstrapped from the
baseline at the rollout's end and where a time limit cut an episode), then takes one Adam step on
the policy gradient, advantage = return - baseline (normalized per batch), plus the baseline's MSE.
A recipe names this file in `algorithm.name`; see README.md next to it for the contract.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from hyperlax.algos import checks
from hyperlax.algos.common import evaluate, iterations_until, max_over_lanes, select
from hyperlax.algos.interface import Algorithm, Progress, Segments
from hyperlax.nets import Critic, DiscreteActor

HP = "algorithm.hyperparam."
VECTORIZED = tuple(HP + k for k in ("lr", "baseline_lr", "gamma", "ent_coef"))  # traced float32 per lane
NETWORKS = ("policy", "baseline")


def check_config(config: dict[str, Any]) -> None:
    """Raise ValueError naming the key of a value this algorithm cannot run with (shared checks)."""
    steps_per_update = checks.integer(config, "num_envs") * checks.integer(config, "rollout_length")
    if checks.training(config).total_timesteps < steps_per_update:
        raise ValueError("training.total_timesteps is less than one update (num_envs * rollout_length)")
    for name in NETWORKS:
        checks.mlp_torso(checks.section(config, f"algorithm.network.{name}"), f"algorithm.network.{name}")
    checks.check_finite(config, VECTORIZED)


class Rollout(NamedTuple):
    obs: jax.Array  # [rollout_length, num_envs, *obs_shape]
    action: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    final_obs: jax.Array  # the observation the step reached, before the env's auto-reset


def make_segments(config: dict[str, Any], env: Any, extents: dict[str, int]) -> Segments:
    hp_config, net, training = config["algorithm"]["hyperparam"], config["algorithm"]["network"], config["training"]
    num_envs, rollout_length = hp_config["num_envs"], hp_config["rollout_length"]
    steps_per_update = num_envs * rollout_length
    num_updates = training["total_timesteps"] // steps_per_update  # the lane's budget, in updates
    policy = DiscreteActor(tuple(net["policy"]["layer_sizes"]), net["policy"]["activation"], env.num_actions)
    baseline = Critic(tuple(net["baseline"]["layer_sizes"]), net["baseline"]["activation"])
    env_step = jax.vmap(env.env.step, in_axes=(0, 0, 0, None))

    def optimizer(hp):  # one Adam per network, each with its own traced learning rate
        adams = {"policy": optax.adam(hp["lr"]), "baseline": optax.adam(hp["baseline_lr"])}
        return optax.multi_transform(adams, {"policy": "policy", "baseline": "baseline"})

    def init(hparams: dict[str, jax.Array], key: jax.Array) -> dict[str, Any]:
        hp = {k[len(HP):]: v for k, v in hparams.items()}
        policy_key, baseline_key, env_key, train_key, eval_key = jax.random.split(key, 5)
        dummy = jnp.zeros(env.obs_shape)
        params = {"policy": policy.init(policy_key, dummy), "baseline": baseline.init(baseline_key, dummy)}
        obs, env_state = jax.vmap(env.env.reset, in_axes=(0, None))(jax.random.split(env_key, num_envs), env.params)
        return {"params": params, "opt_state": optimizer(hp).init(params), "env_state": env_state, "obs": obs,
                "update": jnp.int32(0),  # updates done; update i draws its randomness from fold_in(train_key, i)
                "train_key": train_key, "eval_key": eval_key}

    def rollout(policy_params, env_state, obs, key):
        def step(carry, key):
            env_state, obs = carry
            act_key, step_key = jax.random.split(key)
            action = jax.random.categorical(act_key, policy.apply(policy_params, obs))
            next_obs, env_state, reward, terminated, truncated, info = env_step(
                jax.random.split(step_key, num_envs), env_state, action, env.params)
            return (env_state, next_obs), Rollout(obs, action, reward, terminated, truncated, info["final_observation"])

        (env_state, obs), batch = jax.lax.scan(step, (env_state, obs), jax.random.split(key, rollout_length))
        return env_state, obs, batch

    def returns_to_go(baseline_params, batch: Rollout, last_obs, gamma):
        cut_value = baseline.apply(baseline_params, batch.final_obs)  # used only where truncated

        def back(future, t):
            reward, terminated, truncated, cut = t
            ret = reward + gamma * jnp.where(terminated, 0.0, jnp.where(truncated, cut, future))
            return ret, ret

        last_value = baseline.apply(baseline_params, last_obs)  # bootstrap at the rollout's end
        steps = (batch.reward, batch.terminated, batch.truncated, cut_value)
        _, returns = jax.lax.scan(back, last_value, steps, reverse=True)
        return jax.lax.stop_gradient(returns)

    def loss(params, batch: Rollout, returns, ent_coef):
        value = baseline.apply(params["baseline"], batch.obs)
        advantage = returns - jax.lax.stop_gradient(value)
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
        log_probs = jax.nn.log_softmax(policy.apply(params["policy"], batch.obs))
        chosen = jnp.take_along_axis(log_probs, batch.action[..., None], axis=-1)[..., 0]
        entropy = -(jnp.exp(log_probs) * log_probs).sum(-1)
        return -(chosen * advantage).mean() - ent_coef * entropy.mean() + 0.5 * ((value - returns) ** 2).mean()

    def advance(state: dict[str, Any], hparams: dict[str, jax.Array], until: jax.Array):
        hp = {k[len(HP):]: v for k, v in hparams.items()}
        tx = optimizer(hp)

        def update(j, carry):  # the lane's update start + j, skipped once the lane reached its milestone
            params, opt_state, env_state, obs = carry
            i = start + j
            env_state, obs, batch = rollout(params["policy"], env_state, obs, jax.random.fold_in(state["train_key"], i))
            returns = returns_to_go(params["baseline"], batch, obs, hp["gamma"])
            updates, new_opt_state = tx.update(jax.grad(loss)(params, batch, returns, hp["ent_coef"]), opt_state, params)
            stepped = (optax.apply_updates(params, updates), new_opt_state, env_state, obs)
            return select(i < done, stepped, carry)

        # Lanes may be at different updates (a lane refilled with a new sample starts at 0), so the
        # loop runs the most updates any lane needs (unbatched) and each lane keeps only its own.
        start = state["update"]
        done = jnp.maximum(start, iterations_until(until, steps_per_update, num_updates))
        carry = (state["params"], state["opt_state"], state["env_state"], state["obs"])
        params, opt_state, env_state, obs = jax.lax.fori_loop(0, max_over_lanes(done - start), update, carry)
        state = {**state, "params": params, "opt_state": opt_state, "env_state": env_state, "obs": obs, "update": done}
        return state, Progress(done * steps_per_update, max_over_lanes(done - start) * steps_per_update)

    def score(state: dict[str, Any]) -> jax.Array:  # the greedy policy's mean return, keys from the state
        greedy = lambda o: jnp.argmax(policy.apply(state["params"]["policy"], o), axis=-1)  # noqa: E731
        key = jax.random.fold_in(state["eval_key"], state["update"] - 1)
        return evaluate(env, greedy, key, training["num_eval_episodes"])

    return Segments(init, advance, score)


ALGORITHM = Algorithm(
    name="reinforce",
    vectorized=VECTORIZED,
    paddable=(),  # no padded integers: samples that differ in num_envs or rollout_length compile apart
    action_spaces=("discrete",),
    check_config=check_config,
    check_env=lambda config, env: None,  # nothing beyond the action space, which action_spaces declares
    padded_extents=lambda configs: {},
    make_segments=make_segments,
    lane_bytes=None,  # None: the executor reports XLA's memory analysis of the compiled step
)
