"""PPO: clipped objective, GAE, separate actor and critic MLPs, trained in segments.

`make_segments(config, env, extents)` reads the structural values of a nested config and returns
`Segments(init, advance, score)` (see `interface`). `hparams` maps each VECTORIZED key to a float scalar
and each PADDABLE key to an int scalar, all traced, so one compiled function (run under
`vmap(axis_name=LANES)`) serves every lane of a batch. A segment runs the lane's updates until it
has taken the milestone's env steps (each lane counts its own updates); `score` then evaluates it.

Lanes that share every paddable value (`extents["masked"]` false: no lane is padded) run plain
loops of static lengths over arrays of their sizes, with no padding masks; only a lane that is not
training in an update (it reached its milestone) keeps its env and learner states.

Padding (`extents["masked"]` true): arrays take the sizes in `extents` (the largest of the lanes
sharing the function), and each lane is masked to do exactly what its solo run does.
- Envs beyond its num_envs and steps beyond its rollout_length neither advance nor give data.
- Epochs, minibatches and updates beyond its own are skipped: parameters, optimizer state and
  step counts are kept, never stepped with a zero gradient.
- Its minibatches hold the data of its solo run's minibatches (the shuffle ranks its transitions
  by random bits of their unpadded index), and losses average over that data only.
- Loop lengths (rollout steps, epochs, minibatches, and the chunks of `chunk_size` transitions a
  minibatch's gradient is summed over) are the largest among the lanes still training, so a lane
  that reached its budget, or a small minibatch, costs no extra iterations.
Truncated episodes (time limits) bootstrap from the critic's value of the final observation;
terminated ones do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hyperlax.algos import checks
from hyperlax.algos.common import (
    any_lane, env_state_bytes, evaluate, in_passes, iterations_until, key_shapes, max_over_lanes, select, tree_bytes,
)
from hyperlax.algos.interface import Algorithm, Progress, Segments
from hyperlax.envs import EnvSpec
from hyperlax.nets import Critic, DiscreteActor, GaussianActor

HP = checks.HP
# Float scalars traced per lane inside one compiled function.
VECTORIZED = tuple(
    HP + name
    for name in ("actor_lr", "critic_lr", "gamma", "gae_lambda", "clip_eps", "ent_coef", "vf_coef", "max_grad_norm")
)
# Integers that only set array extents and loop lengths: lanes may differ in them (padded and masked).
PADDABLE = tuple(HP + name for name in ("num_envs", "rollout_length", "update_epochs", "num_minibatches"))
ACTION_SPACES = ("discrete", "continuous")


class Transition(NamedTuple):
    obs: jnp.ndarray
    action: jnp.ndarray
    log_prob: jnp.ndarray
    value: jnp.ndarray | None  # None during the rollout; then the critic over all of it, after it
    reward: jnp.ndarray
    terminated: jnp.ndarray
    truncated: jnp.ndarray
    final_obs: jnp.ndarray  # the observation the step reached, before any auto-reset


class Shape(NamedTuple):
    """The structural values of one PPO run: everything but floats and paddable sizes."""

    total_timesteps: int
    num_evaluations: int
    num_eval_episodes: int
    anneal_lr: bool
    actor: tuple[tuple[int, ...], str]
    critic: tuple[tuple[int, ...], str]


class Lane(NamedTuple):
    """A lane's paddable values (traced int32 scalars inside train)."""

    num_envs: Any
    rollout_length: Any
    update_epochs: Any
    num_minibatches: Any


def lane_sizes(config: dict[str, Any]) -> Lane:
    """Check and collect the paddable values; errors name the key and the value."""
    lane = Lane(*(checks.integer(config, name) for name in Lane._fields))
    steps_per_update = lane.num_envs * lane.rollout_length
    if steps_per_update % lane.num_minibatches:
        raise ValueError(
            f"{HP}num_minibatches={lane.num_minibatches} must divide num_envs * rollout_length "
            f"= {lane.num_envs} * {lane.rollout_length} = {steps_per_update}"
        )
    total = checks.training(config).total_timesteps
    if total // steps_per_update < 1:
        raise ValueError(
            f"training.total_timesteps={total} is less than one update "
            f"(num_envs * rollout_length = {steps_per_update})"
        )
    return lane


def shape_of(config: dict[str, Any]) -> Shape:
    """Check and collect the structural values; errors name the key and the value."""
    actor, critic = "algorithm.network.actor_network.pre_torso", "algorithm.network.critic_network.pre_torso"
    return Shape(
        *checks.training(config),
        anneal_lr=checks.flag(config, "anneal_lr"),
        actor=checks.mlp_torso(checks.section(config, actor), actor),
        critic=checks.mlp_torso(checks.section(config, critic), critic),
    )


def padded_extents(configs: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Array sizes that hold the run of every given config: each paddable maximum, the largest
    minibatch, the smallest one as the chunk that gradients are summed over, and `masked`:
    whether the configs differ in any paddable value (then lanes are padded and masked)."""
    lanes = [lane_sizes(config) for config in configs]
    extents = {name: max(getattr(lane, name) for lane in lanes) for name in Lane._fields}
    minibatches = [lane.num_envs * lane.rollout_length // lane.num_minibatches for lane in lanes]
    masked = len(set(lanes)) > 1
    return {**extents, "minibatch_size": max(minibatches), "chunk_size": min(minibatches), "masked": masked}


def unit_cost(configs: Sequence[dict[str, Any]], extents: dict[str, int]) -> tuple[float, float]:
    """Loop iterations and work (env steps and sampled gradients, over its lanes) of a unit of
    `configs` at `extents`. Each update runs a rollout as long as the longest among the lanes still
    training and their most epochs x minibatches x chunks of chunk_size gradients, every lane
    computing at num_envs; a lane trains until it has done its own updates."""
    total = checks.training(configs[0]).total_timesteps
    needs = sorted((total // (lane.num_envs * lane.rollout_length), lane) for lane in map(lane_sizes, configs))
    chunk = extents["chunk_size"]
    iterations = work = rollout = epochs = minibatches = chunks = 0
    for k in reversed(range(len(needs))):  # the lanes from needs[k] on train from the update before it to its own
        updates, lane = needs[k]
        rollout, epochs = max(rollout, lane.rollout_length), max(epochs, lane.update_epochs)
        minibatches = max(minibatches, lane.num_minibatches)
        chunks = max(chunks, -(-(lane.num_envs * lane.rollout_length // lane.num_minibatches) // chunk))
        span = updates - (needs[k - 1][0] if k else 0)
        iterations += span * (rollout + epochs * minibatches * chunks)
        work += span * len(configs) * (rollout * extents["num_envs"] + epochs * minibatches * chunks * chunk)
    return float(iterations), float(work)


def lane_bytes(config: dict[str, Any], env: EnvSpec, extents: dict[str, int]) -> int:
    """Estimated bytes one lane keeps: parameters with Adam state and gradients, env states, the
    rollout buffer and its flat copy, and one chunk's activations."""
    shape = shape_of(config)
    params = tree_bytes(jax.eval_shape(lambda key: _init(shape, env, key), key_shapes()))
    obs = 4 * int(np.prod(env.obs_shape))
    action = 4 * (1 if env.discrete else env.num_actions)
    transition = 2 * obs + action + 4 * 8  # Transition fields, advantage and target
    steps = extents["num_envs"] * extents["rollout_length"]
    widths = sum(shape.actor[0]) + sum(shape.critic[0])
    activations = 3 * 4 * extents["chunk_size"] * widths  # forward and backward passes
    return 5 * params + extents["num_envs"] * env_state_bytes(env) + 2 * steps * transition + activations


def check_config(config: dict[str, Any]) -> None:
    """Raise ValueError naming the key if a run with this config cannot be built."""
    shape_of(config)
    lane_sizes(config)
    checks.check_finite(config, VECTORIZED)


def check_env(config: dict[str, Any], env: EnvSpec) -> None:
    """PPO's MLPs take any env whose action space fits (checked with the recipe)."""


def make_networks(shape: Shape, env: EnvSpec):
    actor_cls = DiscreteActor if env.discrete else GaussianActor
    return actor_cls(*shape.actor, env.num_actions), Critic(*shape.critic)


def _init(shape: Shape, env: EnvSpec, key: jax.Array) -> dict[str, Any]:
    actor, critic = make_networks(shape, env)
    actor_key, critic_key = jax.random.split(jax.random.fold_in(key, 0))
    dummy = jnp.zeros(env.obs_shape)
    return {"actor": actor.init(actor_key, dummy), "critic": critic.init(critic_key, dummy)}


def _masked_mean(x: jax.Array, mask: jax.Array | None) -> jax.Array:
    """The mean of `x` where `mask` holds (everywhere when None)."""
    return jnp.mean(x) if mask is None else jnp.sum(jnp.where(mask, x, 0.0)) / jnp.sum(mask)


def _masked_sum(x: jax.Array, mask: jax.Array | None) -> jax.Array:
    """The sum of `x` where `mask` holds (everywhere when None)."""
    return jnp.sum(x if mask is None else jnp.where(mask, x, 0.0))


def make_segments(config: dict[str, Any], env: EnvSpec, extents: dict[str, int]) -> Segments:
    """The segments of this config's structure, with arrays of the sizes in `extents` (masked
    when `extents["masked"]`)."""
    shape = shape_of(config)
    masked = extents["masked"]
    actor, critic = make_networks(shape, env)
    num_envs, rollout_length = extents["num_envs"], extents["rollout_length"]
    minibatch_size, chunk_size = extents["minibatch_size"], extents["chunk_size"]
    env_index = np.arange(num_envs, dtype=np.int32)  # numpy: jnp.arange here would compile a program

    def per_env(key):
        return jax.vmap(jax.random.fold_in, in_axes=(None, 0))(key, env_index)

    def policy(actor_params, obs, key):
        if env.discrete:
            logits = actor.apply(actor_params, obs)
            action = jax.random.categorical(key, logits)
            return action, _categorical_log_prob(logits, action), action
        mean, log_std = actor.apply(actor_params, obs)
        action = mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)
        return action, _gaussian_log_prob(mean, log_std, action), jnp.clip(action, env.action_low, env.action_high)

    def greedy(actor_params):
        def act(obs):
            if env.discrete:
                return jnp.argmax(actor.apply(actor_params, obs), axis=-1)
            mean, _ = actor.apply(actor_params, obs)
            return jnp.clip(mean, env.action_low, env.action_high)

        return act

    def loop_count(active, count):
        """A loop's trip count: masked, the most `count` among the lanes where `active` holds; else `count`."""
        return max_over_lanes(jnp.where(active, count, 0)) if masked else count

    def env_step(keys, state, action):
        return jax.vmap(env.env.step, in_axes=(0, 0, 0, None))(keys, state, action, env.params)

    def optimizer(lr, max_grad_norm, updates_per_run):
        if shape.anneal_lr:
            learning_rate = lambda count: lr * (1.0 - count / updates_per_run)
        else:
            learning_rate = lr
        # On one flat vector: a few large operations instead of a few per parameter array.
        return optax.flatten(optax.chain(optax.clip_by_global_norm(max_grad_norm), optax.adam(learning_rate, eps=1e-5)))

    def init(hparams: dict[str, jax.Array], key: jax.Array) -> dict[str, Any]:
        params = _init(shape, env, key)
        tx = optimizer(jnp.float32(0), jnp.float32(0), 1)  # Adam's state does not depend on its values
        env_key, loop_key, eval_key = jax.random.split(jax.random.fold_in(key, 1), 3)
        obs, env_state = jax.vmap(env.env.reset, in_axes=(0, None))(per_env(env_key), env.params)
        return {
            "params": params,
            "opt_state": (tx.init(params["actor"]), tx.init(params["critic"])),
            "env_state": env_state,
            "obs": obs,
            "update": jnp.int32(0),  # updates done
            "loop_key": loop_key,
            "eval_key": eval_key,
        }

    def advance(state: dict[str, Any], hparams: dict[str, jax.Array], until: jax.Array):
        hp = {k[len(HP):]: v for k, v in hparams.items()}
        # Unmasked, every lane's paddable values are the extents: static sizes.
        lane = Lane(*(hp[name] if masked else extents[name] for name in Lane._fields))
        steps_per_update = lane.num_envs * lane.rollout_length
        num_updates = shape.total_timesteps // steps_per_update
        lane_minibatch = steps_per_update // lane.num_minibatches
        updates_per_run = num_updates * lane.update_epochs * lane.num_minibatches
        target = iterations_until(until, steps_per_update, num_updates)
        start = state["update"]
        actor_tx = optimizer(hp["actor_lr"], hp["max_grad_norm"], updates_per_run)
        critic_tx = optimizer(hp["critic_lr"], hp["max_grad_norm"], updates_per_run)
        loop_key = state["loop_key"]

        def step_keys(rollout_key):
            """The keys of every step's actions and env steps, per env: two [rollout_length, num_envs] arrays."""

            def at(t):
                action_key, env_key = jax.random.split(jax.random.fold_in(rollout_key, t))
                return per_env(action_key), per_env(env_key)

            return jax.vmap(at)(jnp.arange(rollout_length))

        def act(params, env_state, obs, keys):
            action_keys, env_keys = keys
            action, log_prob, env_action = jax.vmap(policy, in_axes=(None, 0, 0))(params["actor"], obs, action_keys)
            next_obs, env_state, reward, terminated, truncated, info = env_step(env_keys, env_state, env_action)
            transition = Transition(
                obs=obs, action=action, log_prob=log_prob, value=None, reward=reward,
                terminated=terminated.astype(jnp.float32), truncated=truncated.astype(jnp.float32),
                final_obs=info["final_observation"],
            )
            return env_state, next_obs, transition

        def rollout(params, env_state, obs, rollout_key, training):
            """The lane's rollout_length steps of its num_envs envs: the env states and observations
            reached, the [rollout_length, num_envs] trajectory, and the steps computed per env."""
            keys = step_keys(rollout_key)

            def step(carry, t_and_keys):
                env_state, obs = carry
                t, keys = t_and_keys
                next_state, next_obs, transition = act(params, env_state, obs, keys)
                advance = (env_index < lane.num_envs) & training & (t < lane.rollout_length) if masked else training
                return select(advance, (next_state, next_obs), (env_state, obs)), transition

            if not masked:
                (env_state, obs), traj = jax.lax.scan(step, (env_state, obs), (jnp.arange(rollout_length), keys))
                return env_state, obs, traj, rollout_length

            # Masked: as many steps as the longest rollout among the lanes still training, into a buffer.
            def write(t, carry):
                reached, buffer = carry
                reached, transition = step(reached, (t, jax.tree.map(lambda k: k[t], keys)))
                return reached, jax.tree.map(lambda b, x: jax.lax.dynamic_update_index_in_dim(b, x, t, 0), buffer, transition)

            spec = jax.eval_shape(act, params, env_state, obs, jax.tree.map(lambda k: k[0], keys))[2]
            buffer = jax.tree.map(lambda x: jnp.zeros((rollout_length,) + x.shape, x.dtype), spec)
            length = max_over_lanes(jnp.where(training, lane.rollout_length, 0))
            (env_state, obs), traj = jax.lax.fori_loop(0, length, write, ((env_state, obs), buffer))
            return env_state, obs, traj, length

        def advantages(params, traj: Transition, last_obs):
            """The trajectory with its values, and its advantages and value targets (GAE)."""
            size = rollout_length * num_envs
            flat = lambda x: x.reshape((size,) + x.shape[2:])  # noqa: E731
            # The critic over the observations, the final ones and the last one, in passes.
            rows = jnp.concatenate([flat(traj.obs), flat(traj.final_obs), last_obs])
            values = in_passes(partial(critic.apply, params["critic"]), rows, max(shape.critic[0], default=1))
            traj = traj._replace(value=values[:size].reshape(rollout_length, num_envs))
            final_value, last_value = values[size : 2 * size].reshape(rollout_length, num_envs), values[2 * size :]
            # A truncated step is not an end of the task: bootstrap from its final observation.
            reward = traj.reward + hp["gamma"] * final_value * traj.truncated * (1.0 - traj.terminated)
            done = jnp.maximum(traj.terminated, traj.truncated)
            t = jnp.arange(rollout_length)
            last = (t + 1 >= lane.rollout_length)[:, None]
            next_values = jnp.where(last, last_value, jnp.roll(traj.value, -1, axis=0))

            def gae_step(gae, step):
                reward, value, next_value, done, live = step
                delta = reward + hp["gamma"] * next_value * (1.0 - done) - value
                gae = jnp.where(live, delta + hp["gamma"] * hp["gae_lambda"] * (1.0 - done) * gae, 0.0)
                return gae, gae

            steps = (reward, traj.value, next_values, done, t < lane.rollout_length)
            # Eight steps per loop iteration: a step is a few tiny kernels, cheaper fused than looped.
            _, adv = jax.lax.scan(gae_step, jnp.zeros(num_envs), steps, reverse=True, unroll=8)
            return traj, adv, adv + traj.value

        def shuffle(key):
            """Flat [rollout_length * num_envs] positions, the lane's own transitions first, ranked by
            random bits of their unpadded index (ties by position): the order its solo run draws."""
            t, e = np.divmod(np.arange(rollout_length * num_envs), num_envs)
            rank = jax.vmap(lambda i: jax.random.bits(jax.random.fold_in(key, i)))(t * lane.num_envs + e)
            return ranked_order(rank, (t < lane.rollout_length) & (e < lane.num_envs) if masked else None)

        def actor_loss(actor_params, batch, adv, weight):
            """This chunk's share of the minibatch's actor loss (its terms over the lane's minibatch size)."""
            if env.discrete:
                logits = actor.apply(actor_params, batch.obs)
                log_prob = _categorical_log_prob(logits, batch.action)
                entropy = _categorical_entropy(logits)
            else:
                mean, log_std = actor.apply(actor_params, batch.obs)
                log_prob = _gaussian_log_prob(mean, log_std, batch.action)
                entropy = jnp.sum(log_std + 0.5 * jnp.log(2 * jnp.pi * jnp.e), axis=-1)
            ratio = jnp.exp(log_prob - batch.log_prob)
            clipped = jnp.clip(ratio, 1.0 - hp["clip_eps"], 1.0 + hp["clip_eps"])
            terms = -jnp.minimum(ratio * adv, clipped * adv) - hp["ent_coef"] * entropy
            return _masked_sum(terms, weight) / lane_minibatch

        def critic_loss(critic_params, batch, targets, weight):
            """This chunk's share of the minibatch's critic loss."""
            value = critic.apply(critic_params, batch.obs)
            clipped = batch.value + jnp.clip(value - batch.value, -hp["clip_eps"], hp["clip_eps"])
            terms = 0.5 * hp["vf_coef"] * jnp.maximum((value - targets) ** 2, (clipped - targets) ** 2)
            return _masked_sum(terms, weight) / lane_minibatch

        def learn(params, opt_states, data, epoch_key, training):
            """update_epochs passes of num_minibatches minibatches; masked ones change nothing.

            A minibatch's gradient is summed over chunks of chunk_size transitions, as many as the
            largest minibatch among the lanes still learning needs (one chunk when every lane's
            minibatch has that size).
            """
            flat = jax.tree.map(lambda x: x.reshape((rollout_length * num_envs,) + x.shape[2:]), data)
            gathered = -(-minibatch_size // chunk_size) * chunk_size  # rows a minibatch's chunks cover

            def gradients(params, rows, adv_mean, adv_std, weight):
                """The actor's and critic's gradients of the losses over `rows` (those where `weight` holds)."""
                batch, adv, targets = rows
                adv = (adv - adv_mean) / (adv_std + 1e-8)
                return (
                    jax.grad(actor_loss)(params["actor"], batch, adv, weight),
                    jax.grad(critic_loss)(params["critic"], batch, targets, weight),
                )

            def epoch_step(epoch, learner):
                order = shuffle(jax.random.fold_in(epoch_key, epoch))
                in_epoch = training & (epoch < lane.update_epochs) if masked else None
                if not masked:
                    permuted = jax.tree.map(lambda x: x[order], flat)

                def minibatch_rows(first):
                    """The flat data of the `gathered` positions of `order` from `first` on (masked:
                    past its end, the last one)."""
                    if masked:
                        return jax.tree.map(lambda x: x[jnp.take(order, first + jnp.arange(gathered), mode="clip")], flat)
                    return jax.tree.map(lambda x: jax.lax.dynamic_slice_in_dim(x, first, gathered), permuted)

                def minibatch_step(j, learner):
                    params, opt_states = learner
                    learning = in_epoch & (j < lane.num_minibatches) if masked else None
                    rows = minibatch_rows(j * lane_minibatch)
                    mine = jnp.arange(gathered) < lane_minibatch if masked else None
                    adv_mean = _masked_mean(rows[1], mine)
                    adv_std = jnp.sqrt(_masked_mean((rows[1] - adv_mean) ** 2, mine))
                    if chunk_size == gathered:
                        actor_grads, critic_grads = gradients(params, rows, adv_mean, adv_std, mine)
                    else:

                        def chunk_step(chunk, grads):
                            offset = chunk * chunk_size
                            part = jax.tree.map(lambda x: jax.lax.dynamic_slice_in_dim(x, offset, chunk_size), rows)
                            weight = offset + jnp.arange(chunk_size) < lane_minibatch
                            return jax.tree.map(jnp.add, grads, gradients(params, part, adv_mean, adv_std, weight))

                        chunks = loop_count(learning, -(-lane_minibatch // chunk_size))
                        zeros = jax.tree.map(jnp.zeros_like, (params["actor"], params["critic"]))
                        actor_grads, critic_grads = jax.lax.fori_loop(0, chunks, chunk_step, zeros)
                    actor_updates, actor_opt = actor_tx.update(actor_grads, opt_states[0], params["actor"])
                    critic_updates, critic_opt = critic_tx.update(critic_grads, opt_states[1], params["critic"])
                    stepped = (
                        {
                            "actor": optax.apply_updates(params["actor"], actor_updates),
                            "critic": optax.apply_updates(params["critic"], critic_updates),
                        },
                        (actor_opt, critic_opt),
                    )
                    # Unmasked, the select fuses into the kernels that compute the step: no kernel of its own.
                    return select(learning if masked else training, stepped, learner)

                return jax.lax.fori_loop(0, loop_count(in_epoch, lane.num_minibatches), minibatch_step, learner)

            return jax.lax.fori_loop(0, loop_count(training, lane.update_epochs), epoch_step, (params, opt_states))

        def update_step(i, carry):
            params, opt_states, env_state, obs, slots = carry
            update = start + i
            training = update < target
            rollout_key, epoch_key = jax.random.split(jax.random.fold_in(loop_key, update))
            env_state, obs, traj, length = rollout(params, env_state, obs, rollout_key, training)
            traj, adv, targets = advantages(params, traj, obs)
            params, opt_states = learn(params, opt_states, (traj, adv, targets), epoch_key, training)
            return params, opt_states, env_state, obs, slots + length * num_envs

        carry = (state["params"], state["opt_state"], state["env_state"], state["obs"], jnp.int32(0))
        count = max_over_lanes(jnp.maximum(target - start, 0))
        params, opt_states, env_state, obs, slots = jax.lax.fori_loop(0, count, update_step, carry)
        done = jnp.maximum(start, target)
        state = {**state, "params": params, "opt_state": opt_states, "env_state": env_state, "obs": obs, "update": done}
        return state, Progress(done * steps_per_update, slots)

    def score(state: dict[str, Any]) -> jax.Array:
        return evaluate_policy(state["params"], jax.random.fold_in(state["eval_key"], state["update"] - 1))

    def evaluate_policy(params: dict[str, Any], key: jax.Array) -> jax.Array:
        return evaluate(env, greedy(params["actor"]), key, shape.num_eval_episodes)

    return Segments(init, advance, score, evaluate_policy)


def ranked_order(rank: jax.Array, mine: jax.Array | None = None) -> jax.Array:
    """The positions of `rank` (uint32 [n]) in ascending order, ties by position, those where
    `mine` holds first: `argsort(rank, stable=True)` (or the `lexsort` with `~mine`). Called under
    the vmap named LANES.

    One sort of single keys (XLA's fast path, about 4x faster than sorting ranks with their
    positions): each key is the rank's top bits above the position. While those top bits differ
    from key to key this order is the exact one; if two are equal in some lane (for 512 ranks, in
    about 2% of a lane's sorts, 3% with `mine`) every lane sorts its full ranks instead."""
    size = rank.shape[0]
    position_bits = max(1, (size - 1).bit_length())
    rank_bits = (32 if mine is None else 31) - position_bits  # with `mine`, the top bit puts the others last

    def exact():
        order = jnp.argsort(rank, stable=True) if mine is None else jnp.lexsort((rank, ~mine))
        return order.astype(jnp.uint32)

    if rank_bits < 16:  # too few bits to tell most ranks apart
        return exact()
    keys = (rank >> (32 - rank_bits) << position_bits) | jnp.arange(size, dtype=jnp.uint32)
    if mine is not None:
        keys = jnp.where(mine, keys, keys | jnp.uint32(1 << 31))
    keys = jnp.sort(keys)
    tied = any_lane(jnp.any(keys[1:] >> position_bits == keys[:-1] >> position_bits))
    return jax.lax.cond(tied, exact, lambda: keys & jnp.uint32((1 << position_bits) - 1))


def _categorical_log_prob(logits, action):
    log_probs = jax.nn.log_softmax(logits)
    return jnp.sum(log_probs * jax.nn.one_hot(action, logits.shape[-1]), axis=-1)  # its gradient needs no scatter


def _categorical_entropy(logits):
    log_probs = jax.nn.log_softmax(logits)
    return -jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1)


def _gaussian_log_prob(mean, log_std, action):
    z = (action - mean) / jnp.exp(log_std)
    return jnp.sum(-0.5 * z**2 - log_std - 0.5 * jnp.log(2 * jnp.pi), axis=-1)


ALGORITHM = Algorithm(
    name="ppo",
    vectorized=VECTORIZED,
    paddable=PADDABLE,
    action_spaces=ACTION_SPACES,
    check_config=check_config,
    check_env=check_env,
    padded_extents=padded_extents,
    make_segments=make_segments,
    lane_bytes=lane_bytes,
    unit_cost=unit_cost,
)
