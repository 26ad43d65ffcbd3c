"""Hyperparameter distributions, each mapping u in [0, 1) to a value by its inverse CDF.

Every sampler (Sobol, random, ...) draws unit numbers and hands them to `from_unit`, so all
samplers share one path. `validate()` returns a message for a bad domain, or None; the recipe
loader prefixes it with the key. The distributions Optuna has no form for (Normal, LogNormal,
Beta, Quantized) also give `to_unit(value)`, their CDF: Optuna searches them on that quantile.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

from scipy import stats
from scipy.special import ndtr, ndtri

_EDGE = 1e-12  # keeps the Normal inverse CDF finite at u = 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class Distribution:
    """Base class: subclasses implement `from_unit` and `validate`."""

    def from_unit(self, u: float) -> Any:
        raise NotImplementedError

    def validate(self) -> str | None:
        return None


def _check_domain(domain: Any, positive: bool = False, integer: bool = False) -> str | None:
    if not isinstance(domain, (tuple, list)) or len(domain) != 2:
        return f"domain must be a (low, high) pair, got {domain!r}"
    low, high = domain
    kind = int if integer else (int, float)
    if isinstance(low, bool) or isinstance(high, bool) or not isinstance(low, kind) or not isinstance(high, kind):
        want = "integers" if integer else "numbers"
        return f"domain bounds must be {want}, got {domain!r}"
    if not low < high:
        return f"domain needs low < high, got {domain!r}"
    if positive and low <= 0:
        return f"log-scale domain needs positive bounds, got {domain!r}"
    return None


@dataclasses.dataclass(frozen=True)
class Uniform(Distribution):
    """Float uniform on [low, high]."""

    domain: tuple[float, float]

    def from_unit(self, u: float) -> float:
        low, high = self.domain
        return float(min(high, low + u * (high - low)))

    def validate(self) -> str | None:
        return _check_domain(self.domain)


@dataclasses.dataclass(frozen=True)
class LogUniform(Distribution):
    """Float log-uniform on [low, high], both positive."""

    domain: tuple[float, float]

    def from_unit(self, u: float) -> float:
        low, high = (math.log(b) for b in self.domain)
        return float(min(self.domain[1], max(self.domain[0], math.exp(low + u * (high - low)))))

    def validate(self) -> str | None:
        return _check_domain(self.domain, positive=True)


@dataclasses.dataclass(frozen=True)
class UniformInt(Distribution):
    """Integer uniform on [low, high], both bounds inclusive."""

    domain: tuple[int, int]

    def from_unit(self, u: float) -> int:
        low, high = self.domain
        return int(min(high, low + math.floor(u * (high - low + 1))))

    def validate(self) -> str | None:
        return _check_domain(self.domain, integer=True)


@dataclasses.dataclass(frozen=True)
class LogUniformInt(Distribution):
    """Integer log-uniform on [low, high], both bounds inclusive and positive."""

    domain: tuple[int, int]

    def from_unit(self, u: float) -> int:
        low, high = self.domain
        value = math.exp(math.log(low) + u * (math.log(high + 1) - math.log(low)))
        return int(min(high, max(low, math.floor(value))))

    def validate(self) -> str | None:
        return _check_domain(self.domain, positive=True, integer=True)


@dataclasses.dataclass(frozen=True)
class Categorical(Distribution):
    """One of `values`, equally likely; values keep their Python types (lists stay lists)."""

    values: list[Any]

    def from_unit(self, u: float) -> Any:
        index = min(len(self.values) - 1, math.floor(u * len(self.values)))
        return copy.deepcopy(self.values[index])

    def validate(self) -> str | None:
        if not isinstance(self.values, (list, tuple)) or len(self.values) == 0:
            return f"Categorical needs a non-empty list of values, got {self.values!r}"
        return None


@dataclasses.dataclass(frozen=True)
class Normal(Distribution):
    """Float normal with mean `mean` and standard deviation `std`."""

    mean: float
    std: float

    def from_unit(self, u: float) -> float:
        return float(self.mean + self.std * ndtri(min(max(u, _EDGE), 1.0 - _EDGE)))

    def to_unit(self, value: float) -> float:
        return float(min(max(ndtr((value - self.mean) / self.std), _EDGE), 1.0 - _EDGE))

    def validate(self) -> str | None:
        if not self.std > 0:
            return f"std must be positive, got {self.std!r}"
        return None


@dataclasses.dataclass(frozen=True)
class LogNormal(Distribution):
    """exp(Normal(mean, std)): `mean` and `std` are those of the value's logarithm."""

    mean: float
    std: float

    def from_unit(self, u: float) -> float:
        return float(math.exp(Normal(self.mean, self.std).from_unit(u)))

    def to_unit(self, value: float) -> float:
        return Normal(self.mean, self.std).to_unit(math.log(value)) if value > 0 else _EDGE

    def validate(self) -> str | None:
        return Normal(self.mean, self.std).validate()


@dataclasses.dataclass(frozen=True)
class Fixed(Distribution):
    """Always `value` (a deep copy of it)."""

    value: Any

    def from_unit(self, u: float) -> Any:
        return copy.deepcopy(self.value)


@dataclasses.dataclass(frozen=True)
class Quantized(Distribution):
    """round(base / q) * q (ties to even); an int when q is an int, as in W&B."""

    base: Distribution
    q: float

    def from_unit(self, u: float) -> int | float:
        value = round(self.base.from_unit(u) / self.q) * self.q
        return value if isinstance(self.q, int) else float(value)

    def to_unit(self, value: float) -> float:
        return self.base.to_unit(value)

    def validate(self) -> str | None:
        if not (_is_number(self.q) and self.q > 0):
            return f"q must be a positive number, got {self.q!r}"
        return self.base.validate()


@dataclasses.dataclass(frozen=True)
class Beta(Distribution):
    """Beta(a, b) on [0, 1], by scipy's inverse CDF."""

    a: float
    b: float

    def from_unit(self, u: float) -> float:
        return float(stats.beta.ppf(u, self.a, self.b))

    def to_unit(self, value: float) -> float:
        return float(stats.beta.cdf(value, self.a, self.b))

    def validate(self) -> str | None:
        if not (_is_number(self.a) and _is_number(self.b) and self.a > 0 and self.b > 0):
            return f"beta needs positive a and b, got a={self.a!r}, b={self.b!r}"
        return None


@dataclasses.dataclass(frozen=True)
class InvLogUniform(Distribution):
    """1 / X with X log-uniform on [1/high, 1/low): a float in (low, high], both positive."""

    domain: tuple[float, float]

    def from_unit(self, u: float) -> float:
        low, high = self.domain
        return 1.0 / LogUniform((1.0 / high, 1.0 / low)).from_unit(u)

    def validate(self) -> str | None:
        return LogUniform(self.domain).validate()
