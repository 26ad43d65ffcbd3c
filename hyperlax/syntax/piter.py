"""`piter`: a lazy parameter-iterator algebra over plain dicts.

    piter @ {"lr": [0.001, 0.01], "batch_size": [32, 64]}         # zip: 2 configs
    piter @ {"lr": [0.001, 0.01]} * {"batch_size": [32, 64]}      # product: 4 configs
    ((piter @ {"lr": [0.001, 0.01]}) % {"seed": 42}) ** 3          # set, then repeat: 6 configs

Parenthesise before `**`: it binds tighter than `@`, `*` and `%`, so
`piter @ {...} % {"seed": 42} ** 3` evaluates `{"seed": 42} ** 3` first and raises TypeError.

Every config is a fresh flat dict of dotted keys (nested dicts are flattened) whose values are
deep copies, so mutating one never changes another or the inputs. Configs are built one at a time
as they are iterated; `len()` is computed without building any.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hyperlax.config import flatten

Config = dict[str, Any]


def sweep_values(key: str, value: Any) -> list[Any] | None:
    """The candidates of a swept value (a list or range), or None for a scalar; empty is an error."""
    if not isinstance(value, (list, range)):
        return None
    if len(value) == 0:
        raise ValueError(f"{key!r} has an empty list of values; a sweep needs at least one")
    return list(value)


def check_repeat(count: Any) -> int:
    """`count` if it is a positive int (bools are not), else a ValueError."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"repeat count must be a positive int, got {count!r}")
    return count


class PIter:
    """A lazy, re-iterable sequence of configs built by `piter` and its operators.

    `a * b`: Cartesian product, `a` varying slowest, `b` winning on a key clash.
    `a + b`: `a`'s configs, then `b`'s. `a % fixed`: sets (never sweeps) `fixed`'s keys in every
    config. `a ** n`: each config n times in a row. A dict operand of `*` or `+` is read as
    `piter @ dict`.
    """

    def __init__(self, length: int, make: Callable[[], Iterator[Config]]):
        self._length = length
        self._make = make

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Config]:
        for config in self._make():
            yield copy.deepcopy(config)

    def __repr__(self) -> str:
        return f"PIter({self._length} configs)"

    def __mul__(self, other: Any) -> PIter:
        right = as_piter(other)
        if right is None:
            return NotImplemented
        left = self

        def make() -> Iterator[Config]:
            for a in left._make():
                for b in right._make():
                    yield {**a, **b}

        return PIter(len(left) * len(right), make)

    def __rmul__(self, other: Any) -> PIter:
        left = as_piter(other)
        return NotImplemented if left is None else left * self

    def __add__(self, other: Any) -> PIter:
        right = as_piter(other)
        if right is None:
            return NotImplemented
        left = self
        return PIter(len(left) + len(right), lambda: itertools.chain(left._make(), right._make()))

    def __radd__(self, other: Any) -> PIter:
        left = as_piter(other)
        return NotImplemented if left is None else left + self

    def __mod__(self, fixed: Any) -> PIter:
        if not isinstance(fixed, Mapping):
            return NotImplemented
        flat = flatten(fixed)
        inner = self
        return PIter(len(inner), lambda: ({**config, **flat} for config in inner._make()))

    def __pow__(self, count: Any) -> PIter:
        count = check_repeat(count)
        inner = self

        def make() -> Iterator[Config]:
            for config in inner._make():
                for _ in range(count):
                    yield config

        return PIter(len(inner) * count, make)


def zip_dict(spec: Mapping[str, Any]) -> PIter:
    """Zip the lists (and ranges) of one dict, broadcasting scalars; unequal lengths are an error."""
    flat = flatten(spec)
    swept = {key: values for key, value in flat.items() if (values := sweep_values(key, value)) is not None}
    lengths = {len(values) for values in swept.values()}
    if len(lengths) > 1:
        sizes = ", ".join(f"{key}: {len(values)}" for key, values in swept.items())
        raise ValueError(f"zipped lists must have equal lengths, got {sizes}")
    length = lengths.pop() if lengths else 1

    def make() -> Iterator[Config]:
        for index in range(length):
            yield {key: swept[key][index] if key in swept else value for key, value in flat.items()}

    return PIter(length, make)


def from_configs(configs: list[Config]) -> PIter:
    """A PIter over explicit configs (each already flat)."""
    return PIter(len(configs), lambda: iter(configs))


def as_piter(operand: Any) -> PIter | None:
    """`operand` as a PIter (a dict is zipped), or None when it is neither."""
    if isinstance(operand, PIter):
        return operand
    if isinstance(operand, Mapping):
        return zip_dict(operand)
    return None


class _PiterStart:
    """`piter @ dict` starts a sweep by zipping the dict's lists."""

    def __matmul__(self, spec: Mapping[str, Any]) -> PIter:
        if not isinstance(spec, Mapping):
            return NotImplemented
        return zip_dict(spec)

    def __repr__(self) -> str:
        return "piter"


piter = _PiterStart()
