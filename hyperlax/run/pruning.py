"""Optuna's pruners as early-stopping rules: `--pruner median|hyperband|sha`.

Each unit decides on an in-memory Optuna study of its own samples, one trial per sample in the
order they first reach a milestone: every evaluation (the mean over seeds) is reported at its env
steps, a sample that reaches its last milestone completes with its last evaluation, one that
diverges fails, and one the pruner stops is pruned. The pruner sees exactly what Optuna's
`trial.should_prune()` would show it. Every change to that study is logged as JSON, and the
checkpoint keeps the log: a resumed unit replays it into a fresh study, so it makes the same
decisions. The sweep's journal (study.log) receives the same evaluations, beside its trials.

Optuna's defaults, with the run's budget in env steps:
- median: MedianPruner, no stop before `grace` env steps nor before 5 samples completed;
- sha: SuccessiveHalvingPruner, rungs at grace x eta^k env steps (ASHA's rungs);
- hyperband: HyperbandPruner from grace to the budget's env steps, brackets of eta.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.trial import TrialState

PRUNERS = ("none", "median", "hyperband", "sha")


def make_pruner(name: str, grace: int, eta: float, budget: int) -> optuna.pruners.BasePruner:
    """Optuna's pruner `name` with its first decision at `grace` env steps and `budget` env steps in all."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_warmup_steps=grace)
    if name in ("sha", "hyperband") and not float(eta).is_integer():
        raise ValueError(f"--pruner {name} needs a whole --reduction-factor (Optuna's rungs are eta^k), got {eta}")
    if name == "sha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=grace, reduction_factor=int(eta))
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=grace, max_resource=budget, reduction_factor=int(eta))
    raise ValueError(f"--pruner {name!r} is not one of {', '.join(PRUNERS)}")


class OptunaPruner:
    """A stopping rule (run/stopping.py's Rule) that asks an Optuna pruner."""

    def __init__(self, name: str, milestones: Sequence[int], last: int, grace: int, eta: float, sign: float = 1.0):
        self.name, self.milestones, self.last, self.grace, self.eta = name, list(milestones), last, grace, eta
        self.direction = "maximize" if sign > 0 else "minimize"
        make_pruner(name, grace, eta, self.milestones[last])  # a bad argument fails here, before any work
        self.log: list[list[Any]] = []
        self.study: optuna.Study | None = None  # made on first use: a rule is copied for each unit

    def _start(self) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study = optuna.create_study(
            storage=optuna.storages.InMemoryStorage(), study_name="hyperlax", direction=self.direction,
            sampler=optuna.samplers.RandomSampler(seed=0),  # asks no parameter: trials only hold evaluations
            pruner=make_pruner(self.name, self.grace, self.eta, self.milestones[self.last]),
        )
        self.trials: dict[int, int] = {}  # sample -> trial id
        self.reported: dict[int, int] = {}  # sample -> evaluations reported
        self.log = []

    def _apply(self, event: list[Any]) -> bool:
        """Carry out one logged change to the study; a "prune?" event returns the pruner's answer."""
        self.log.append(event)
        kind, sample = event[0], event[1]
        storage = self.study._storage
        if kind == "trial":
            self.trials[sample] = self.study.ask()._trial_id
            self.reported[sample] = 0
        elif kind == "report":
            storage.set_trial_intermediate_value(self.trials[sample], event[2], event[3])
            self.reported[sample] += 1
        elif kind == "prune?":
            return self.study.pruner.prune(self.study, storage.get_trial(self.trials[sample]))
        else:  # "end": complete, fail or prune the trial
            state, value = TrialState[event[2]], event[3]
            storage.set_trial_state_values(self.trials[sample], state, None if value is None else [value])
        return False

    def stops(self, sample: int, curves: dict[int, list[float]]) -> bool:
        if self.study is None:
            self._start()
        for other in sorted(curves):
            self._sync(other, curves[other])
        if self._state(sample) != TrialState.RUNNING:  # it just completed or failed
            return False
        if not self._apply(["prune?", sample]):
            return False
        self._apply(["end", sample, "PRUNED", None])
        return True

    def _state(self, sample: int) -> TrialState:
        return self.study._storage.get_trial(self.trials[sample]).state

    def _sync(self, sample: int, curve: list[float]) -> None:
        """Report the sample's new evaluations; complete it at its last milestone, fail it when one is not finite."""
        if sample not in self.trials:
            self._apply(["trial", sample])
        if self._state(sample) != TrialState.RUNNING:
            return
        for index in range(self.reported[sample], len(curve)):
            value = float(curve[index])
            if not math.isfinite(value):
                self._apply(["end", sample, "FAIL", None])
                return
            self._apply(["report", sample, self.milestones[index], value])
        if len(curve) > self.last:
            self._apply(["end", sample, "COMPLETE", float(curve[self.last])])

    def state(self) -> Any:
        return self.log

    def restore(self, state: Any) -> None:
        self._start()
        for event in state:
            self._apply(event)
