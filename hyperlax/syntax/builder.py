"""`Sweep`: a builder of configs for a function or a config dataclass, with key checking.

    Sweep(train).product(lr=[0.001, 0.01]).zip(batch_size=[32, 64], epochs=[100, 200])  # 4 configs

Each step multiplies the sweep built so far by a new factor, the earlier steps varying slowest:
`product` (every combination of its lists, first key slowest), `zip` (its lists paired),
`chain` (its dicts as alternatives); `set` overrides keys in every config. A scalar where a list is
expected counts as a one-value list. Configs hold only the swept and set keys (not the target's
defaults), as flat dicts of dotted keys. Every method returns a new Sweep; none changes its own.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
import json
import operator
import pathlib
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import yaml

from hyperlax.config import flatten
from hyperlax.syntax.piter import Config, PIter, from_configs, zip_dict
from hyperlax.syntax.yaml_loader import load_yaml

_FORMATS = {".jsonl": "jsonl", ".yaml": "yaml", ".yml": "yaml"}
_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _type_hints(obj: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj)
    except (NameError, TypeError):  # unresolvable string annotations: check names only
        return {}


def _fields(scope: Any) -> dict[str, Any] | None:
    """The keyword names `scope` accepts mapped to their type hints; None if it takes **kwargs."""
    if dataclasses.is_dataclass(scope):
        hints = _type_hints(scope if isinstance(scope, type) else type(scope))
        return {field.name: hints.get(field.name) for field in dataclasses.fields(scope)}
    if not callable(scope):
        raise TypeError(f"Sweep target must be a function or a dataclass, got {scope!r}")
    parameters = inspect.signature(scope).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    hints = _type_hints(scope)
    return {p.name: hints.get(p.name) for p in parameters if p.kind in _KEYWORD_KINDS}


def check_key(target: Any, key: str) -> None:
    """Raise a ValueError naming `key`, with the closest valid key, unless `target` accepts it.

    A dotted key descends into fields whose type is a dataclass; below any other field it is not
    checked further.
    """
    parts = key.split(".")
    scope = target
    for depth, part in enumerate(parts):
        fields = _fields(scope)
        if fields is None:
            return
        if part not in fields:
            owner = getattr(scope, "__qualname__", type(scope).__qualname__)
            close = difflib.get_close_matches(part, list(fields), n=1)
            hint = (
                f"did you mean {'.'.join([*parts[:depth], close[0]])!r}?"
                if close
                else f"expected one of: {', '.join(fields) or '(none)'}"
            )
            raise ValueError(f"unknown key {key!r}: {owner} has no parameter {part!r}; {hint}")
        field_type = fields[part]
        if not (isinstance(field_type, type) and dataclasses.is_dataclass(field_type)):
            return
        scope = field_type


def _format(path: pathlib.Path) -> str:
    try:
        return _FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: unknown sweep file type; expected one of {', '.join(_FORMATS)}") from None


class Sweep:
    """Configs for `target` (a function or a config dataclass; None checks no keys)."""

    def __init__(self, target: Callable[..., Any] | type | None = None):
        if target is not None:
            _fields(target)
        self.target = target
        self._configs: PIter = from_configs([{}])

    def _then(self, configs: PIter) -> Sweep:
        new = Sweep(self.target)
        new._configs = configs
        return new

    def _checked(self, spec: Mapping[str, Any]) -> Config:
        flat = flatten(spec)
        if self.target is not None:
            for key in flat:
                check_key(self.target, key)
        return flat

    def product(self, **lists: Any) -> Sweep:
        """Every combination of `lists`' values (first key slowest), times the sweep so far."""
        factors = [zip_dict({key: value}) for key, value in self._checked(lists).items()]
        return self._then(functools.reduce(operator.mul, factors, self._configs))

    def zip(self, **lists: Any) -> Sweep:
        """`lists` paired index by index (equal lengths), times the sweep so far."""
        return self._then(self._configs * zip_dict(self._checked(lists)))

    def chain(self, *configs: Mapping[str, Any]) -> Sweep:
        """`configs` as alternatives, in order, times the sweep so far; their lists are values."""
        if not configs:
            raise ValueError("chain needs at least one config")
        return self._then(self._configs * from_configs([self._checked(config) for config in configs]))

    def set(self, **fixed: Any) -> Sweep:
        """Set (never sweep) `fixed`'s keys in every config, overriding earlier values."""
        return self._then(self._configs % self._checked(fixed))

    def __mul__(self, lists: Mapping[str, Any]) -> Sweep:
        if not isinstance(lists, Mapping):
            return NotImplemented
        return self.product(**lists)

    def __pow__(self, count: Any) -> Sweep:
        return self._then(self._configs**count)

    def __mod__(self, fixed: Mapping[str, Any]) -> Sweep:
        if not isinstance(fixed, Mapping):
            return NotImplemented
        return self.set(**fixed)

    def __len__(self) -> int:
        return len(self._configs)

    def __iter__(self) -> Iterator[Config]:
        return iter(self._configs)

    def __repr__(self) -> str:
        name = getattr(self.target, "__qualname__", repr(self.target))
        return f"Sweep({name}, {len(self)} configs)"

    def save(self, path: str | pathlib.Path) -> None:
        """Write the configs to `path`: JSON Lines (.jsonl, a config a line) or YAML (.yaml/.yml).

        Values must be plain data (numbers, strings, bools, None, lists, dicts); tuples load back
        as lists.
        """
        path = pathlib.Path(path)
        configs = list(self)
        if _format(path) == "jsonl":
            path.write_text("".join(json.dumps(config) + "\n" for config in configs))
        else:
            path.write_text(yaml.safe_dump(configs, sort_keys=False))

    @classmethod
    def load(cls, path: str | pathlib.Path, target: Callable[..., Any] | type | None = None) -> Sweep:
        """The sweep saved at `path` (format by suffix), its keys checked against `target` if given."""
        path = pathlib.Path(path)
        text = path.read_text()
        if _format(path) == "jsonl":
            configs = []
            for line_number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        configs.append(json.loads(line))
                    except json.JSONDecodeError as error:
                        raise ValueError(f"{path}:{line_number}: not valid JSON: {error}") from None
        else:
            configs = load_yaml(text) or []
            if not isinstance(configs, list):
                raise ValueError(f"{path}: expected a YAML list of configs, got {type(configs).__name__}")
        for index, config in enumerate(configs):
            if not isinstance(config, dict):
                raise ValueError(f"{path}: config {index} is not a mapping: {config!r}")
        sweep = cls(target)
        return sweep._then(from_configs([sweep._checked(config) for config in configs]))
