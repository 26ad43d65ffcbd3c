"""Config checks the algorithms share; each error names the dotted key, the value and what was expected.

A key the config lacks is a KeyError; the recipe loader runs the checks on a config that names the
missing key's dotted path (`recipes.check_algorithm_reads`), so a copied recipe that misses a value
an algorithm reads fails clearly at load.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from hyperlax.nets import ACTIVATIONS

HP = "algorithm.hyperparam."


def hyperparam(config: dict[str, Any], key: str) -> Any:
    """The value of `algorithm.hyperparam.<key>`."""
    return config["algorithm"]["hyperparam"][key]


def section(config: dict[str, Any], where: str) -> Any:
    """The value at the dotted key `where` of the nested config."""
    node = config
    for part in where.split("."):
        node = node[part]
    return node


def integer(config: dict[str, Any], key: str, minimum: int = 1) -> int:
    """The integer `algorithm.hyperparam.<key>`, at least `minimum`; ValueError names it otherwise."""
    value = hyperparam(config, key)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{HP}{key} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def flag(config: dict[str, Any], key: str) -> bool:
    """The boolean `algorithm.hyperparam.<key>`; ValueError names it otherwise."""
    value = hyperparam(config, key)
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{HP}{key} must be true or false, got {value!r}")  # noqa: TRY004 (check_config raises ValueError)
    return bool(value)


def check_finite(config: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Raise ValueError naming the first of the flat `keys` whose value is not a finite number."""
    for key in keys:
        value = hyperparam(config, key[len(HP):])
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value):
            raise ValueError(f"{key} must be a finite number, got {value!r}")


def mlp_torso(torso: dict[str, Any], where: str) -> tuple[tuple[int, ...], str]:
    """Checked (layer_sizes, activation) of a torso section found at the dotted key `where`."""
    sizes, activation = torso["layer_sizes"], torso["activation"]
    if not isinstance(sizes, (list, tuple)) or not sizes or not all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise ValueError(f"{where}.layer_sizes must be a non-empty list of positive ints, got {sizes!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"{where}.activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    return tuple(int(s) for s in sizes), activation


class Training(NamedTuple):
    """A run's budget and evaluation schedule (the `training` section)."""

    total_timesteps: int
    num_evaluations: int
    num_eval_episodes: int


def training(config: dict[str, Any]) -> Training:
    """The checked `training` section: positive integers, a budget below 2**31 env steps."""
    values = {}
    for key in Training._fields:
        value = section(config, "training").get(key)
        if value is None:
            raise ValueError(f"training.{key} is not set by the env or algorithm recipe (or its command-line option)")
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"training.{key} must be a positive integer, got {value!r}")
        values[key] = int(value)
    if values["total_timesteps"] >= 2**31:
        raise ValueError(f"training.total_timesteps must be below 2**31, got {values['total_timesteps']}")
    return Training(**values)
