"""Every sweep is an Optuna study, kept in <sweep>/study.log; learning samplers ask it for samples.

The study (named "hyperlax") lives in Optuna's JournalStorage on a JournalFileBackend, an
append-only file that `optuna.load_study` and optuna-dashboard read, also while the sweep runs.
With a learning sampler, trial i is sample i, asked before it trains, told as it ends; other
sweeps add one finished trial per sample as it ends. Every trial holds its searched params with their
distributions (`optuna_space`), user attrs `sample_id` and `hyperparams` (the whole sample), its
intermediate values (the mean return over seeds at each evaluation milestone, by env steps; none
from a milestone whose return is not finite), its value (the sweep's metric) and its state:
COMPLETE, FAIL when the value is not finite (a diverged lane) or the asked config is invalid,
PRUNED when a run is stopped early.

Learning samplers, asked `--hparam-batch-size` trials at a time and told as each batch lands:
- tpe: Optuna's multivariate TPESampler with the constant liar (running trials count as bad
  ones, so one batch spreads out); the first 10 trials are its random startup design;
- gp: GPSampler (needs PyTorch), qLogEI over the running trials for a batch; 10 random startup trials;
- cmaes: CmaEsSampler, one generation per batch once the batch holds CMA-ES's default population
  (4 + 3 ln D for D numeric keys); Categorical keys are drawn at random beside it;
- nsga2: NSGAIISampler with one batch per generation (population = batch size); the first
  generation is random.
Each ask builds its sampler afresh, seeded by (sweep seed, trial number), so a sampler's state lives
only in the study (CMA-ES and NSGA-II keep theirs in trial attributes): a resumed sweep, which
reloads the journal, asks exactly the trials an uninterrupted one asks.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
from optuna.trial import TrialState

from hyperlax.errors import UserError
from hyperlax.space.optuna_space import Space

JOURNAL = "study.log"
STUDY_NAME = "hyperlax"
LEARNING_METHODS = ("tpe", "gp", "cmaes", "nsga2")
STARTUP_TRIALS = 10  # TPE's and GP's random startup design (Optuna's default)
log = logging.getLogger("hyperlax")


def quiet_optuna() -> None:
    """Optuna logs warnings only, and keeps its experimental-feature warnings to itself."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def check_method(method: str, space: Space, batch_size: int) -> None:
    """Raise a ValueError (or UserError) naming the problem if `method` cannot search `space`."""
    if method not in LEARNING_METHODS:
        raise ValueError(f"unknown sampler {method!r}; learning samplers are {', '.join(LEARNING_METHODS)}")
    if not space.params:
        raise ValueError(f"--sampling-method {method}: the search space has no key to search (every key is fixed)")
    if method == "gp" and importlib.util.find_spec("torch") is None:
        raise UserError(
            "--sampling-method gp (and W&B method: bayes) uses Optuna's GPSampler, which needs PyTorch: "
            "pip install 'hyperlax[gp]' (or torch), or choose tpe"
        )
    if method == "cmaes" and all(isinstance(p.distribution, CategoricalDistribution) for p in space.params):
        names = ", ".join(p.key for p in space.params)
        raise ValueError(f"--sampling-method cmaes searches numbers, and every searched key is categorical ({names}); use tpe or gp")
    if method == "nsga2" and batch_size < 2:
        raise ValueError(f"--sampling-method nsga2 needs a population: --hparam-batch-size of at least 2, got {batch_size}")


def make_sampler(method: str, seed: int, space: Space, batch_size: int) -> optuna.samplers.BaseSampler:
    """The seeded Optuna sampler of a learning method (see the module docstring)."""
    if method == "tpe":
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, constant_liar=True, n_startup_trials=STARTUP_TRIALS
        )
    if method == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=STARTUP_TRIALS)
    if method == "cmaes":
        numeric = sum(not isinstance(p.distribution, CategoricalDistribution) for p in space.params)
        popsize = batch_size if batch_size >= 4 + math.floor(3 * math.log(numeric)) else None
        return optuna.samplers.CmaEsSampler(seed=seed, popsize=popsize, warn_independent_sampling=False)
    if method == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=batch_size)
    raise ValueError(f"unknown sampler {method!r}; learning samplers are {', '.join(LEARNING_METHODS)}")


def trial_seed(seed: int, number: int) -> int:
    """The seed of the sampler that asks trial `number`."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def _repair(path: Path) -> None:
    """Cut a last journal line that a killed writer left unfinished (Optuna would fail on the next)."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        log.warning("%s: dropping an unfinished last line (a writer was killed while appending)", path)
        with open(path, "r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def _jsonable(sample: Mapping[str, Any]) -> dict[str, Any]:
    """The sample as JSON values (what a user attr can hold); objects JSON lacks by their str."""
    return json.loads(json.dumps(dict(sample), default=str))


class Search:
    """The sweep's study: ask samples, report intermediate values, tell, prune, or record by sample id.

    `method` is a learning sampler (asks) or None (the samples are given; `record` adds them).
    `direction` is "maximize" or "minimize".
    """

    def __init__(
        self, path: Path, space: Space, direction: str, method: str | None = None, seed: int = 0, batch_size: int = 1
    ):
        quiet_optuna()
        _repair(path)
        storage = JournalStorage(JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path))))
        if STUDY_NAME in optuna.get_all_study_names(storage):  # loading writes nothing
            self.study = optuna.load_study(study_name=STUDY_NAME, storage=storage)
        else:
            self.study = optuna.create_study(storage=storage, study_name=STUDY_NAME, direction=direction)
        self.path, self.space, self.method, self.seed, self.batch_size = path, space, method, seed, batch_size
        trials = self.study.get_trials(deepcopy=False)
        self.trial_ids = {t.user_attrs.get("sample_id", t.number): t._trial_id for t in trials}

    def asked(self) -> list[dict[str, Any]]:
        """The samples of the trials asked so far, by sample id (= trial number).

        A trial that a kill interrupted while it was being asked gets its missing params from its
        own seeded sampler now.
        """
        samples = []
        for frozen in self.study.get_trials(deepcopy=False):
            if frozen.params.keys() == self.space.distributions.keys() and "hyperparams" in frozen.user_attrs:
                samples.append(self.space.to_sample(frozen.params))
                continue
            if frozen.state == TrialState.WAITING:  # enqueued, and killed before it was asked
                self.study._storage.set_trial_state_values(frozen._trial_id, TrialState.RUNNING)
            samples.append(self._sampled(self._trial(frozen.number, frozen._trial_id)))
        return samples

    def ask(self, n: int, fixed: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Ask `n` new trials, with the `fixed` values (by key) where given; their samples, whose
        ids continue from the trials asked before."""
        params = {p.name: p.to_param(fixed[p.key]) for p in self.space.params if p.key in (fixed or {})}
        samples = []
        for _ in range(n):
            number = len(self.study.get_trials(deepcopy=False))
            self.study.sampler = make_sampler(self.method, trial_seed(self.seed, number), self.space, self.batch_size)
            if params:  # Optuna's partial fixing: the trial holds these values, the sampler draws the rest
                self.study.enqueue_trial(params)
            trial = self.study.ask()
            self.trial_ids[trial.number] = trial._trial_id
            samples.append(self._sampled(trial))
        return samples

    def _trial(self, number: int, trial_id: int) -> optuna.trial.Trial:
        """A live handle on an existing trial, its sampler seeded as when it was asked."""
        self.study.sampler = make_sampler(self.method, trial_seed(self.seed, number), self.space, self.batch_size)
        return optuna.trial.Trial(self.study, trial_id)

    def _sampled(self, trial: optuna.trial.Trial) -> dict[str, Any]:
        """Suggest every searched param of the trial (kept if already set) and record its sample."""
        params = {name: trial._suggest(name, distribution) for name, distribution in self.space.distributions.items()}
        sample = self.space.to_sample(params)
        trial.set_user_attr("sample_id", trial.number)
        trial.set_user_attr("hyperparams", _jsonable(sample))
        return sample

    def state(self, sample_id: int) -> TrialState | None:
        """The state of the sample's trial, None if it has none."""
        trial_id = self.trial_ids.get(sample_id)
        return None if trial_id is None else self.study._storage.get_trial(trial_id).state

    def report(self, sample_id: int, step: int, value: float) -> None:
        """An intermediate value of the sample's running trial (skipped when not finite, or with no running trial)."""
        if math.isfinite(value) and self.state(sample_id) == TrialState.RUNNING:
            self.study._storage.set_trial_intermediate_value(self.trial_ids[sample_id], int(step), float(value))

    def tell(self, sample_id: int, value: float | None, attrs: Mapping[str, Any] | None = None) -> None:
        """Finish a running trial: COMPLETE with `value`, FAIL when it is None or not finite."""
        trial_id = self.trial_ids[sample_id]
        for name, attr in (attrs or {}).items():
            self.study._storage.set_trial_user_attr(trial_id, name, attr)
        number = self.study._storage.get_trial_number_from_id(trial_id)
        if value is None or not math.isfinite(value):
            self.study.tell(number, state=TrialState.FAIL)
        else:
            self.study.tell(number, float(value))

    def prune(self, sample_id: int) -> None:
        """Finish a running trial as PRUNED (a run stopped early)."""
        self.study.tell(self.study._storage.get_trial_number_from_id(self.trial_ids[sample_id]), state=TrialState.PRUNED)

    def record(
        self,
        sample_id: int,
        sample: Mapping[str, Any],
        value: float | None,
        intermediate: Iterable[tuple[int, float]] = (),
        attrs: Mapping[str, Any] | None = None,
    ) -> None:
        """Add the finished trial of a given (not asked) sample: PRUNED when it was stopped early
        (`attrs` status "stopped"), else COMPLETE, or FAIL without a finite value."""
        pruned = (attrs or {}).get("status") == "stopped"
        failed = not pruned and (value is None or not math.isfinite(value))
        trial = optuna.trial.create_trial(
            state=TrialState.PRUNED if pruned else TrialState.FAIL if failed else TrialState.COMPLETE,
            value=None if failed or pruned else float(value),
            params=self.space.to_params(sample),
            distributions=self.space.distributions,
            intermediate_values={int(s): float(v) for s, v in intermediate if math.isfinite(v)},
            user_attrs={"sample_id": sample_id, "hyperparams": _jsonable(sample), **(attrs or {})},
        )
        self.study.add_trial(trial)
        self.trial_ids[sample_id] = self.study.get_trials(deepcopy=False)[-1]._trial_id

    def finish(
        self,
        sample_id: int,
        sample: Mapping[str, Any],
        value: float | None,
        intermediate: Iterable[tuple[int, float]],
        attrs: Mapping[str, Any],
    ) -> None:
        """Record a sample's result once: tell its running trial, or add a trial for a given sample;
        a sample whose trial is finished already is left as it is."""
        state = self.state(sample_id)
        if state is None:
            self.record(sample_id, sample, value, intermediate, attrs)
        elif state == TrialState.RUNNING:
            for step, v in intermediate:
                self.report(sample_id, step, v)
            if attrs.get("status") == "stopped":
                for name, attr in attrs.items():
                    self.study._storage.set_trial_user_attr(self.trial_ids[sample_id], name, attr)
                self.prune(sample_id)
            else:
                self.tell(sample_id, value, attrs)
