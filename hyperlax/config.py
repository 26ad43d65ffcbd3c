"""Nested config dicts and their flat, dotted-key form ("algorithm.hyperparam.actor_lr")."""

from __future__ import annotations

import copy
from typing import Any, Mapping


def flatten(nested: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"optim": {"lr": 1}}` -> `{"optim.lr": 1}`, in depth-first key order.

    Non-empty mappings are descended into; every other value (lists, an empty dict) is a leaf.
    Keys must be strings; two paths that give the same dotted key are a ValueError.
    """
    flat: dict[str, Any] = {}
    for key, value in nested.items():
        if not isinstance(key, str):
            where = f" under {prefix[:-1]!r}" if prefix else ""
            raise ValueError(f"config keys must be strings, got {key!r}{where}")
        dotted = f"{prefix}{key}"
        leaves = flatten(value, f"{dotted}.") if isinstance(value, Mapping) and value else {dotted: value}
        for leaf in leaves:
            if leaf in flat:
                raise ValueError(f"key {leaf!r} is given twice (once dotted, once nested)")
        flat.update(leaves)
    return flat


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The nested dict whose flatten() is `flat`."""
    nested: dict[str, Any] = {}
    for dotted, value in flat.items():
        node = nested
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = copy.deepcopy(value)
    return nested


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of `base` with `override` merged in, recursively for dicts."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
