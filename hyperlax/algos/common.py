"""What every algorithm shares: the vmap axis, milestones, lane-wise selection and greedy evaluation.

A lane's init and advance run under `jax.vmap(..., axis_name=LANES)` (the executor's one vmap over
sample x seed lanes). Lanes may differ in traced values, including loop lengths; work that only
some lanes need runs when any lane of the batch needs it (`lax.pmax` over LANES), and its result is
kept only by those lanes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from hyperlax.envs import EnvSpec

LANES = "lanes"


def key_shapes(*leading: int) -> jax.ShapeDtypeStruct:
    """The shape of PRNG keys with these leading axes, to trace over: a concrete PRNGKey(0) would
    compile and run jax's seeding."""
    return jax.ShapeDtypeStruct(leading + (2,), jnp.uint32)


def unroll_threefry_on_cpu() -> None:
    """Lower jax's threefry hash on the CPU as straight-line code, as jax does on accelerators.

    On the CPU jax lowers it as a loop of five steps, to compile faster; inside a training loop
    every draw of random numbers then runs as a loop of tiny kernels, which costs more than the
    hash itself, and in these programs more compile time too. The numbers drawn are the same.
    Nothing changes where jax's private names differ (other jax versions), nor from jax 0.11 on,
    whose LLVM's loop vectorizer takes minutes over the unrolled hash in `score` and `start`."""
    if jax.__version_info__ >= (0, 11):
        return
    try:
        from jax._src.interpreters import mlir
        from jax._src.random import threefry2x32 as threefry

        lowering = partial(threefry._threefry2x32_lowering, use_rolled_loops=False)
        rule = mlir.lower_fun(lowering, multiple_results=True)
        mlir.register_lowering(threefry.threefry2x32_p, rule, platform="cpu", inline=False)
    except (ImportError, AttributeError, TypeError):
        pass


unroll_threefry_on_cpu()


def tree_bytes(tree: Any) -> int:
    """Bytes of a pytree's arrays (or of their shapes, from jax.eval_shape)."""
    return sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(tree))


def env_state_bytes(env: EnvSpec) -> int:
    """Bytes of one env's state."""
    return tree_bytes(jax.eval_shape(lambda key: env.env.reset(key, env.params), key_shapes()))


def milestones(total_timesteps: int, num_evaluations: int) -> list[int]:
    """Evenly spaced env-step milestones, the last one at the budget; the same for every lane."""
    return [round(total_timesteps * (i + 1) / num_evaluations) for i in range(num_evaluations)]


def iterations_until(until: jax.Array, steps_per_iteration, num_iterations) -> jax.Array:
    """The iterations done once a lane has taken `until` env steps: at least one, at most all."""
    return jnp.minimum(num_iterations, jnp.maximum(1, -(-until // steps_per_iteration)))


def any_lane(flag: jax.Array) -> jax.Array:
    """True (unbatched) when `flag` holds for any lane of the batch."""
    return jax.lax.pmax(flag.astype(jnp.int32), LANES) > 0


def max_over_lanes(value: jax.Array) -> jax.Array:
    """The largest `value` over the lanes of the batch (unbatched), e.g. a shared loop length."""
    return jax.lax.pmax(value, LANES)


def evaluate(env: EnvSpec, greedy: Callable[[jax.Array], jax.Array], key: jax.Array, num_episodes: int) -> jax.Array:
    """Mean undiscounted return of `num_episodes` episodes of the greedy policy (obs -> action).

    Steps until every episode of every lane has ended (at most the env's max_steps); an ended
    episode adds nothing, so a lane's return does not depend on the others."""
    reset_key, step_key = jax.random.split(key)
    obs, state = jax.vmap(env.env.reset, in_axes=(0, None))(jax.random.split(reset_key, num_episodes), env.params)
    step = jax.vmap(env.env.step, in_axes=(0, 0, 0, None))
    step_keys = jax.random.split(step_key, env.max_steps)

    def running(carry):
        t, _, _, _, alive = carry
        return (t < env.max_steps) & any_lane(jnp.any(alive > 0))

    def body(carry):
        t, obs, state, total, alive = carry
        keys = jax.random.split(step_keys[t], num_episodes)
        obs, state, reward, terminated, truncated, _ = step(keys, state, greedy(obs), env.params)
        total = total + reward * alive
        alive = alive * (1.0 - jnp.logical_or(terminated, truncated))
        return t + 1, obs, state, total, alive

    ones = jnp.ones(num_episodes)
    _, _, _, total, _ = jax.lax.while_loop(running, body, (jnp.int32(0), obs, state, 0.0 * ones, ones))
    return total.mean()


# The activations of one pass over rows, at most: XLA:CPU splits a kernel whose operands and result
# pass 512 KiB over its threads, and a one-lane program then hands its work from core to core at
# every such kernel (PPO's critic over a CartPole rollout: 8% to 10% of an update on a 2-core VM in
# its slow phases, nothing in its calm ones).
PASS_BYTES = 64 * 1024


def in_passes(apply: Callable[[jax.Array], jax.Array], rows: jax.Array, widest: int) -> jax.Array:
    """`apply` (rows -> rows) over `rows` in passes of at most PASS_BYTES of float32 activations
    `widest` wide."""
    most = max(1, PASS_BYTES // (4 * widest))
    return apply(rows) if rows.shape[0] <= most else jax.lax.map(apply, rows, batch_size=most)


def select(on: jax.Array, new: Any, old: Any) -> Any:
    """`new` where `on`, else `old`, leaf by leaf; `on` broadcasts over leading axes."""
    return jax.tree.map(lambda a, b: jnp.where(on.reshape(on.shape + (1,) * (a.ndim - on.ndim)), a, b), new, old)
