"""W&B-style sweep configs (a YAML file or a dict) turned into concrete configs.

    method: random            # grid, random or bayes (a GP sampler that learns, see below)
    run_cap: 20               # caps the number of configs
    metric: {name: loss, goal: minimize}
    parameters:
      lr: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-2}
      optim: {parameters: {name: {values: [adam, sgd]}}}   # nested: key "optim.name"

Parameter forms and the range of their values (W&B's definitions; q defaults to 1.0, mu to 0,
sigma to 1, a and b to 1; a quantised value is an int when q is an int):

| form                             | value                                                   |
|----------------------------------|---------------------------------------------------------|
| values: [...] / categorical      | one of the values                                       |
| value: v / constant              | v                                                       |
| int_uniform (min, max ints)      | an int in [min, max], both inclusive                    |
| uniform                          | a float in [min, max)                                   |
| q_uniform                        | round(X / q) * q, X uniform: in [q*round(min/q), q*round(max/q)] |
| log_uniform (min, max exponents) | exp(X), X uniform in [min, max): in [e^min, e^max)      |
| log_uniform_values               | log-uniform in [min, max), 0 < min                      |
| inv_log_uniform_values           | 1 / X, X log-uniform in [1/max, 1/min): in (min, max]   |
| normal                           | Normal(mu, sigma), unbounded                            |
| q_normal                         | round(X / q) * q, X normal                              |
| log_normal                       | exp(X), X normal: in (0, inf)                           |
| q_log_normal                     | round(exp(X) / q) * q, X normal: in [0, inf)            |
| beta                             | Beta(a, b): in [0, 1]                                   |

Without `distribution`, W&B's inference applies: values -> categorical, value -> constant,
min/max -> int_uniform if both are ints, else uniform.

bayes gives no configs but the parameters' distributions (and the count): the sweep asks them of
a Gaussian-process sampler batch by batch (hyperlax/run/search.py), which needs the metric.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import pathlib
from collections.abc import Callable, Mapping
from typing import Any

from hyperlax.space.distributions import (
    Beta,
    Categorical,
    Distribution,
    Fixed,
    InvLogUniform,
    LogNormal,
    LogUniform,
    Normal,
    Quantized,
    Uniform,
    UniformInt,
)
from hyperlax.space.samplers import draw_unit
from hyperlax.config import flatten
from hyperlax.syntax.yaml_loader import load_yaml

METHODS = ("grid", "random", "bayes")
GOALS = ("minimize", "maximize")
_RESERVED = ("method", "parameters", "metric", "run_cap", "name", "description", "program")
_METRIC_FIELDS = ("name", "goal", "target")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_Builder = Callable[[dict[str, Any]], Distribution]
# distribution -> (required fields, optional fields with W&B's defaults, builder)
_DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], dict[str, Any], _Builder]] = {
    "constant": (("value",), {}, lambda f: Fixed(f["value"])),
    "categorical": (("values",), {}, lambda f: Categorical(f["values"])),
    "int_uniform": (("min", "max"), {}, lambda f: UniformInt((f["min"], f["max"]))),
    "uniform": (("min", "max"), {}, lambda f: Uniform((f["min"], f["max"]))),
    "q_uniform": (("min", "max"), {"q": 1.0}, lambda f: Quantized(Uniform((f["min"], f["max"])), f["q"])),
    "log_uniform": (("min", "max"), {}, lambda f: LogUniform((math.exp(f["min"]), math.exp(f["max"])))),
    "log_uniform_values": (("min", "max"), {}, lambda f: LogUniform((f["min"], f["max"]))),
    "inv_log_uniform_values": (("min", "max"), {}, lambda f: InvLogUniform((f["min"], f["max"]))),
    "normal": ((), {"mu": 0.0, "sigma": 1.0}, lambda f: Normal(f["mu"], f["sigma"])),
    "q_normal": (
        (),
        {"mu": 0.0, "sigma": 1.0, "q": 1.0},
        lambda f: Quantized(Normal(f["mu"], f["sigma"]), f["q"]),
    ),
    "log_normal": ((), {"mu": 0.0, "sigma": 1.0}, lambda f: LogNormal(f["mu"], f["sigma"])),
    "q_log_normal": (
        (),
        {"mu": 0.0, "sigma": 1.0, "q": 1.0},
        lambda f: Quantized(LogNormal(f["mu"], f["sigma"]), f["q"]),
    ),
    "beta": ((), {"a": 1.0, "b": 1.0}, lambda f: Beta(f["a"], f["b"])),
}
_FINITE = ("constant", "categorical", "int_uniform")


@dataclasses.dataclass(frozen=True)
class WandbSweep:
    """A loaded sweep, as plain data.

    configs: flat dicts of dotted keys (none for bayes). metric: {name, goal[, target]} (goal
    defaults to minimize) or None. method: grid, random or bayes. extra: the top-level keys other
    than method, parameters, metric, run_cap, name, description and program (e.g. algo, env,
    num_seeds), for the caller. distributions and count: bayes's search space (dotted key ->
    distribution) and how many configs to ask.
    """

    configs: list[dict[str, Any]]
    metric: dict[str, Any] | None
    method: str
    extra: dict[str, Any]
    distributions: dict[str, Distribution] | None = None
    count: int | None = None


def _infer(key: str, spec: Mapping[str, Any]) -> str:
    if "distribution" in spec:
        return spec["distribution"]
    if "values" in spec:
        return "categorical"
    if "value" in spec:
        return "constant"
    if "min" in spec or "max" in spec:
        ints = [isinstance(spec.get(b), int) and not isinstance(spec.get(b), bool) for b in ("min", "max")]
        return "int_uniform" if all(ints) else "uniform"
    raise ValueError(f"parameter {key!r}: give values, value, min/max or a distribution, got {dict(spec)!r}")


def _parameter(key: str, spec: Any) -> tuple[str, Distribution]:
    """The distribution name and distribution of one parameter spec, checked."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"parameter {key!r} must be a mapping such as {{values: [...]}}, got {spec!r}")
    name = _infer(key, spec)
    if not isinstance(name, str) or name not in _DISTRIBUTIONS:
        known = ", ".join(_DISTRIBUTIONS)
        raise ValueError(f"parameter {key!r}: unknown distribution {name!r}; expected one of {known}")
    required, defaults, build = _DISTRIBUTIONS[name]
    fields = {field: value for field, value in spec.items() if field != "distribution"}
    unexpected = [str(field) for field in fields if field not in required and field not in defaults]
    if unexpected:
        allowed = ", ".join([*required, *defaults]) or "nothing"
        extra = ", ".join(unexpected)
        raise ValueError(f"parameter {key!r}: unexpected {extra} for {name}; it takes {allowed}")
    missing = [field for field in required if field not in fields]
    if missing:
        raise ValueError(f"parameter {key!r}: {name} needs {' and '.join(missing)}")
    fields = {**defaults, **fields}
    for field, value in fields.items():
        if field not in ("value", "values") and not _is_number(value):
            raise ValueError(f"parameter {key!r}: {field} must be a number, got {value!r}")
    try:
        distribution = build(fields)
    except OverflowError:
        raise ValueError(f"parameter {key!r} ({name}): bounds too large, got {dict(fields)!r}") from None
    if problem := distribution.validate():
        raise ValueError(f"parameter {key!r} ({name}): {problem}")
    return name, distribution


def _parameters(specs: Any, prefix: str = "") -> dict[str, tuple[str, Distribution]]:
    """Dotted key -> (distribution name, distribution), nested `parameters` flattened depth-first."""
    where = f"parameter {prefix[:-1]!r}" if prefix else "the sweep config"
    if not isinstance(specs, Mapping) or not specs:
        raise ValueError(f"{where}: 'parameters' must be a non-empty mapping, got {specs!r}")
    parsed: dict[str, tuple[str, Distribution]] = {}
    for name, spec in specs.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: parameter names must be non-empty strings, got {name!r}")
        key = f"{prefix}{name}"
        if isinstance(spec, Mapping) and "parameters" in spec:
            if len(spec) != 1:
                others = ", ".join(str(field) for field in spec if field != "parameters")
                raise ValueError(f"parameter {key!r}: nested parameters take no other fields, got {others}")
            entries = _parameters(spec["parameters"], f"{key}.")
        else:
            entries = {key: _parameter(key, spec)}
        for entry in entries:
            if entry in parsed:
                raise ValueError(f"parameter {entry!r} is given twice (once dotted, once nested)")
        parsed.update(entries)
    return parsed


def _grid_values(distribution: Distribution) -> list[Any]:
    if isinstance(distribution, Fixed):
        return [distribution.value]
    if isinstance(distribution, Categorical):
        return list(distribution.values)
    low, high = distribution.domain  # UniformInt, the only other finite form
    return list(range(low, high + 1))


def _metric(metric: Any) -> dict[str, Any] | None:
    if metric is None:
        return None
    if not isinstance(metric, Mapping):
        raise ValueError(f"metric must be a mapping {{name, goal}}, got {metric!r}")
    unexpected = [str(field) for field in metric if field not in _METRIC_FIELDS]
    if unexpected:
        raise ValueError(f"metric: unexpected {', '.join(unexpected)}; it takes {', '.join(_METRIC_FIELDS)}")
    if not isinstance(metric.get("name"), str) or not metric["name"]:
        raise ValueError(f"metric needs a name (a non-empty string), got {metric.get('name')!r}")
    checked = {**metric, "goal": metric.get("goal", "minimize")}
    if checked["goal"] not in GOALS:
        raise ValueError(f"metric goal must be minimize or maximize, got {checked['goal']!r}")
    return checked


def _count(name: str, value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def load_wandb_sweep(
    source: str | pathlib.Path | Mapping[str, Any], num_samples: int | None = None, seed: int = 0
) -> WandbSweep:
    """Configs from a W&B-style sweep: a dict, or the path of a YAML file.

    grid: every combination of the parameters (all finite: values, value, constant, categorical,
    int_uniform), the first key varying slowest. random: `count` seeded draws, the same for the
    same seed. `count` is the smaller of `run_cap` and `num_samples` where given; random needs one,
    and grid stops after that many. bayes is a ValueError (not available yet).
    """
    if isinstance(source, (str, pathlib.Path)):
        config = load_yaml(pathlib.Path(source).read_text())
    else:
        config = source
    if not isinstance(config, Mapping):
        raise ValueError(f"a sweep config must be a mapping, got {type(config).__name__}")
    method = config.get("method")
    if method not in METHODS:
        raise ValueError(f"sweep method must be one of {', '.join(METHODS)}, got {method!r}")
    parameters = _parameters(config.get("parameters"))
    metric = _metric(config.get("metric"))
    counts = [c for c in (_count("run_cap", config.get("run_cap")), _count("num_samples", num_samples)) if c]
    count = min(counts) if counts else None
    extra = {key: copy.deepcopy(value) for key, value in config.items() if key not in _RESERVED}
    if method == "bayes":
        if count is None:
            raise ValueError("method 'bayes' needs a count: set run_cap in the sweep config or pass num_samples")
        if metric is None:
            raise ValueError("method 'bayes' needs the metric to learn from: metric: {name: ..., goal: maximize}")
        distributions = {key: dist for key, (_, dist) in parameters.items()}
        return WandbSweep([], metric, method, extra, distributions, count)
    if method == "grid":
        continuous = [f"{key!r} ({name})" for key, (name, _) in parameters.items() if name not in _FINITE]
        if continuous:
            raise ValueError(
                f"method 'grid' needs finite parameters ({', '.join(_FINITE)} or values/value); "
                f"continuous: {', '.join(continuous)}; use method 'random' for these"
            )
        grid = itertools.product(*(_grid_values(dist) for _, dist in parameters.values()))
        rows = [dict(zip(parameters, combo, strict=True)) for combo in itertools.islice(grid, count)]
    else:
        if count is None:
            raise ValueError(
                "method 'random' needs a count: set run_cap in the sweep config or pass num_samples"
            )
        distributions = [dist for _, dist in parameters.values()]
        unit = draw_unit(count, len(parameters), "random", seed)
        rows = [
            {
                key: dist.from_unit(float(u))
                for key, dist, u in zip(parameters, distributions, row, strict=True)
            }
            for row in unit
        ]
    return WandbSweep([flatten(copy.deepcopy(row)) for row in rows], metric, method, extra, None, count)
