"""Early-stopping rules, decided at evaluation milestones: ASHA, Hyperband (W&B's rule) and median stopping.

An "iteration" is one evaluation milestone: a sample's curve holds its evaluations so far (the mean
over its seeds), the first one at index 0. A rule is asked, each time a sample reaches a milestone
before its last, whether to stop it; it sees every sample's curve so far (stopped and finished
ones included). Curves are compared by the metric's goal (`sign` +1 to maximize, -1 to minimize).
Rules are plain host-side objects: deterministic given the curves and the order of the questions,
and their state (ASHA's rungs) is JSON, so a resumed sweep makes the same decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from hyperlax.run.pruning import PRUNERS, OptunaPruner

RULES = ("none", "asha", "hyperband", "median")


class Rule(Protocol):
    def stops(self, sample: int, curves: dict[int, list[float]]) -> bool:
        """Whether `sample`, which has just reached milestone len(curves[sample]) - 1, stops there."""

    def state(self) -> Any:
        """JSON of what the rule remembers (for checkpoints)."""

    def restore(self, state: Any) -> None: ...


class Asha:
    """Asynchronous successive halving (Li et al. 2020), as Ray Tune's ASHAScheduler decides it.

    Rungs sit at `rungs` evaluations (grace x eta^k). A sample reaching a rung it has not been
    recorded at is compared with the values recorded there before it: it stops when it is below
    the (1 - 1/eta) quantile of them; the first sample at a rung always continues. Either way its
    value is recorded. Only the highest rung reached counts at each milestone.
    """

    def __init__(self, rungs: Sequence[int], eta: float, sign: float = 1.0):
        self.rungs, self.eta, self.sign = sorted(rungs, reverse=True), eta, sign
        self.recorded: dict[int, dict[int, float]] = {r: {} for r in self.rungs}

    def stops(self, sample: int, curves: dict[int, list[float]]) -> bool:
        curve = curves[sample]
        for rung in self.rungs:
            if len(curve) < rung or sample in self.recorded[rung]:
                continue
            value = self.sign * curve[-1]
            before = [v for v in self.recorded[rung].values() if np.isfinite(v)]
            self.recorded[rung][sample] = value
            return bool(before) and not value >= np.percentile(before, 100 * (1 - 1 / self.eta))
        return False

    def state(self) -> Any:
        return {str(rung): [[s, v] for s, v in values.items()] for rung, values in self.recorded.items()}

    def restore(self, state: Any) -> None:
        self.recorded = {int(rung): {int(s): float(v) for s, v in pairs} for rung, pairs in state.items()}


class Hyperband:
    """W&B's hyperband early termination (wandb/sweeps `hyperband_stopping`).

    Bands are evaluation counts. At each band b the threshold is the value at index int(n / eta)
    of the n samples' b-th evaluations sorted from best to worst. A sample past at least one band
    stops when its best value so far (or, `strict`, its value at the last band it passed) is worse
    than that band's threshold; it is asked again at every later milestone, as W&B polls runs.
    """

    def __init__(self, bands: Sequence[int], eta: float, strict: bool = True, sign: float = 1.0):
        self.bands, self.eta, self.strict, self.sign = sorted(bands), eta, strict, sign

    def stops(self, sample: int, curves: dict[int, list[float]]) -> bool:
        losses = {s: [-self.sign * v for v in c if np.isfinite(v)] for s, c in curves.items()}
        history = losses[sample]
        passed = [b for b in self.bands if b <= len(history)]
        if not passed:
            return False
        band = passed[-1]
        values = sorted(h[band - 1] for h in losses.values() if len(h) >= band)
        threshold = values[int(len(values) / self.eta)]
        value = history[band - 1] if self.strict else min(history)
        return value > threshold

    def state(self) -> Any:
        return None

    def restore(self, state: Any) -> None:
        pass


class Median:
    """Median stopping (Golovin et al. 2017), as Ray Tune's MedianStoppingRule decides it.

    From `grace` evaluations on, a sample stops when its best value so far is worse than the median
    of the running means (over their first as many evaluations) of the other samples that got as
    far, once at least `min_samples` such samples exist.
    """

    def __init__(self, grace: int, sign: float = 1.0, min_samples: int = 3):
        self.grace, self.sign, self.min_samples = grace, sign, min_samples

    def stops(self, sample: int, curves: dict[int, list[float]]) -> bool:
        reached = len(curves[sample])
        if reached < self.grace:
            return False
        others = [c[:reached] for s, c in curves.items() if s != sample and len(c) >= reached]
        means = [self.sign * np.mean(c) for c in others if np.all(np.isfinite(c))]
        if len(means) < self.min_samples:
            return False
        best = np.nanmax(self.sign * np.asarray(curves[sample]))
        return bool(best < np.median(means))

    def state(self) -> Any:
        return None

    def restore(self, state: Any) -> None:
        pass


def evaluations_at(milestones: Sequence[int], env_steps: float) -> int:
    """How many evaluations a sample has when it has taken at least `env_steps` env steps."""
    return next((i + 1 for i, m in enumerate(milestones) if m >= env_steps), len(milestones))


def make_rule(
    name: str,
    milestones: Sequence[int],
    grace_period: int | None,
    reduction_factor: float,
    max_budget: int | None,
    sign: float = 1.0,
    wandb: dict[str, Any] | None = None,
    pruner: str = "none",
) -> Rule | None:
    """The rule `name` over the run's milestones, W&B's hyperband rule from an `early_terminate`
    section, or Optuna's `pruner` (run/pruning.py); None for "none". Raises ValueError naming a
    bad argument."""
    if wandb is not None:
        return wandb_hyperband(wandb, len(milestones), sign)
    if name not in RULES:
        raise ValueError(f"--early-stopping {name!r} is not one of {', '.join(RULES)}")
    if pruner not in PRUNERS:
        raise ValueError(f"--pruner {pruner!r} is not one of {', '.join(PRUNERS)}")
    if name == "none" and pruner == "none":
        return None
    if reduction_factor < 2:
        raise ValueError(f"--reduction-factor must be at least 2, got {reduction_factor}")
    budget = last_milestone(milestones, max_budget)
    grace = milestones[0] if grace_period is None else grace_period
    if not 0 < grace < milestones[budget]:
        raise ValueError(
            f"--grace-period {grace} must be positive and below the budget ({milestones[budget]} env steps): "
            "no sample could be stopped"
        )
    if pruner != "none":
        return OptunaPruner(pruner, milestones, budget, grace, reduction_factor, sign)
    first = evaluations_at(milestones, grace)
    if name == "median":
        return Median(first, sign)
    rungs, steps = [], float(grace)
    while steps < milestones[budget]:  # grace x eta^k env steps, as evaluation counts
        rungs.append(evaluations_at(milestones, steps))
        steps *= reduction_factor
    rungs = sorted(set(rungs))
    if name == "asha":
        return Asha(rungs, reduction_factor, sign)
    return Hyperband(rungs, reduction_factor, strict=True, sign=sign)


def last_milestone(milestones: Sequence[int], max_budget: int | None) -> int:
    """The index of the milestone where a sample finishes: the first at or past `max_budget` env steps."""
    if max_budget is None:
        return len(milestones) - 1
    if max_budget < 1:
        raise ValueError(f"--max-budget must be a positive number of env steps, got {max_budget}")
    return evaluations_at(milestones, max_budget) - 1


def wandb_hyperband(section: dict[str, Any], num_evaluations: int, sign: float) -> Hyperband:
    """W&B's `early_terminate: {type: hyperband, min_iter | max_iter and s, eta, strict}`; an
    iteration is one evaluation milestone."""
    known = {"type", "min_iter", "max_iter", "s", "eta", "strict"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ValueError(f"early_terminate: unknown key {unknown[0]!r}; expected {', '.join(sorted(known))}")
    if section.get("type") != "hyperband":
        raise ValueError(f"early_terminate.type must be 'hyperband' (the only type W&B has), got {section.get('type')!r}")
    eta = section.get("eta", 3)
    if not isinstance(eta, (int, float)) or eta < 2:
        raise ValueError(f"early_terminate.eta must be a number of at least 2, got {eta!r}")
    if "max_iter" in section:
        if "s" not in section:
            raise ValueError("early_terminate: max_iter needs s (the number of bands)")
        bands, band = [], float(section["max_iter"])
        for _ in range(int(section["s"])):
            band /= eta
            if band < 1:
                break
            bands.append(int(band))
    elif "min_iter" in section:
        if not isinstance(section["min_iter"], int) or section["min_iter"] < 1:
            raise ValueError(f"early_terminate.min_iter must be a positive integer, got {section['min_iter']!r}")
        bands, band = [], float(section["min_iter"])
        while band <= num_evaluations:
            bands.append(int(band))
            band *= eta
    else:
        raise ValueError("early_terminate: give min_iter, or max_iter and s")
    if not bands:
        raise ValueError(f"early_terminate {section} gives no band within the run's {num_evaluations} evaluations")
    return Hyperband(bands, eta, strict=bool(section.get("strict", True)), sign=sign)
