"""Hyperparameter importance: an Optuna study built from the finished samples, and its evaluators."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any, Mapping

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator

from hyperlax.space import Categorical, Distribution, LogNormal, LogUniform, LogUniformInt

LOG_DISTRIBUTIONS = (LogUniform, LogUniformInt, LogNormal)
EVALUATORS = {"fANOVA": lambda: FanovaImportanceEvaluator(seed=0), "PED-ANOVA": PedAnovaImportanceEvaluator}


def is_numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def encode(value: Any) -> Any:
    """A value Optuna accepts as a categorical choice: scalars as they are, others (lists) as JSON."""
    return value if value is None or isinstance(value, (bool, int, float, str)) else json.dumps(value)


def short_names(keys: list[str]) -> dict[str, str]:
    """Key -> its shortest dotted suffix that no other key ends with ("algorithm.hyperparam.gamma" -> "gamma")."""
    names = {}
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            suffix = ".".join(parts[-n:])
            if not any(other != key and (other == suffix or other.endswith("." + suffix)) for other in keys):
                break
        names[key] = suffix
    return names


def optuna_distribution(values: list[Any], distribution: Distribution | None) -> BaseDistribution:
    """The Optuna distribution of a key with these observed values and recipe distribution (None: none)."""
    if isinstance(distribution, Categorical) or not all(is_numeric(v) for v in values):
        return CategoricalDistribution(list(dict.fromkeys(encode(v) for v in values)))
    log = isinstance(distribution, LOG_DISTRIBUTIONS)
    if all(isinstance(v, int) for v in values):
        return IntDistribution(min(values), max(values), log=log)
    return FloatDistribution(min(values), max(values), log=log)


def build_study(
    rows: list[dict[str, Any]], keys: list[str], distributions: Mapping[str, Distribution], metric: str
) -> optuna.Study:
    """A maximizing study with one completed trial per row whose `metric` is finite; params by short name."""
    rows = [r for r in rows if math.isfinite(r[metric])]
    names = short_names(keys)
    dists = {names[k]: optuna_distribution([r["hyperparams"][k] for r in rows], distributions.get(k)) for k in keys}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    study.add_trials(
        optuna.trial.create_trial(
            params={names[k]: encode(r["hyperparams"][k]) for k in keys}, distributions=dists, value=r[metric]
        )
        for r in rows
    )
    return study


def importances(study: optuna.Study) -> dict[str, dict[str, float] | str]:
    """Per evaluator: key -> importance (summing to 1), or why it could not be computed."""
    found: dict[str, dict[str, float] | str] = {}
    for name, make in EVALUATORS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                found[name] = {k: float(v) for k, v in optuna.importance.get_param_importances(study, evaluator=make()).items()}
        except (ValueError, RuntimeError) as err:
            found[name] = f"not available: {err}"
    return found
