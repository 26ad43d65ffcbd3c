"""SAC: a tanh-squashed Gaussian actor, twin critics with a Polyak target, optional alpha tuning.

`make_segments(config, env, extents)` reads the structural values of a nested config and returns
`Segments(init, advance, score)` (see `interface`); the learning rates and every float coefficient are traced
per lane, so one compiled function serves a whole batch. The loop is the off-policy schedule of
`off_policy`: step the envs (uniformly random actions until `learning_starts` env steps are
taken, then the actor's samples), store, and learn. Each gradient step updates the critics, then
the actor, then (with `autotune_alpha`) the entropy temperature towards an entropy of
`-target_entropy_scale * action_dim`, and moves the target critics by `tau`. Without tuning,
`alpha` is the fixed temperature; with it, `alpha` is the initial one. Actions live in [-1, 1]
and are scaled to the env's bounds. Truncated episodes bootstrap; terminated ones do not.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from hyperlax.algos import checks, common, off_policy
from hyperlax.algos.interface import Algorithm, Progress, Segments
from hyperlax.envs import EnvSpec
from hyperlax.nets import SquashedGaussianActor, TwinCritic

HP = checks.HP
# Float scalars traced per lane inside one compiled function.
VECTORIZED = tuple(
    HP + name
    for name in ("actor_lr", "critic_lr", "alpha_lr", "gamma", "tau", "alpha", "target_entropy_scale")
)
# Integers that may be padded; none yet, so buffer and batch sizes split batches like structure.
PADDABLE = ()
ACTION_SPACES = ("continuous",)


class Shape(NamedTuple):
    """The structural values of one SAC run: everything that changes the compiled program."""

    schedule: off_policy.Schedule
    autotune_alpha: bool
    actor: tuple[tuple[int, ...], str]
    critic: tuple[tuple[int, ...], str]


def shape_of(config: dict[str, Any]) -> Shape:
    """Check and collect the structural values; errors name the key and the value."""
    actor, critic = "algorithm.network.actor_network.pre_torso", "algorithm.network.critic_network.pre_torso"
    return Shape(
        schedule=off_policy.schedule_of(config),
        autotune_alpha=checks.flag(config, "autotune_alpha"),
        actor=checks.mlp_torso(checks.section(config, actor), actor),
        critic=checks.mlp_torso(checks.section(config, critic), critic),
    )


def check_config(config: dict[str, Any]) -> None:
    """Raise ValueError naming the key if a run with this config cannot be built."""
    shape_of(config)
    checks.check_finite(config, VECTORIZED)
    alpha = checks.hyperparam(config, "alpha")
    if alpha <= 0:
        raise ValueError(f"{HP}alpha must be positive, got {alpha!r}")


def padded_extents(configs: list[dict[str, Any]]) -> dict[str, int]:
    """No paddable integers: every lane of a batch has the same extents."""
    return {}


def lane_bytes(config: dict[str, Any], env: EnvSpec, extents: dict[str, int]) -> int:
    """Estimated bytes one lane keeps: parameters with target critics and Adam state, the replay
    buffer, env states, and a batch through the actor twice and the twin critics three times."""
    shape = shape_of(config)
    actor, critic = make_networks(shape, env)
    obs = jax.ShapeDtypeStruct((shape.schedule.batch_size,) + env.obs_shape, jnp.float32)
    action = jax.ShapeDtypeStruct((shape.schedule.batch_size, env.num_actions), jnp.float32)
    params = common.tree_bytes(
        jax.eval_shape(lambda key: _init(shape, env, key, jnp.float32(1.0)), common.key_shapes())
    )
    activations = 2 * off_policy.activation_bytes(actor, obs) + 3 * off_policy.activation_bytes(critic, obs, action)
    return off_policy.lane_bytes(shape.schedule, env, params, env.num_actions, activations)


def make_networks(shape: Shape, env: EnvSpec) -> tuple[SquashedGaussianActor, TwinCritic]:
    return SquashedGaussianActor(*shape.actor, env.num_actions), TwinCritic(*shape.critic)


def check_env(config: dict[str, Any], env: EnvSpec) -> None:
    """SAC's MLPs take any env with continuous actions (checked with the recipe)."""


def _init(shape: Shape, env: EnvSpec, key: jax.Array, alpha: jax.Array) -> dict[str, Any]:
    actor, critic = make_networks(shape, env)
    actor_key, critic_key = jax.random.split(jax.random.fold_in(key, 0))
    obs, action = jnp.zeros(env.obs_shape), jnp.zeros(env.num_actions)
    params = {"actor": actor.init(actor_key, obs), "critic": critic.init(critic_key, obs, action)}
    if shape.autotune_alpha:
        params["log_alpha"] = jnp.log(alpha)
    return params


def make_segments(config: dict[str, Any], env: EnvSpec, extents: dict[str, int]) -> Segments:
    """The segments of this config's structure; hparams are traced per call."""
    shape = shape_of(config)
    schedule = shape.schedule
    actor, critic = make_networks(shape, env)

    def to_env(action):
        return env.action_low + 0.5 * (action + 1.0) * (env.action_high - env.action_low)

    def sample_action(actor_params, obs, key):
        """A squashed sample in [-1, 1] and its log-probability."""
        mean, log_std = actor.apply(actor_params, obs)
        pre_tanh = mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)
        gaussian = -0.5 * ((pre_tanh - mean) / jnp.exp(log_std)) ** 2 - log_std - 0.5 * jnp.log(2 * jnp.pi)
        # log(1 - tanh(u)^2), written stably.
        squash = 2.0 * (jnp.log(2.0) - pre_tanh - jax.nn.softplus(-2.0 * pre_tanh))
        return jnp.tanh(pre_tanh), jnp.sum(gaussian - squash, axis=-1)

    def greedy(actor_params, obs):
        return to_env(jnp.tanh(actor.apply(actor_params, obs)[0]))

    def optimizers(hp) -> dict[str, optax.GradientTransformation]:
        txs = {"actor": optax.adam(hp["actor_lr"]), "critic": optax.adam(hp["critic_lr"])}
        if shape.autotune_alpha:
            txs["log_alpha"] = optax.adam(hp["alpha_lr"])
        return txs

    def init(hparams: dict[str, jax.Array], key: jax.Array) -> dict[str, Any]:
        hp = {k[len(HP):]: v for k, v in hparams.items()}
        params = _init(shape, env, key, hp["alpha"])
        env_key, loop_key, eval_key = jax.random.split(jax.random.fold_in(key, 1), 3)
        obs, env_state = off_policy.reset(env, env_key, schedule.num_envs)
        example = off_policy.Transition(obs[0], jnp.zeros(env.num_actions), jnp.float32(0), obs[0], jnp.float32(0))
        return {
            "params": params,
            "target_critic": params["critic"],
            "opt_state": {name: tx.init(params[name]) for name, tx in optimizers(hp).items()},
            "buffer": off_policy.empty_buffer(schedule, example),
            "env_state": env_state,
            "obs": obs,
            "iteration": jnp.int32(0),  # iterations done
            "loop_key": loop_key,
            "eval_key": eval_key,
        }

    def advance(state: dict[str, Any], hparams: dict[str, jax.Array], until: jax.Array):
        hp = {k[len(HP):]: v for k, v in hparams.items()}
        txs = optimizers(hp)
        target_entropy = -hp["target_entropy_scale"] * env.num_actions

        def alpha_of(params):
            return jnp.exp(params["log_alpha"]) if shape.autotune_alpha else hp["alpha"]

        def act(actor_params, explore, obs, key):
            sample_key, random_key = jax.random.split(key)
            action, _ = sample_action(actor_params, obs, sample_key)
            random_action = jax.random.uniform(random_key, action.shape, minval=-1.0, maxval=1.0)
            action = jnp.where(explore, random_action, action)
            return action, to_env(action)

        def critic_loss(critic_params, params, target_critic, batch, key):
            next_action, next_log_prob = sample_action(params["actor"], batch.next_obs, key)
            next_q = critic.apply(target_critic, batch.next_obs, next_action).min(axis=0)
            next_value = next_q - alpha_of(params) * next_log_prob
            target = batch.reward + hp["gamma"] * (1.0 - batch.terminated) * next_value
            q = critic.apply(critic_params, batch.obs, batch.action)
            return ((q - jax.lax.stop_gradient(target)) ** 2).mean(axis=1).sum()

        def actor_loss(actor_params, params, obs, key):
            action, log_prob = sample_action(actor_params, obs, key)
            q = critic.apply(params["critic"], obs, action).min(axis=0)
            return (alpha_of(params) * log_prob - q).mean(), log_prob

        def alpha_loss(log_alpha, log_prob):
            return -(log_alpha * jax.lax.stop_gradient(log_prob + target_entropy)).mean()

        def update(params, opt_states, name, grads):
            updates, opt_state = txs[name].update(grads, opt_states[name], params[name])
            return {**params, name: optax.apply_updates(params[name], updates)}, {**opt_states, name: opt_state}

        def gradient_step(learner, batch_and_keys):
            params, target_critic, opt_states = learner
            batch, critic_key, actor_key = batch_and_keys
            grads = jax.grad(critic_loss)(params["critic"], params, target_critic, batch, critic_key)
            params, opt_states = update(params, opt_states, "critic", grads)
            grads, log_prob = jax.grad(actor_loss, has_aux=True)(params["actor"], params, batch.obs, actor_key)
            params, opt_states = update(params, opt_states, "actor", grads)
            if shape.autotune_alpha:
                params, opt_states = update(
                    params, opt_states, "log_alpha", jax.grad(alpha_loss)(params["log_alpha"], log_prob)
                )
            target_critic = optax.incremental_update(params["critic"], target_critic, hp["tau"])
            return (params, target_critic, opt_states), None

        def draw(buffer, iteration, key):
            """Each gradient step's batch and its critic and actor keys."""
            keys = jax.vmap(lambda k: jax.random.split(k, 3))(jax.random.split(key, schedule.gradient_steps))
            return off_policy.sample(schedule, buffer, iteration, keys[:, 0]), keys[:, 1], keys[:, 2]

        def learn(params, target_critic, opt_states, drawn):
            return jax.lax.scan(gradient_step, (params, target_critic, opt_states), drawn)[0]

        def iteration_step(iteration, active, carry):
            params, target_critic, opt_states, buffer, env_state, obs, key = carry
            next_key, act_key, learn_key = jax.random.split(key, 3)
            explore = iteration * schedule.steps_per_iteration < schedule.learning_starts
            stepped = off_policy.collect(
                env, schedule, lambda o, k: act(params["actor"], explore, o, k), env_state, obs, act_key
            )
            env_state, obs, key = common.select(active, (*stepped[:2], next_key), (env_state, obs, key))
            buffer = off_policy.store(schedule, buffer, stepped[2], iteration, active)
            drawn = draw(buffer, iteration, learn_key)
            params, target_critic, opt_states = off_policy.when(
                active & off_policy.learns(schedule, iteration),
                lambda: learn(params, target_critic, opt_states, drawn),
                (params, target_critic, opt_states),
            )
            return params, target_critic, opt_states, buffer, env_state, obs, key

        names = ("params", "target_critic", "opt_state", "buffer", "env_state", "obs", "loop_key")
        carry, done, slots = off_policy.segment(
            schedule, state["iteration"], until, iteration_step, tuple(state[name] for name in names)
        )
        state = {**state, **dict(zip(names, carry)), "iteration": done}
        return state, Progress(done * schedule.steps_per_iteration, slots)

    def score(state: dict[str, Any]) -> jax.Array:
        return evaluate_policy(state["params"], jax.random.fold_in(state["eval_key"], state["iteration"] - 1))

    def evaluate_policy(params: dict[str, Any], key: jax.Array) -> jax.Array:
        return common.evaluate(env, lambda o: greedy(params["actor"], o), key, schedule.num_eval_episodes)

    return Segments(init, advance, score, evaluate_policy)


ALGORITHM = Algorithm(
    name="sac",
    vectorized=VECTORIZED,
    paddable=PADDABLE,
    action_spaces=ACTION_SPACES,
    check_config=check_config,
    check_env=check_env,
    padded_extents=padded_extents,
    make_segments=make_segments,
    lane_bytes=lane_bytes,
)
