"""What DQN and SAC share: config checks, the step-and-learn schedule and a replay buffer per lane.

An off-policy run is a loop of iterations. Each iteration steps `num_envs` envs `rollout_length`
times, writes those transitions into a circular replay buffer, and, once `learning_starts` env
steps are taken, makes `gradient_steps` updates on uniformly sampled batches of `batch_size`.
Everything here depends only on structural integers and the iteration index, never on a lane, so
under vmap the predicates stay unbatched and a `lax.cond` on them skips work for the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hyperlax.algos import common
from hyperlax.envs import EnvSpec
from hyperlax.nets import ACTIVATIONS

HP = "algorithm.hyperparam."


class Transition(NamedTuple):
    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    next_obs: jax.Array  # the observation the step reached, before any auto-reset
    terminated: jax.Array  # 1.0 where the episode ended by the task (no bootstrap), else 0.0


class Schedule(NamedTuple):
    """The structural integers of an off-policy run: how it steps, stores and learns."""

    num_envs: int
    rollout_length: int
    gradient_steps: int
    buffer_size: int
    batch_size: int
    learning_starts: int
    num_iterations: int
    total_timesteps: int
    num_evaluations: int
    num_eval_episodes: int

    @property
    def steps_per_iteration(self) -> int:
        return self.num_envs * self.rollout_length


def integer(config: dict[str, Any], key: str, minimum: int = 1) -> int:
    """The integer `algorithm.hyperparam.<key>`, at least `minimum`; ValueError names it otherwise."""
    value = config["algorithm"]["hyperparam"][key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{HP}{key} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def flag(config: dict[str, Any], key: str) -> bool:
    """The boolean `algorithm.hyperparam.<key>`; ValueError names it otherwise."""
    value = config["algorithm"]["hyperparam"][key]
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{HP}{key} must be true or false, got {value!r}")  # noqa: TRY004 (check_config raises ValueError)
    return bool(value)


def check_finite(config: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Raise ValueError naming the first of the flat `keys` whose value is not a finite number."""
    for key in keys:
        value = config["algorithm"]["hyperparam"][key[len(HP):]]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value):
            raise ValueError(f"{key} must be a finite number, got {value!r}")


def mlp_torso(torso: dict[str, Any], where: str) -> tuple[tuple[int, ...], str]:
    """Checked (layer_sizes, activation) of a torso section found at the dotted key `where`."""
    sizes, activation = torso.get("layer_sizes"), torso.get("activation")
    if not isinstance(sizes, (list, tuple)) or not sizes or not all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise ValueError(f"{where}.layer_sizes must be a non-empty list of positive ints, got {sizes!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"{where}.activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    return tuple(int(s) for s in sizes), activation


def schedule_of(config: dict[str, Any]) -> Schedule:
    """Check and collect the schedule's integers and the training budget."""
    num_envs, rollout_length = integer(config, "num_envs"), integer(config, "rollout_length")
    steps_per_iteration = num_envs * rollout_length
    buffer_size = integer(config, "buffer_size")
    if buffer_size < steps_per_iteration:
        raise ValueError(
            f"{HP}buffer_size={buffer_size} must hold one iteration's transitions "
            f"(num_envs * rollout_length = {num_envs} * {rollout_length} = {steps_per_iteration})"
        )
    training = config["training"]
    if "total_timesteps" not in training:
        raise ValueError("training.total_timesteps is not set by the env or algorithm recipe (or --total-timesteps)")
    total = training["total_timesteps"]
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)) or total < steps_per_iteration:
        raise ValueError(
            f"training.total_timesteps={total!r} must be an integer of at least one iteration "
            f"(num_envs * rollout_length = {steps_per_iteration})"
        )
    for key in ("num_evaluations", "num_eval_episodes"):
        value = training[key]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"training.{key} must be a positive integer, got {value!r}")
    return Schedule(
        num_envs=num_envs,
        rollout_length=rollout_length,
        gradient_steps=integer(config, "gradient_steps"),
        buffer_size=buffer_size,
        batch_size=integer(config, "batch_size"),
        learning_starts=integer(config, "learning_starts", minimum=0),
        num_iterations=int(total) // steps_per_iteration,
        total_timesteps=int(total),
        num_evaluations=int(training["num_evaluations"]),
        num_eval_episodes=int(training["num_eval_episodes"]),
    )


def learns(schedule: Schedule, iteration: jax.Array) -> jax.Array:
    """Whether the iteration ends with gradient updates: `learning_starts` env steps are taken."""
    return (iteration + 1) * schedule.steps_per_iteration >= schedule.learning_starts


def segment_bounds(schedule: Schedule, iteration: jax.Array, until: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The first and the end iteration of the segment that takes a lane to `until` env steps.

    The lanes of a unit step in lockstep (same schedule, same start), so both bounds are taken
    over the lanes and stay unbatched: the schedule's branches stay real branches under vmap.
    """
    start = common.max_over_lanes(iteration)
    done = common.iterations_until(until, schedule.steps_per_iteration, schedule.num_iterations)
    return start, jnp.maximum(start, done)


def crosses(schedule: Schedule, iteration: jax.Array, interval: int) -> jax.Array:
    """Whether the iteration's env steps cross a multiple of `interval` env steps."""
    steps = schedule.steps_per_iteration
    return (iteration + 1) * steps // interval > iteration * steps // interval


def reset(env: EnvSpec, key: jax.Array, num_envs: int):
    """Observations and states of `num_envs` fresh envs."""
    return jax.vmap(env.env.reset, in_axes=(0, None))(jax.random.split(key, num_envs), env.params)


def collect(
    env: EnvSpec,
    schedule: Schedule,
    act: Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array]],
    env_state: Any,
    obs: jax.Array,
    key: jax.Array,
) -> tuple[Any, jax.Array, Transition]:
    """Step the envs `rollout_length` times with `act(obs, key) -> (action, env_action)`.

    Returns the env states, the observations to continue from and the iteration's transitions,
    flattened to [steps_per_iteration, ...] (step-major).
    """
    env_step = jax.vmap(env.env.step, in_axes=(0, 0, 0, None))

    def step(carry, key):
        env_state, obs = carry
        act_key, step_key = jax.random.split(key)
        action, env_action = act(obs, act_key)
        next_obs, env_state, reward, terminated, _, info = env_step(
            jax.random.split(step_key, schedule.num_envs), env_state, env_action, env.params
        )
        transition = Transition(
            obs, action, reward.astype(jnp.float32), info["final_observation"], terminated.astype(jnp.float32)
        )
        return (env_state, next_obs), transition

    (env_state, obs), transitions = jax.lax.scan(
        step, (env_state, obs), jax.random.split(key, schedule.rollout_length)
    )
    flat = jax.tree.map(lambda x: x.reshape((schedule.steps_per_iteration,) + x.shape[2:]), transitions)
    return env_state, obs, flat


def empty_buffer(schedule: Schedule, example: Transition) -> Transition:
    """A buffer of `buffer_size` zero transitions shaped like one `example` transition."""
    return jax.tree.map(lambda x: jnp.zeros((schedule.buffer_size,) + x.shape, x.dtype), example)


def store(schedule: Schedule, buffer: Transition, transitions: Transition, iteration: jax.Array) -> Transition:
    """Write the iteration's transitions after the previous ones, overwriting the oldest."""
    start = iteration * schedule.steps_per_iteration
    slots = (start + jnp.arange(schedule.steps_per_iteration)) % schedule.buffer_size
    return jax.tree.map(lambda b, x: b.at[slots].set(x), buffer, transitions)


def sample(schedule: Schedule, buffer: Transition, iteration: jax.Array, key: jax.Array) -> Transition:
    """`batch_size` transitions drawn uniformly (with replacement) from those stored so far."""
    stored = jnp.minimum((iteration + 1) * schedule.steps_per_iteration, schedule.buffer_size)
    slots = jax.random.randint(key, (schedule.batch_size,), 0, stored)
    return jax.tree.map(lambda b: b[slots], buffer)


def activation_bytes(module: Any, *inputs: jax.ShapeDtypeStruct) -> int:
    """Bytes of every intermediate output of `module` applied to `inputs` (from shapes; nothing runs)."""

    def intermediates(*inputs):
        params = module.init(jax.random.PRNGKey(0), *inputs)
        return module.apply(params, *inputs, capture_intermediates=True, mutable=["intermediates"])[1]

    return common.tree_bytes(jax.eval_shape(intermediates, *inputs))


def lane_bytes(schedule: Schedule, env: EnvSpec, params: int, action_size: int, activations: int) -> int:
    """Estimated bytes one lane keeps while training.

    `params` bytes of parameters six times over (targets, two Adam moments, gradients, updates),
    the replay buffer, the env states, and `activations` bytes of one batch's forward passes twice
    (forward and backward).
    """
    transition = 4 * (2 * int(np.prod(env.obs_shape)) + action_size + 2)
    return 6 * params + schedule.buffer_size * transition + schedule.num_envs * common.env_state_bytes(env) + 2 * activations
