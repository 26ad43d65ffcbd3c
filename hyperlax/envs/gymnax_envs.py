"""gymnax environments, described by plain data so train functions can be built from them.

Observations reach the algorithms as vectors: an env whose observations are images (MinAtar) or
grids (bsuite Catch) is wrapped so that they arrive flattened, and `EnvSpec.frame_shape` keeps
their original shape for networks that want it back (a conv torso).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import gymnax
from gymnax.environments import spaces


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """A gymnax env with its params and the facts a network and a policy need."""

    env: Any
    params: Any
    obs_shape: tuple[int, ...]  # the (flat) observation the algorithm sees
    discrete: bool
    num_actions: int  # discrete: the number of actions; continuous: the action dimension
    action_low: float
    action_high: float
    max_steps: int  # episode time limit, used to bound evaluation rollouts
    frame_shape: tuple[int, ...]  # the observation's shape as the env makes it, before flattening


class FlatObservations:
    """A gymnax env whose observations (and info["final_observation"]) are flattened to vectors."""

    def __init__(self, env: Any):
        self.env = env

    def reset(self, key, params):
        obs, state = self.env.reset(key, params)
        return obs.reshape(-1), state

    def step(self, key, state, action, params):
        obs, state, reward, terminated, truncated, info = self.env.step(key, state, action, params)
        info = {**info, "final_observation": info["final_observation"].reshape(-1)}
        return obs.reshape(-1), state, reward, terminated, truncated, info


def check_env_config(env_config: dict[str, Any]) -> None:
    """Raise ValueError naming the bad key if the env section cannot make an environment."""
    gymnax_id = env_config.get("gymnax_id")
    if gymnax_id not in gymnax.registered_envs:
        raise ValueError(
            f"env.gymnax_id {gymnax_id!r} is not a gymnax environment; "
            f"known: {', '.join(gymnax.registered_envs)}"
        )
    _, params = gymnax.make(gymnax_id)
    for key in env_config.get("params", {}):
        if not hasattr(params, key):
            raise ValueError(
                f"env.params.{key} is not a parameter of {gymnax_id}; "
                f"known: {', '.join(f.name for f in dataclasses.fields(params))}"
            )


def make_env(env_config: dict[str, Any]) -> EnvSpec:
    """Build the gymnax env named by env_config["gymnax_id"], with env_config["params"] applied."""
    env, params = gymnax.make(env_config["gymnax_id"])
    params = params.replace(**env_config.get("params", {}))
    action_space = env.action_space(params)
    discrete = isinstance(action_space, spaces.Discrete)
    if discrete:
        num_actions, low, high = int(action_space.n), 0.0, 0.0
    elif isinstance(action_space, spaces.Box):
        num_actions = int(action_space.shape[0]) if action_space.shape else 1
        low, high = float(action_space.low), float(action_space.high)
    else:
        raise ValueError(f"{env_config['gymnax_id']}: unsupported action space {action_space}")
    frame_shape = tuple(env.observation_space(params).shape)
    return EnvSpec(
        env=env if len(frame_shape) == 1 else FlatObservations(env),
        params=params,
        obs_shape=(math.prod(frame_shape),),
        discrete=discrete,
        num_actions=num_actions,
        action_low=low,
        action_high=high,
        max_steps=int(params.max_steps_in_episode),
        frame_shape=frame_shape,
    )
