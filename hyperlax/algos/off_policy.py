"""What DQN and SAC share: the step-and-learn schedule and a replay buffer per lane.

An off-policy run is a loop of iterations. Each iteration steps `num_envs` envs `rollout_length`
times, writes those transitions into a circular replay buffer, and, once `learning_starts` env
steps are taken, makes `gradient_steps` updates on uniformly sampled batches of `batch_size`.
Lanes count their own iterations (a refilled lane starts again at 0), so the schedule's predicates
may differ between lanes: `when` runs a branch when any lane needs it and keeps its result only
for those lanes, so a branch that no lane needs is skipped for the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hyperlax.algos import common
from hyperlax.algos import checks
from hyperlax.algos.checks import HP
from hyperlax.envs import EnvSpec


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


def schedule_of(config: dict[str, Any]) -> Schedule:
    """Check and collect the schedule's integers and the training budget."""
    num_envs, rollout_length = checks.integer(config, "num_envs"), checks.integer(config, "rollout_length")
    steps_per_iteration = num_envs * rollout_length
    buffer_size = checks.integer(config, "buffer_size")
    if buffer_size < steps_per_iteration:
        raise ValueError(
            f"{HP}buffer_size={buffer_size} must hold one iteration's transitions "
            f"(num_envs * rollout_length = {num_envs} * {rollout_length} = {steps_per_iteration})"
        )
    total, num_evaluations, num_eval_episodes = checks.training(config)
    if total < steps_per_iteration:
        raise ValueError(
            f"training.total_timesteps={total!r} must be an integer of at least one iteration "
            f"(num_envs * rollout_length = {steps_per_iteration})"
        )
    return Schedule(
        num_envs=num_envs,
        rollout_length=rollout_length,
        gradient_steps=checks.integer(config, "gradient_steps"),
        buffer_size=buffer_size,
        batch_size=checks.integer(config, "batch_size"),
        learning_starts=checks.integer(config, "learning_starts", minimum=0),
        num_iterations=total // steps_per_iteration,
        total_timesteps=total,
        num_evaluations=num_evaluations,
        num_eval_episodes=num_eval_episodes,
    )


def learns(schedule: Schedule, iteration: jax.Array) -> jax.Array:
    """Whether the iteration ends with gradient updates: `learning_starts` env steps are taken."""
    return (iteration + 1) * schedule.steps_per_iteration >= schedule.learning_starts


def segment(
    schedule: Schedule, iteration: jax.Array, until: jax.Array, step: Callable[[jax.Array, jax.Array, Any], Any], carry: Any
) -> tuple[Any, jax.Array, jax.Array]:
    """Run `step(iteration, active, carry)` from the lane's `iteration` until it has taken `until` env steps.

    Lanes may start at different iterations (a lane refilled with a new sample starts at 0 while
    the others go on): the loop runs the most iterations any lane needs, and `step` must leave a
    lane whose `active` is false untouched. Returns the carry, the iterations done and the
    env-step slots the loop computed per lane.
    """
    done = jnp.maximum(iteration, common.iterations_until(until, schedule.steps_per_iteration, schedule.num_iterations))
    count = common.max_over_lanes(done - iteration)
    carry = jax.lax.fori_loop(0, count, lambda j, carry: step(iteration + j, iteration + j < done, carry), carry)
    return carry, done, count * schedule.steps_per_iteration


def when(flag: jax.Array, then: Callable[[], Any], otherwise: Any) -> Any:
    """`then()` for the lanes where `flag` holds, `otherwise` for the others; computed only when some lane needs it."""
    return jax.lax.cond(common.any_lane(flag), lambda: common.select(flag, then(), otherwise), lambda: otherwise)


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


def store(
    schedule: Schedule, buffer: Transition, transitions: Transition, iteration: jax.Array, active: jax.Array
) -> Transition:
    """Write the iteration's transitions after the previous ones, overwriting the oldest (an
    inactive lane rewrites what its slots hold)."""
    start = iteration * schedule.steps_per_iteration
    slots = (start + jnp.arange(schedule.steps_per_iteration)) % schedule.buffer_size
    return jax.tree.map(lambda b, x: b.at[slots].set(jnp.where(active, x, b[slots])), buffer, transitions)


def sample(schedule: Schedule, buffer: Transition, iteration: jax.Array, keys: jax.Array) -> Transition:
    """One batch of `batch_size` transitions per key, drawn uniformly (with replacement) from those
    stored so far: leaves [len(keys), batch_size, ...].

    Drawn before the learning branch, whose operands are then the batches, not the whole buffer."""
    stored = jnp.minimum((iteration + 1) * schedule.steps_per_iteration, schedule.buffer_size)
    slots = jax.vmap(lambda key: jax.random.randint(key, (schedule.batch_size,), 0, stored))(keys)
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
