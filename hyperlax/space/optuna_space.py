"""Search spaces as Optuna sees them: each searched key's Optuna distribution, and the way back.

A recipe distribution maps to the Optuna distribution of the same values, so that a study's
params are the hyperparameters themselves (fixed keys and one-value Categoricals are left out):

| recipe                                  | Optuna                                                  |
|-----------------------------------------|---------------------------------------------------------|
| Uniform                                 | FloatDistribution(low, high)                            |
| LogUniform, InvLogUniform (1/X of a log-uniform X is log-uniform) | FloatDistribution(low, high, log=True) |
| UniformInt, LogUniformInt               | IntDistribution(low, high[, log=True])                  |
| Quantized(Uniform)                      | IntDistribution / FloatDistribution(step=q), int when q is an int |
| Categorical                             | CategoricalDistribution of the values; of labels (their repr) when a value is not None, bool, int, float or str, or two values Optuna would confuse (1 and True); decoded by position, so values keep their Python types |
| Normal, LogNormal, Beta, other Quantized | FloatDistribution(0, 1) of the value's quantile, named "<key> (quantile)": the sampler keeps the recipe's prior |

Explicit configs (grids, W&B files, piter) have no distributions: `observed_space` takes each
varying key's range (or its values, when not all numbers) from the configs themselves.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from hyperlax.space.distributions import (
    Categorical,
    Distribution,
    Fixed,
    InvLogUniform,
    LogNormal,
    LogUniform,
    LogUniformInt,
    Quantized,
    Uniform,
    UniformInt,
)

OPTUNA_CHOICE_TYPES = (bool, int, float, str)
LOG_DISTRIBUTIONS = (LogUniform, LogUniformInt, LogNormal, InvLogUniform)


@dataclasses.dataclass(frozen=True)
class Param:
    """One searched key: its Optuna name and distribution, and the maps between value and param."""

    key: str
    name: str
    distribution: BaseDistribution
    to_param: Callable[[Any], Any]
    to_value: Callable[[Any], Any]


@dataclasses.dataclass(frozen=True)
class Space:
    """The keys of a sweep's samples: those searched (params) and those fixed, in sample order."""

    keys: tuple[str, ...]
    params: tuple[Param, ...]
    fixed: dict[str, Any]

    @property
    def distributions(self) -> dict[str, BaseDistribution]:
        """Optuna param name -> distribution."""
        return {p.name: p.distribution for p in self.params}

    def to_params(self, sample: Mapping[str, Any]) -> dict[str, Any]:
        """The Optuna params of a sample (its searched keys)."""
        return {p.name: p.to_param(sample[p.key]) for p in self.params}

    def to_sample(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The sample of Optuna params: every key, fixed ones included, in `keys` order."""
        values = {p.key: p.to_value(params[p.name]) for p in self.params}
        return {k: values[k] if k in values else copy.deepcopy(self.fixed[k]) for k in self.keys}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """Whether two values are the same value of the same type (1, 1.0 and True are not)."""
    return type(a) is type(b) and repr(a) == repr(b)


def categorical(key: str, values: Sequence[Any]) -> Param:
    """A Categorical over `values` (any Python objects), decoded by position."""
    values = list(values)
    native = all(
        v is None or (type(v) in OPTUNA_CHOICE_TYPES and not (isinstance(v, float) and math.isnan(v))) for v in values
    ) and not any(a == b and not _same(a, b) for i, a in enumerate(values) for b in values[i + 1 :])
    choices = list(values) if native else [repr(v) for v in values]
    if not native and any(
        choices[i] == choices[j] and not _same(values[i], values[j]) for i in range(len(values)) for j in range(i)
    ):
        choices = [f"{i}: {c}" for i, c in enumerate(choices)]

    def position(found: Any, among: Sequence[Any]) -> int:
        for i, candidate in enumerate(among):
            if _same(candidate, found):
                return i
        raise ValueError(f"{key}: {found!r} is not one of {list(among)!r}")

    return Param(
        key, key, CategoricalDistribution(choices),
        to_param=lambda value: choices[position(value, values)],
        to_value=lambda choice: copy.deepcopy(values[position(choice, choices)]),
    )


def _quantized(key: str, dist: Quantized) -> Param:
    if isinstance(dist.q, int):
        low, high = (round(b / dist.q) * dist.q for b in dist.base.domain)
        return Param(key, key, IntDistribution(int(low), int(high), step=dist.q), int, int)
    # decimal bounds (0.9, not 3 * 0.3), so that Optuna finds the range a multiple of the step
    low, high = (float(round(b / dist.q) * Decimal(str(dist.q))) for b in dist.base.domain)
    to_value = lambda v: float(round(v / dist.q) * dist.q)  # noqa: E731 (the grid value Quantized gives)
    return Param(key, key, FloatDistribution(float(low), float(high), step=float(dist.q)), float, to_value)


def param_of(key: str, dist: Distribution) -> Param | None:
    """The Optuna form of one recipe distribution (see the module docstring); None for a fixed key."""
    if isinstance(dist, Fixed) or (isinstance(dist, Categorical) and len(dist.values) == 1):
        return None
    if isinstance(dist, Categorical):
        return categorical(key, dist.values)
    if isinstance(dist, (Uniform, LogUniform, InvLogUniform)):
        low, high = (float(b) for b in dist.domain)
        return Param(key, key, FloatDistribution(low, high, log=not isinstance(dist, Uniform)), float, float)
    if isinstance(dist, (UniformInt, LogUniformInt)):
        low, high = dist.domain
        return Param(key, key, IntDistribution(low, high, log=isinstance(dist, LogUniformInt)), int, int)
    if isinstance(dist, Quantized) and type(dist.base) is Uniform:
        return _quantized(key, dist)
    return Param(key, f"{key} (quantile)", FloatDistribution(0.0, 1.0), dist.to_unit, dist.from_unit)


def recipe_space(distributions: Mapping[str, Distribution]) -> Space:
    """The space of a recipe's distributions; sample keys in the recipe's order."""
    params = [param_of(key, dist) for key, dist in distributions.items()]
    fixed = {key: dist.from_unit(0.0) for key, dist in distributions.items() if param_of(key, dist) is None}
    return Space(tuple(distributions), tuple(p for p in params if p is not None), fixed)


def observed_space(samples: Sequence[Mapping[str, Any]], distributions: Mapping[str, Distribution]) -> Space:
    """The space of explicit samples: each key that varies, as a number range (log where the recipe's
    distribution of that key is) or, unless every value is a number, as a Categorical of its values."""
    keys = tuple(samples[0]) if samples else ()
    params, fixed = [], {}
    for key in keys:
        values = [s[key] for s in samples]
        distinct = [v for i, v in enumerate(values) if not any(_same(v, w) for w in values[:i])]
        if len(distinct) == 1:
            fixed[key] = distinct[0]
        elif not all(_is_number(v) for v in distinct):
            params.append(categorical(key, distinct))
        else:
            log = isinstance(distributions.get(key), LOG_DISTRIBUTIONS) and min(distinct) > 0
            if all(isinstance(v, int) for v in distinct):
                params.append(Param(key, key, IntDistribution(min(distinct), max(distinct), log=log), int, int))
            else:
                bounds = float(min(distinct)), float(max(distinct))
                params.append(Param(key, key, FloatDistribution(*bounds, log=log), float, float))
    return Space(keys, tuple(params), fixed)
