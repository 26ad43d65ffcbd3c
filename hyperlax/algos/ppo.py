"""PPO: clipped objective, GAE, separate actor and critic MLPs, one pure train function.

`make_train(config, env)` reads the structural values of a nested config and returns
`train(hparams, key) -> TrainOutput`, where `hparams` maps each VECTORIZED field to a float
scalar. jit and vmap wrap `train` unchanged: every float coefficient and learning rate is traced,
so one compiled function serves every lane of a batch. Truncated episodes (time limits) bootstrap
from the critic's value of the final observation; terminated ones do not.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hyperlax.envs import EnvSpec
from hyperlax.nets import ACTIVATIONS, Critic, DiscreteActor, GaussianActor

HP = "algorithm.hyperparam."
# Float scalars traced per lane inside one compiled function.
VECTORIZED = tuple(
    HP + name
    for name in ("actor_lr", "critic_lr", "gamma", "gae_lambda", "clip_eps", "ent_coef", "vf_coef", "max_grad_norm")
)
# Integers that only set array extents; a batch splits on them (like structural values) for now.
PADDABLE = tuple(HP + name for name in ("rollout_length", "num_envs", "update_epochs", "num_minibatches"))


class Transition(NamedTuple):
    obs: jnp.ndarray
    action: jnp.ndarray
    log_prob: jnp.ndarray
    value: jnp.ndarray
    reward: jnp.ndarray
    terminated: jnp.ndarray
    truncated: jnp.ndarray
    final_obs: jnp.ndarray  # the observation the step reached, before any auto-reset


class TrainOutput(NamedTuple):
    params: dict[str, Any]  # {"actor": ..., "critic": ...} after the last update
    returns: jnp.ndarray  # [num_evaluations] mean greedy episodic return at each milestone


def _positive_int(config: dict[str, Any], key: str) -> int:
    value = config["algorithm"]["hyperparam"][key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{HP}{key} must be a positive integer, got {value!r}")
    return int(value)


def _torso(config: dict[str, Any], network: str) -> tuple[tuple[int, ...], str]:
    torso = config["algorithm"]["network"][network]["pre_torso"]
    sizes, activation = torso["layer_sizes"], torso["activation"]
    key = f"algorithm.network.{network}.pre_torso"
    if not isinstance(sizes, (list, tuple)) or not sizes or not all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise ValueError(f"{key}.layer_sizes must be a non-empty list of positive ints, got {sizes!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"{key}.activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    return tuple(sizes), activation


class Shape(NamedTuple):
    """The structural values of one PPO run: everything that changes the compiled program."""

    num_envs: int
    rollout_length: int
    update_epochs: int
    num_minibatches: int
    num_updates: int
    eval_updates: tuple[int, ...]  # update index after which each evaluation runs
    num_eval_episodes: int
    anneal_lr: bool
    actor: tuple[tuple[int, ...], str]
    critic: tuple[tuple[int, ...], str]


def shape_of(config: dict[str, Any]) -> Shape:
    """Check and collect the structural values; errors name the key and the value."""
    num_envs = _positive_int(config, "num_envs")
    rollout_length = _positive_int(config, "rollout_length")
    num_minibatches = _positive_int(config, "num_minibatches")
    steps_per_update = num_envs * rollout_length
    if steps_per_update % num_minibatches:
        raise ValueError(
            f"{HP}num_minibatches={num_minibatches} must divide num_envs * rollout_length "
            f"= {num_envs} * {rollout_length} = {steps_per_update}"
        )
    training = config["training"]
    if "total_timesteps" not in training:
        raise ValueError("training.total_timesteps is not set by the env or algorithm recipe (or --total-timesteps)")
    total = int(training["total_timesteps"])
    num_updates = total // steps_per_update
    if num_updates < 1:
        raise ValueError(
            f"training.total_timesteps={total} is less than one update "
            f"(num_envs * rollout_length = {steps_per_update})"
        )
    num_evaluations = int(training["num_evaluations"])
    if num_evaluations < 1:
        raise ValueError(f"training.num_evaluations must be at least 1, got {num_evaluations}")
    return Shape(
        num_envs=num_envs,
        rollout_length=rollout_length,
        update_epochs=_positive_int(config, "update_epochs"),
        num_minibatches=num_minibatches,
        num_updates=num_updates,
        eval_updates=eval_updates(total, steps_per_update, num_evaluations),
        num_eval_episodes=int(training["num_eval_episodes"]),
        anneal_lr=bool(config["algorithm"]["hyperparam"]["anneal_lr"]),
        actor=_torso(config, "actor_network"),
        critic=_torso(config, "critic_network"),
    )


def milestones(total_timesteps: int, num_evaluations: int) -> list[int]:
    """Evenly spaced env-step milestones, the last one at the budget; the same for every lane."""
    return [round(total_timesteps * (i + 1) / num_evaluations) for i in range(num_evaluations)]


def eval_updates(total_timesteps: int, steps_per_update: int, num_evaluations: int) -> tuple[int, ...]:
    """For each milestone, the first update after which the lane has taken that many env steps."""
    num_updates = total_timesteps // steps_per_update
    return tuple(
        min(num_updates, max(1, -(-m // steps_per_update))) - 1
        for m in milestones(total_timesteps, num_evaluations)
    )


def check_config(config: dict[str, Any]) -> None:
    """Raise ValueError naming the key if a run with this config cannot be built."""
    shape_of(config)
    for key in VECTORIZED:
        value = config["algorithm"]["hyperparam"][key[len(HP):]]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise ValueError(f"{key} must be a finite number, got {value!r}")


def make_networks(shape: Shape, env: EnvSpec):
    actor_cls = DiscreteActor if env.discrete else GaussianActor
    return actor_cls(*shape.actor, env.num_actions), Critic(*shape.critic)


def init_params(config: dict[str, Any], env: EnvSpec, key: jax.Array) -> dict[str, Any]:
    """The initial actor and critic parameters that `train` starts from with the same key."""
    return _init(shape_of(config), env, key)


def _init(shape: Shape, env: EnvSpec, key: jax.Array) -> dict[str, Any]:
    actor, critic = make_networks(shape, env)
    actor_key, critic_key = jax.random.split(jax.random.fold_in(key, 0))
    dummy = jnp.zeros(env.obs_shape)
    return {"actor": actor.init(actor_key, dummy), "critic": critic.init(critic_key, dummy)}


def make_train(config: dict[str, Any], env: EnvSpec) -> Callable[[dict[str, jax.Array], jax.Array], TrainOutput]:
    """The train function for this config's structure; hparams are traced per call."""
    shape = shape_of(config)
    actor, critic = make_networks(shape, env)
    num_steps = shape.num_envs * shape.rollout_length
    minibatch_size = num_steps // shape.num_minibatches
    is_eval = np.zeros(shape.num_updates, dtype=bool)
    is_eval[list(shape.eval_updates)] = True
    is_eval = jnp.asarray(is_eval)

    def policy(actor_params, obs, key):
        if env.discrete:
            logits = actor.apply(actor_params, obs)
            action = jax.random.categorical(key, logits)
            return action, _categorical_log_prob(logits, action), action
        mean, log_std = actor.apply(actor_params, obs)
        action = mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)
        return action, _gaussian_log_prob(mean, log_std, action), jnp.clip(action, env.action_low, env.action_high)

    def greedy(actor_params, obs):
        if env.discrete:
            return jnp.argmax(actor.apply(actor_params, obs), axis=-1)
        mean, _ = actor.apply(actor_params, obs)
        return jnp.clip(mean, env.action_low, env.action_high)

    def env_step(keys, state, action):
        return jax.vmap(env.env.step, in_axes=(0, 0, 0, None))(keys, state, action, env.params)

    def env_reset(keys):
        return jax.vmap(env.env.reset, in_axes=(0, None))(keys, env.params)

    def optimizer(lr, max_grad_norm):
        updates_per_run = shape.num_updates * shape.update_epochs * shape.num_minibatches
        if shape.anneal_lr:
            learning_rate = lambda count: lr * (1.0 - count / updates_per_run)  # noqa: E731
        else:
            learning_rate = lr
        return optax.chain(optax.clip_by_global_norm(max_grad_norm), optax.adam(learning_rate, eps=1e-5))

    def evaluate(actor_params, key):
        reset_key, step_key = jax.random.split(key)
        obs, state = env_reset(jax.random.split(reset_key, shape.num_eval_episodes))

        def step(carry, step_key):
            obs, state, total, alive = carry
            keys = jax.random.split(step_key, shape.num_eval_episodes)
            obs, state, reward, terminated, truncated, _ = env_step(keys, state, greedy(actor_params, obs))
            total = total + reward * alive
            alive = alive * (1.0 - jnp.logical_or(terminated, truncated))
            return (obs, state, total, alive), None

        ones = jnp.ones(shape.num_eval_episodes)
        (_, _, total, _), _ = jax.lax.scan(
            step, (obs, state, 0.0 * ones, ones), jax.random.split(step_key, env.max_steps)
        )
        return total.mean()

    def train(hparams: dict[str, jax.Array], key: jax.Array) -> TrainOutput:
        hp = {k[len(HP):]: v for k, v in hparams.items()}
        params = _init(shape, env, key)
        actor_tx = optimizer(hp["actor_lr"], hp["max_grad_norm"])
        critic_tx = optimizer(hp["critic_lr"], hp["max_grad_norm"])
        env_key, loop_key, eval_key = jax.random.split(jax.random.fold_in(key, 1), 3)
        obs, env_state = env_reset(jax.random.split(env_key, shape.num_envs))

        def rollout_step(carry, step_key):
            params, env_state, obs = carry
            action_key, env_key = jax.random.split(step_key)
            action, log_prob, env_action = policy(params["actor"], obs, action_key)
            value = critic.apply(params["critic"], obs)
            next_obs, env_state, reward, terminated, truncated, info = env_step(
                jax.random.split(env_key, shape.num_envs), env_state, env_action
            )
            transition = Transition(
                obs, action, log_prob, value, reward,
                terminated.astype(jnp.float32), truncated.astype(jnp.float32), info["final_observation"],
            )
            return (params, env_state, next_obs), transition

        def advantages(params, traj: Transition, last_obs):
            # A truncated step is not an end of the task: bootstrap from its final observation.
            final_value = critic.apply(params["critic"], traj.final_obs)
            reward = traj.reward + hp["gamma"] * final_value * traj.truncated * (1.0 - traj.terminated)
            done = jnp.maximum(traj.terminated, traj.truncated)
            next_values = jnp.concatenate([traj.value[1:], critic.apply(params["critic"], last_obs)[None]])

            def gae_step(gae, step):
                reward, value, next_value, done = step
                delta = reward + hp["gamma"] * next_value * (1.0 - done) - value
                gae = delta + hp["gamma"] * hp["gae_lambda"] * (1.0 - done) * gae
                return gae, gae

            _, adv = jax.lax.scan(
                gae_step, jnp.zeros(shape.num_envs), (reward, traj.value, next_values, done), reverse=True
            )
            return adv, adv + traj.value

        def actor_loss(actor_params, batch, adv):
            if env.discrete:
                logits = actor.apply(actor_params, batch.obs)
                log_prob = _categorical_log_prob(logits, batch.action)
                entropy = _categorical_entropy(logits)
            else:
                mean, log_std = actor.apply(actor_params, batch.obs)
                log_prob = _gaussian_log_prob(mean, log_std, batch.action)
                entropy = jnp.sum(log_std + 0.5 * jnp.log(2 * jnp.pi * jnp.e), axis=-1)
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            ratio = jnp.exp(log_prob - batch.log_prob)
            clipped = jnp.clip(ratio, 1.0 - hp["clip_eps"], 1.0 + hp["clip_eps"])
            return -jnp.minimum(ratio * adv, clipped * adv).mean() - hp["ent_coef"] * entropy.mean()

        def critic_loss(critic_params, batch, targets):
            value = critic.apply(critic_params, batch.obs)
            clipped = batch.value + jnp.clip(value - batch.value, -hp["clip_eps"], hp["clip_eps"])
            loss = 0.5 * jnp.maximum((value - targets) ** 2, (clipped - targets) ** 2).mean()
            return hp["vf_coef"] * loss

        def minibatch_step(state, minibatch):
            params, opt_states = state
            batch, adv, targets = minibatch
            actor_grads = jax.grad(actor_loss)(params["actor"], batch, adv)
            critic_grads = jax.grad(critic_loss)(params["critic"], batch, targets)
            actor_updates, actor_opt = actor_tx.update(actor_grads, opt_states[0], params["actor"])
            critic_updates, critic_opt = critic_tx.update(critic_grads, opt_states[1], params["critic"])
            params = {
                "actor": optax.apply_updates(params["actor"], actor_updates),
                "critic": optax.apply_updates(params["critic"], critic_updates),
            }
            return (params, (actor_opt, critic_opt)), None

        def epoch_step(state, epoch_key):
            flat = jax.tree.map(lambda x: x.reshape((num_steps,) + x.shape[2:]), state[2])
            order = jax.random.permutation(epoch_key, num_steps)
            minibatches = jax.tree.map(
                lambda x: x[order].reshape((shape.num_minibatches, minibatch_size) + x.shape[1:]), flat
            )
            learner, _ = jax.lax.scan(minibatch_step, state[:2], minibatches)
            return learner + (state[2],), None

        def update_step(carry, update):
            params, opt_states, env_state, obs, key = carry
            key, rollout_key, epoch_key = jax.random.split(key, 3)
            (params, env_state, last_obs), traj = jax.lax.scan(
                rollout_step, (params, env_state, obs), jax.random.split(rollout_key, shape.rollout_length)
            )
            adv, targets = advantages(params, traj, last_obs)
            data = (traj, adv, targets)
            (params, opt_states, _), _ = jax.lax.scan(
                epoch_step, (params, opt_states, data), jax.random.split(epoch_key, shape.update_epochs)
            )
            score = jax.lax.cond(
                is_eval[update],
                lambda: evaluate(params["actor"], jax.random.fold_in(eval_key, update)),
                lambda: jnp.float32(jnp.nan),
            )
            return (params, opt_states, env_state, last_obs, key), score

        opt_states = (actor_tx.init(params["actor"]), critic_tx.init(params["critic"]))
        carry = (params, opt_states, env_state, obs, loop_key)
        (params, *_), scores = jax.lax.scan(update_step, carry, jnp.arange(shape.num_updates))
        return TrainOutput(params=params, returns=scores[np.asarray(shape.eval_updates)])

    return train


def _categorical_log_prob(logits, action):
    log_probs = jax.nn.log_softmax(logits)
    return jnp.take_along_axis(log_probs, action[..., None], axis=-1)[..., 0]


def _categorical_entropy(logits):
    log_probs = jax.nn.log_softmax(logits)
    return -jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1)


def _gaussian_log_prob(mean, log_std, action):
    z = (action - mean) / jnp.exp(log_std)
    return jnp.sum(-0.5 * z**2 - log_std - 0.5 * jnp.log(2 * jnp.pi), axis=-1)
