"""DQN: epsilon-greedy exploration, a replay buffer per lane, a target network, optional double Q.

`make_segments(config, env, extents)` reads the structural values of a nested config and returns
`Segments(init, advance, score)` (see `interface`); the learning rate and every float coefficient are traced per
lane, so one compiled function serves a whole batch. The loop is the off-policy schedule of
`off_policy`: step the envs, store, and once `learning_starts` env steps are taken, learn. The
target network moves towards the online one by `tau` (1 is a hard copy) whenever the env steps
cross a multiple of `target_update_interval`. Epsilon falls linearly from `epsilon_start` to
`epsilon_finish` over the first `exploration_fraction` of the budget. Truncated episodes
bootstrap from their final observation; terminated ones do not.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from hyperlax.algos import checks, common, off_policy
from hyperlax.algos.interface import Algorithm, Progress, Segments
from hyperlax.envs import EnvSpec
from hyperlax.nets import ConvTorso, QNetwork, Torso

HP = checks.HP
# Float scalars traced per lane inside one compiled function.
VECTORIZED = tuple(
    HP + name
    for name in ("lr", "gamma", "tau", "epsilon_start", "epsilon_finish", "exploration_fraction", "max_grad_norm")
)
# Integers that may be padded; none yet, so buffer and batch sizes split batches like structure.
PADDABLE = ()
ACTION_SPACES = ("discrete",)
TORSO = "algorithm.network.q_network.pre_torso"


class Shape(NamedTuple):
    """The structural values of one DQN run: everything that changes the compiled program."""

    schedule: off_policy.Schedule
    target_update_interval: int
    double_q: bool
    torso: dict[str, Any]  # the checked pre_torso section


def _torso(config: dict[str, Any]) -> dict[str, Any]:
    torso = checks.section(config, TORSO)
    kind = torso.get("kind", "mlp")
    sizes, activation = checks.mlp_torso(torso, TORSO)
    checked = {"kind": kind, "layer_sizes": sizes, "activation": activation}
    if kind == "mlp":
        return checked
    if kind != "conv":
        raise ValueError(f"{TORSO}.kind {kind!r} is not one of mlp, conv")
    channels, kernel = torso.get("channels"), torso.get("kernel_size")
    if not isinstance(channels, (list, tuple)) or not channels or not all(
        isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in channels
    ):
        raise ValueError(f"{TORSO}.channels must be a non-empty list of positive ints, got {channels!r}")
    if isinstance(kernel, bool) or not isinstance(kernel, int) or kernel < 1:
        raise ValueError(f"{TORSO}.kernel_size must be a positive int, got {kernel!r}")
    return {**checked, "channels": tuple(channels), "kernel_size": kernel}


def shape_of(config: dict[str, Any]) -> Shape:
    """Check and collect the structural values; errors name the key and the value."""
    return Shape(
        schedule=off_policy.schedule_of(config),
        target_update_interval=checks.integer(config, "target_update_interval"),
        double_q=checks.flag(config, "double_q"),
        torso=_torso(config),
    )


def check_config(config: dict[str, Any]) -> None:
    """Raise ValueError naming the key if a run with this config cannot be built."""
    shape_of(config)
    checks.check_finite(config, VECTORIZED)


def padded_extents(configs: list[dict[str, Any]]) -> dict[str, int]:
    """No paddable integers: every lane of a batch has the same extents."""
    return {}


def lane_bytes(config: dict[str, Any], env: EnvSpec, extents: dict[str, int]) -> int:
    """Estimated bytes one lane keeps: parameters with target and Adam state, the replay buffer,
    env states, and a batch through the Q-network three times (online, target, double-Q choice)."""
    shape = shape_of(config)
    network = make_network(shape, env)
    obs = jax.ShapeDtypeStruct((shape.schedule.batch_size,) + env.obs_shape, jnp.float32)
    params = common.tree_bytes(jax.eval_shape(lambda key: _init(network, env, key), common.key_shapes()))
    activations = 3 * off_policy.activation_bytes(network, obs)
    return off_policy.lane_bytes(shape.schedule, env, params, 1, activations)


def make_network(shape: Shape, env: EnvSpec) -> QNetwork:
    """The Q-network over the configured torso; a conv torso needs image (or grid) observations."""
    spec = shape.torso
    if spec["kind"] == "mlp":
        return QNetwork(Torso(spec["layer_sizes"], spec["activation"]), env.num_actions)
    if len(env.frame_shape) not in (2, 3):
        raise ValueError(
            f"{TORSO}.kind 'conv' needs image observations, but the env's have shape {env.frame_shape}"
        )
    torso = ConvTorso(env.frame_shape, spec["channels"], spec["kernel_size"], spec["layer_sizes"], spec["activation"])
    return QNetwork(torso, env.num_actions)


def check_env(config: dict[str, Any], env: EnvSpec) -> None:
    """Raise ValueError when the configured torso does not fit the env's observations."""
    make_network(shape_of(config), env)


def _init(network: QNetwork, env: EnvSpec, key: jax.Array) -> dict[str, Any]:
    return {"q": network.init(jax.random.fold_in(key, 0), jnp.zeros(env.obs_shape))}


def make_segments(config: dict[str, Any], env: EnvSpec, extents: dict[str, int]) -> Segments:
    """The segments of this config's structure; hparams are traced per call."""
    shape = shape_of(config)
    schedule = shape.schedule
    network = make_network(shape, env)

    def greedy(params, obs):
        return jnp.argmax(network.apply(params, obs), axis=-1)

    def optimizer(hp):
        return optax.chain(optax.clip_by_global_norm(hp["max_grad_norm"]), optax.adam(hp["lr"]))

    def init(hparams: dict[str, jax.Array], key: jax.Array) -> dict[str, Any]:
        hp = {k[len(HP):]: v for k, v in hparams.items()}
        params = _init(network, env, key)
        env_key, loop_key, eval_key = jax.random.split(jax.random.fold_in(key, 1), 3)
        obs, env_state = off_policy.reset(env, env_key, schedule.num_envs)
        example = off_policy.Transition(obs[0], jnp.zeros((), jnp.int32), jnp.float32(0), obs[0], jnp.float32(0))
        return {
            "params": params,
            "target_params": params["q"],
            "opt_state": optimizer(hp).init(params["q"]),
            "buffer": off_policy.empty_buffer(schedule, example),
            "env_state": env_state,
            "obs": obs,
            "iteration": jnp.int32(0),  # iterations done
            "loop_key": loop_key,
            "eval_key": eval_key,
        }

    def advance(state: dict[str, Any], hparams: dict[str, jax.Array], until: jax.Array):
        hp = {k[len(HP):]: v for k, v in hparams.items()}
        tx = optimizer(hp)

        def epsilon(env_steps):
            anneal_steps = jnp.maximum(hp["exploration_fraction"] * schedule.total_timesteps, 1.0)
            progress = jnp.minimum(env_steps / anneal_steps, 1.0)
            return hp["epsilon_start"] + progress * (hp["epsilon_finish"] - hp["epsilon_start"])

        def act(params, explore_rate, obs, key):
            explore_key, random_key = jax.random.split(key)
            greedy_action = greedy(params, obs)
            random_action = jax.random.randint(random_key, greedy_action.shape, 0, env.num_actions)
            explore = jax.random.uniform(explore_key, greedy_action.shape) < explore_rate
            action = jnp.where(explore, random_action, greedy_action)
            return action, action

        def loss(params, target_params, batch):
            q = jnp.take_along_axis(network.apply(params, batch.obs), batch.action[:, None], axis=-1)[:, 0]
            next_q = network.apply(target_params, batch.next_obs)
            if shape.double_q:
                next_action = greedy(params, batch.next_obs)
                next_value = jnp.take_along_axis(next_q, next_action[:, None], axis=-1)[:, 0]
            else:
                next_value = next_q.max(axis=-1)
            target = batch.reward + hp["gamma"] * (1.0 - batch.terminated) * jax.lax.stop_gradient(next_value)
            return 0.5 * jnp.mean((q - target) ** 2)

        def learn(params, target_params, opt_state, batches):
            def gradient_step(state, batch):
                params, opt_state = state
                grads = jax.grad(loss)(params, target_params, batch)
                updates, opt_state = tx.update(grads, opt_state, params)
                return (optax.apply_updates(params, updates), opt_state), None

            (params, opt_state), _ = jax.lax.scan(gradient_step, (params, opt_state), batches)
            return params, opt_state

        def iteration_step(iteration, active, carry):
            params, target_params, opt_state, buffer, env_state, obs, key = carry
            next_key, act_key, learn_key = jax.random.split(key, 3)
            explore_rate = epsilon(iteration * schedule.steps_per_iteration)
            stepped = off_policy.collect(
                env, schedule, lambda o, k: act(params, explore_rate, o, k), env_state, obs, act_key
            )
            env_state, obs, key = common.select(active, (*stepped[:2], next_key), (env_state, obs, key))
            buffer = off_policy.store(schedule, buffer, stepped[2], iteration, active)
            batches = off_policy.sample(schedule, buffer, iteration, jax.random.split(learn_key, schedule.gradient_steps))
            params, opt_state = off_policy.when(
                active & off_policy.learns(schedule, iteration),
                lambda: learn(params, target_params, opt_state, batches),
                (params, opt_state),
            )
            target_params = off_policy.when(
                active & off_policy.crosses(schedule, iteration, shape.target_update_interval),
                lambda: optax.incremental_update(params, target_params, hp["tau"]),
                target_params,
            )
            return params, target_params, opt_state, buffer, env_state, obs, key

        names = ("target_params", "opt_state", "buffer", "env_state", "obs", "loop_key")
        (params, *rest), done, slots = off_policy.segment(
            schedule, state["iteration"], until, iteration_step, (state["params"]["q"], *(state[name] for name in names))
        )
        state = {**state, **dict(zip(names, rest)), "params": {"q": params}, "iteration": done}
        return state, Progress(done * schedule.steps_per_iteration, slots)

    def score(state: dict[str, Any]) -> jax.Array:
        return evaluate_policy(state["params"], jax.random.fold_in(state["eval_key"], state["iteration"] - 1))

    def evaluate_policy(params: dict[str, Any], key: jax.Array) -> jax.Array:
        return common.evaluate(env, lambda o: greedy(params["q"], o), key, schedule.num_eval_episodes)

    return Segments(init, advance, score, evaluate_policy)


ALGORITHM = Algorithm(
    name="dqn",
    vectorized=VECTORIZED,
    paddable=PADDABLE,
    action_spaces=ACTION_SPACES,
    check_config=check_config,
    check_env=check_env,
    padded_extents=padded_extents,
    make_segments=make_segments,
    lane_bytes=lane_bytes,
)
