"""Optuna studies without training: the mapping of recipe distributions to Optuna and back, seeded
batched asks, a resumed study asking what an uninterrupted one asks, failed trials, bad choices."""

import json
import math

import optuna
import pytest
from optuna.trial import TrialState

from hyperlax.errors import UserError
from hyperlax.run.search import Search, check_method
from hyperlax.space import (
    Beta, Categorical, Fixed, InvLogUniform, LogNormal, LogUniform, LogUniformInt, Normal, Quantized, Uniform, UniformInt,
)
from hyperlax.space.optuna_space import observed_space, recipe_space

EVERY_KIND = {
    "uniform": Uniform((0.1, 0.3)),
    "log_uniform": LogUniform((1e-5, 1e-2)),
    "inv_log_uniform": InvLogUniform((1e-3, 1e-1)),
    "int": UniformInt((2, 9)),
    "log_int": LogUniformInt((1, 512)),
    "q_int": Quantized(Uniform((0, 100)), 10),
    "q_float": Quantized(Uniform((0.0, 1.0)), 0.3),
    "normal": Normal(0.95, 0.01),
    "log_normal": LogNormal(0.0, 1.0),
    "q_normal": Quantized(Normal(10.0, 3.0), 2),
    "beta": Beta(2.0, 5.0),
    "sizes": Categorical([[64, 64], [128], (32, 32)]),
    "mixed": Categorical([1, 1.0, True, "1", None]),
    "names": Categorical(["tanh", "relu"]),
    "fixed": Fixed({"a": [1, 2]}),
    "one_value": Categorical([[8]]),
}
NUMERIC = {"x": Uniform((-2.0, 2.0)), "lr": LogUniform((1e-4, 1e-1)), "n": UniformInt((1, 8))}


def objective(sample):
    """A smooth function of NUMERIC's keys, best at x=0.5, lr=1e-2, n=5."""
    return -((sample["x"] - 0.5) ** 2) - (math.log10(sample["lr"]) + 2) ** 2 - 0.1 * (sample["n"] - 5) ** 2


def same_value(a, b):
    return type(a) is type(b) and (a == b or (isinstance(a, float) and math.isclose(a, b, rel_tol=1e-9)))


def test_every_distribution_maps_to_optuna_and_back_with_its_types():
    space = recipe_space(EVERY_KIND)
    assert set(space.fixed) == {"fixed", "one_value"} and len(space.params) == len(EVERY_KIND) - 2
    kinds = {p.key: type(p.distribution).__name__ for p in space.params}
    assert kinds["sizes"] == kinds["mixed"] == "CategoricalDistribution" and kinds["log_int"] == "IntDistribution"
    assert space.distributions["log_uniform"].log and space.distributions["inv_log_uniform"].log
    assert "normal (quantile)" in space.distributions  # searched on its quantile: the prior stays the recipe's
    for u in (0.0, 0.137, 0.5, 0.861, 1.0 - 1e-9):  # the values the recipe's distributions give...
        sample = {k: d.from_unit(u) for k, d in EVERY_KIND.items()}
        params = space.to_params(sample)
        for name, value in params.items():  # ...are Optuna params of their distributions...
            assert space.distributions[name]._contains(space.distributions[name].to_internal_repr(value)), name
        back = space.to_sample(params)  # ...and come back as the same values, of the same types
        assert list(back) == list(EVERY_KIND)
        for key in EVERY_KIND:
            assert same_value(back[key], sample[key]), (key, back[key], sample[key])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):  # what a sampler asks decodes to values of the recipe's types
        sample = space.to_sample(study.ask(space.distributions).params)
        assert type(sample["sizes"]) in (list, tuple) and sample["mixed"] in (1, 1.0, True, "1", None)
        assert isinstance(sample["q_int"], int) and sample["q_int"] % 10 == 0 and isinstance(sample["log_int"], int)
        assert sample["fixed"] == {"a": [1, 2]} and sample["one_value"] == [8]


def test_explicit_configs_record_the_keys_that_vary():
    samples = [{"lr": 1e-3, "act": "tanh", "n": 4, "same": [1]}, {"lr": 3e-3, "act": "relu", "n": 8, "same": [1]}]
    space = observed_space(samples, {"lr": LogUniform((1e-4, 1e-2))})
    assert space.fixed == {"same": [1]}
    dists = space.distributions
    assert dists["lr"].log and (dists["lr"].low, dists["lr"].high) == (1e-3, 3e-3)
    assert type(dists["n"]).__name__ == "IntDistribution" and dists["act"].choices == ("tanh", "relu")


def run_rounds(path, method, seed, rounds, batch=3, stop_after=None, tell=objective):
    """Ask `rounds` batches, telling each; with `stop_after` asks, stop there (a kill) and return."""
    search = Search(path, recipe_space(NUMERIC), "maximize", method, seed, batch)
    asked = search.asked()
    for start in range(0, rounds * batch, batch):
        known = asked[start : start + batch]
        want = batch - len(known)
        if stop_after is not None:
            want = min(want, stop_after - len(search.asked()))
        samples = known + search.ask(want)
        if len(samples) < batch:
            return None
        for i, sample in enumerate(samples, start):
            if search.state(i) == TrialState.RUNNING:
                search.report(i, 100, tell(sample) - 1.0)
                search.tell(i, tell(sample))
    return search


@pytest.mark.parametrize("method", ["tpe", "cmaes", "nsga2"])
def test_same_seed_same_samples_and_a_resumed_study_asks_the_same(tmp_path, method):
    rounds = 6  # past TPE's 10 random startup trials and NSGA-II's first generation
    whole = run_rounds(tmp_path / "a.log", method, 7, rounds).asked()
    assert run_rounds(tmp_path / "b.log", method, 7, rounds).asked() == whole
    assert run_rounds(tmp_path / "c.log", method, 8, rounds).asked() != whole
    assert run_rounds(tmp_path / "d.log", method, 7, rounds, stop_after=13) is None  # killed inside round 5
    resumed = run_rounds(tmp_path / "d.log", method, 7, rounds)
    assert resumed.asked() == whole
    trials = resumed.study.get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE] * len(whole)
    assert [t.user_attrs["sample_id"] for t in trials] == list(range(len(whole)))
    assert all(t.intermediate_values == {100: t.value - 1.0} for t in trials)


def test_gp_asks_a_batch_of_distinct_samples_and_resumes_the_same(tmp_path):
    whole = run_rounds(tmp_path / "a.log", "gp", 3, 5)
    assert run_rounds(tmp_path / "b.log", "gp", 3, 4, stop_after=11) is None
    assert run_rounds(tmp_path / "b.log", "gp", 3, 5).asked() == whole.asked()
    last = whole.asked()[-3:]  # asked together after the startup design: qLogEI spreads them
    assert len({(s["x"], s["lr"]) for s in last}) == 3


def test_tpe_learns_from_its_batches(tmp_path):
    best = lambda search: max(t.value for t in search.study.get_trials())  # noqa: E731
    learned = run_rounds(tmp_path / "tpe.log", "tpe", 0, 10, batch=4)
    startup = [objective(s) for s in learned.asked()[:12]]
    assert best(learned) > max(startup)  # the asks after the startup design found better points


def test_a_nan_result_is_a_failed_trial_and_the_sampler_goes_on(tmp_path):
    nan_when_far = lambda s: float("nan") if s["x"] < 0 else objective(s)  # noqa: E731
    search = run_rounds(tmp_path / "s.log", "tpe", 1, 6, batch=4, tell=nan_when_far)
    states = [t.state for t in search.study.get_trials()]
    assert TrialState.FAIL in states and states.count(TrialState.COMPLETE) > 10
    assert len(search.asked()) == 24
    reopened = optuna.load_study(study_name="hyperlax", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "s.log"))))
    assert [t.state for t in reopened.trials] == states


def test_pruned_and_recorded_trials(tmp_path):
    search = Search(tmp_path / "s.log", recipe_space(NUMERIC), "minimize", "tpe", 0, 2)
    first, second = search.ask(2)
    search.report(0, 10, 1.5)
    search.prune(0)
    search.finish(1, second, 2.0, [(10, 3.0), (20, float("nan"))], {"status": "finished"})
    search.finish(1, second, 9.0, [], {})  # told once: a second result is left out
    fixed = Search(tmp_path / "f.log", recipe_space(NUMERIC), "maximize")
    fixed.finish(5, first, None, [(10, 1.0)], {"status": "diverged"})
    study = optuna.load_study(study_name="hyperlax", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "s.log"))))
    pruned, told = study.trials
    assert pruned.state == TrialState.PRUNED and pruned.intermediate_values == {10: 1.5}
    assert told.state == TrialState.COMPLETE and told.value == 2.0 and told.intermediate_values == {10: 3.0}
    (recorded,) = fixed.study.trials
    assert recorded.state == TrialState.FAIL and recorded.user_attrs["sample_id"] == 5
    assert recorded.params == fixed.space.to_params(first) and recorded.user_attrs["status"] == "diverged"


def test_a_torn_last_journal_line_is_dropped(tmp_path):
    path = tmp_path / "study.log"
    run_rounds(path, "tpe", 0, 1)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"op_code": 5, "worker_id"')  # a writer killed mid-line
    search = Search(path, recipe_space(NUMERIC), "maximize", "tpe", 0, 3)
    assert path.read_bytes().startswith(whole) and b"worker_id\"{" not in path.read_bytes()
    assert len(search.asked()) == 3
    search.ask(1)
    assert len(Search(path, recipe_space(NUMERIC), "maximize", "tpe", 0, 3).asked()) == 4


@pytest.mark.parametrize(
    "method, space, batch, error, match",
    [
        ("anneal", NUMERIC, 4, ValueError, "unknown sampler 'anneal'; learning samplers are tpe, gp, cmaes, nsga2"),
        ("tpe", {"x": Fixed(1.0)}, 4, ValueError, "no key to search"),
        ("cmaes", {"a": Categorical([1, 2]), "b": Categorical(["x", "y"])}, 4, ValueError, r"every searched key is categorical \(a, b\)"),
        ("nsga2", NUMERIC, 1, ValueError, "--hparam-batch-size of at least 2"),
    ],
)
def test_bad_sampler_choices_are_clear_errors(method, space, batch, error, match):
    with pytest.raises(error, match=match):
        check_method(method, recipe_space(space), batch)


def test_gp_without_pytorch_says_how_to_install_it(monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else find_spec(name, *a))
    with pytest.raises(UserError, match=r"needs PyTorch: pip install 'hyperlax\[gp\]'"):
        check_method("gp", recipe_space(NUMERIC), 4)


def test_a_trial_killed_while_being_asked_gets_its_other_params(tmp_path):
    path = tmp_path / "study.log"
    run_rounds(path, "tpe", 0, 1)
    Search(path, recipe_space(NUMERIC), "maximize", "tpe", 0, 3).ask(1)
    create = optuna.storages.journal._storage.JournalOperation.CREATE_TRIAL
    lines = path.read_bytes().splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if json.loads(line)["op_code"] == create)
    path.write_bytes(b"".join(lines[: last + 2]))  # the trial and its first param only
    search = Search(path, recipe_space(NUMERIC), "maximize", "tpe", 0, 3)
    kept = search.study.trials[3].params
    assert len(kept) == 1
    fourth = search.asked()[3]
    assert set(fourth) == set(NUMERIC) and all(fourth[k] == v for k, v in kept.items())
    assert search.study.trials[3].user_attrs["sample_id"] == 3 and len(search.asked()) == 4
