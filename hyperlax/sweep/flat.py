"""Flatten nested config dicts to one level of dotted keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"optim": {"lr": 1}}` -> `{"optim.lr": 1}`, in depth-first key order.

    Non-empty mappings are descended into; every other value (an empty dict included) is a leaf.
    Keys must be strings; two paths that give the same dotted key are a ValueError.
    """
    flat: dict[str, Any] = {}
    for key, value in config.items():
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
