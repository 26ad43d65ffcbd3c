"""`DynamicValue`: mark a value anywhere in a nested config as swept; `expand` makes the grid.

expand({"llm": {"model": DynamicValue(["a", "b"]), "temperature": DynamicValue([0.5, 0.7, 0.9])},
        "top_k": DynamicValue([3, 5, 10])})   # 2 * 3 * 3 = 18 configs
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any


@dataclasses.dataclass(frozen=True, init=False)
class DynamicValue:
    """The candidates of one swept value, taken from any iterable (a generator is read once).

    An empty iterable, a string, bytes or a mapping is a ValueError.
    """

    values: tuple[Any, ...]

    def __init__(self, values: Iterable[Any]):
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            raise ValueError(f"DynamicValue needs a list, range or other iterable of values, got {values!r}")
        materialised = tuple(values)
        if not materialised:
            raise ValueError("DynamicValue needs at least one value, got an empty iterable")
        object.__setattr__(self, "values", materialised)


def _variants(node: Any) -> list[Any]:
    """Every version of `node` with its DynamicValues replaced, first dynamic value slowest."""
    if isinstance(node, DynamicValue):
        return [variant for value in node.values for variant in _variants(value)]
    if isinstance(node, Mapping):
        keys = list(node)
        return [
            dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(_variants(node[k]) for k in keys))
        ]
    if type(node) in (list, tuple):
        return [type(node)(combo) for combo in itertools.product(*(_variants(item) for item in node))]
    return [node]


def expand(configs: Mapping[str, Any] | list[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Yield the Cartesian product of every DynamicValue in a config, or in each of a list of them.

    DynamicValues may sit anywhere in nested dicts, lists and tuples (and inside one another's
    values); the first one in depth-first key order varies slowest. The nesting is kept, static
    values pass through, and each yielded config is an independent deep copy.
    """
    for config in [configs] if isinstance(configs, Mapping) else configs:
        if not isinstance(config, Mapping):
            raise ValueError(f"expand needs a config dict or a list of them, got {config!r}")
        for variant in _variants(config):
            yield copy.deepcopy(variant)
