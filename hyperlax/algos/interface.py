"""The algorithm interface: what PPO, DQN, SAC and a researcher's own algorithm provide.

An algorithm is an `Algorithm`, a NamedTuple of names and pure functions in the style of optax's
`GradientTransformation`. Its training runs in segments: `make_segments(config, env, extents)`
gives `Segments(init, advance, score)` for one structure, where

- `init(hparams, key) -> state` makes one lane's whole training state, a pytree (a dict holding
  at least "params"; parameters, optimizer states, env states, buffers, counters, keys);
- `advance(state, hparams, until) -> (state, Progress)` trains the lane until it has taken
  `until` env steps (a traced int32 milestone per lane), or its budget. Lanes may be at different
  milestones: early stopping refills a stopped lane with a new sample that starts at 0 while the
  others go on, and an idle lane's `until` is 0. A loop over the lanes' updates runs the most any
  lane needs (`max_over_lanes`) and leaves the others untouched;
- `score(state) -> mean return` evaluates the lane's policy where `advance` left it, with keys the
  state holds (so a lane scores the same in any batch).

`advance` and `score` run under `jax.vmap(..., axis_name=LANES)`; `init` makes one lane on its own
(the executor runs it lane by lane), so it takes no bounds over the lanes. `hparams` maps each
vectorized key to a traced float32 scalar and each paddable key to a traced int32 scalar. The
evaluation milestones are the segment boundaries, so a run is `init` then `advance` and `score` per
milestone, whether in one call (`run_in_one_call`) or in many (the executor's loop, which compiles
`score` as a program of its own: XLA compiles the two apart, side by side, sooner than as one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hyperlax.algos.common import LANES, key_shapes, milestones
from hyperlax.config import flatten
from hyperlax.envs import EnvSpec

Config = dict[str, Any]
HParams = dict[str, jax.Array]


class Progress(NamedTuple):
    """What `advance` reports of one lane (each a scalar)."""

    env_steps: jax.Array  # env steps the lane has taken since init (int32)
    slots: jax.Array  # env-step slots this segment computed for the lane, padding included (int32)


class SegmentMetrics(NamedTuple):
    """What one lane reports at the end of a segment (each a scalar): its score and progress."""

    episode_return: jax.Array  # mean greedy episodic return evaluated at the milestone (`score`)
    env_steps: jax.Array
    slots: jax.Array


class Segments(NamedTuple):
    """One structure's training, in segments between evaluation milestones."""

    init: Callable[[HParams, jax.Array], Any]
    advance: Callable[[Any, HParams, jax.Array], tuple[Any, Progress]]
    score: Callable[[Any], jax.Array]
    # Optional: `(params, key) -> mean return` of the greedy policy of a state's "params" over the
    # config's num_eval_episodes episodes, as `score` evaluates (the `evaluate` command uses it).
    evaluate: Callable[[Any, jax.Array], jax.Array] | None = None


class Algorithm(NamedTuple):
    """An algorithm hyperlax can sweep; every hyperparameter's kind is declared here."""

    name: str
    vectorized: tuple[str, ...]  # dotted keys of float scalars traced per lane
    paddable: tuple[str, ...]  # dotted keys of integers that only set array extents and loop lengths
    action_spaces: tuple[str, ...]  # "discrete" and/or "continuous"
    check_config: Callable[[Config], None]  # raises ValueError naming the key
    check_env: Callable[[Config, EnvSpec], None]  # raises ValueError when the env does not fit
    padded_extents: Callable[[Sequence[Config]], dict[str, int]]  # array sizes that hold every config's run
    make_segments: Callable[[Config, EnvSpec, dict[str, int]], Segments]
    lane_bytes: Callable[[Config, EnvSpec, dict[str, int]], int] | None = None  # None: XLA's memory analysis
    # (loop iterations, work) of one unit of these configs at these extents: the iterations its program
    # runs (once for all lanes) and the env steps and sampled gradients of its lanes, padding included;
    # for the plan's padding cost model (hyperlax/padding.py). None: a structure pads as one unit
    unit_cost: Callable[[Sequence[Config], dict[str, int]], tuple[float, float]] | None = None


def lane_hparams(algorithm: Algorithm, flat_configs: Sequence[dict[str, Any]]) -> HParams:
    """The traced hyperparameters of lanes given as flat configs: float32 and int32 arrays [lanes]."""
    hparams = {k: np.asarray([c[k] for c in flat_configs], np.float32) for k in algorithm.vectorized}
    hparams.update({k: np.asarray([c[k] for c in flat_configs], np.int32) for k in algorithm.paddable})
    return hparams


def run_in_one_call(segments: Segments, total_timesteps: int, num_evaluations: int):
    """`train(hparams, key) -> (state, SegmentMetrics [num_evaluations])`: init and every segment in
    one function, for `jax.vmap(train, axis_name=LANES)`; equal to the executor's segment loop."""
    until = jnp.asarray(milestones(total_timesteps, num_evaluations), jnp.int32)

    def train(hparams: HParams, key: jax.Array):
        def segment(state, until):
            state, progress = segments.advance(state, hparams, until)
            return state, SegmentMetrics(segments.score(state), *progress)

        return jax.lax.scan(segment, segments.init(hparams, key), until)

    return train


def check_segments(algorithm: Algorithm, config: Config, env: EnvSpec, extents: dict[str, int]) -> None:
    """Raise ValueError when the structure's segments break the contract: the state must be a dict
    with "params", advance must return it with the same structure and Progress of one scalar per
    lane, and score one scalar per lane. Traces one lane; nothing runs or compiles."""
    segments = algorithm.make_segments(config, env, extents)
    if not isinstance(segments, Segments):
        raise ValueError(f"make_segments must return Segments(init, advance, score), got {type(segments).__name__}")
    hparams = lane_hparams(algorithm, [flatten(config)])
    keys = key_shapes(1)
    state = jax.eval_shape(jax.vmap(segments.init, axis_name=LANES), hparams, keys)
    if not isinstance(state, dict) or "params" not in state:
        held = f"a dict of {', '.join(map(repr, state))}" if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"init must return a dict holding 'params', got {held}")
    advance = jax.vmap(segments.advance, in_axes=(0, 0, None), axis_name=LANES)
    new_state, progress = jax.eval_shape(advance, state, hparams, jnp.int32(1))
    if jax.tree.structure(new_state) != jax.tree.structure(state):
        raise ValueError("advance must return the state with the structure init gives it")
    if not isinstance(progress, Progress):
        raise ValueError(f"advance must return (state, Progress), got {type(progress).__name__}")
    score = jax.eval_shape(jax.vmap(segments.score, axis_name=LANES), new_state)
    wrong = [f"{name} has shape {m.shape[1:]}" for name, m in zip(Progress._fields, progress) if m.shape != (1,)]
    wrong += [f"score's return has shape {score.shape[1:]}"] if getattr(score, "shape", None) != (1,) else []
    if wrong:
        raise ValueError(f"advance's Progress and score must give one scalar per lane: {', '.join(wrong)}")
