"""W&B-style sweeps: parameter forms, grid / random / bayes, run_cap, metric, extra keys."""

import itertools
import math

import pytest

from hyperlax.space import Categorical, LogUniform, Uniform
from hyperlax.syntax import WandbSweep, load_wandb_sweep

REFERENCE_YAML = """\
program: train.py
method: grid
metric:
  name: loss
  goal: minimize
parameters:
  learning_rate:
    distribution: categorical
    values:
      - 0.1
      - 0.2
      - 0.3
"""


def test_reference_yaml_file(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(REFERENCE_YAML)
    sweep = load_wandb_sweep(path)
    assert sweep == WandbSweep(
        configs=[{"learning_rate": 0.1}, {"learning_rate": 0.2}, {"learning_rate": 0.3}],
        metric={"name": "loss", "goal": "minimize"},
        method="grid",
        extra={},
    )
    assert load_wandb_sweep(str(path)) == sweep


def test_reference_dict():
    sweep = load_wandb_sweep(
        {
            "method": "grid",
            "metric": {"name": "accuracy", "goal": "maximize"},
            "parameters": {"learn_rate": {"values": [0.1, 0.2, 0.3]}},
        }
    )
    assert sweep.configs == [{"learn_rate": 0.1}, {"learn_rate": 0.2}, {"learn_rate": 0.3}]
    assert sweep.metric == {"name": "accuracy", "goal": "maximize"}


def test_grid_is_every_combination_first_key_slowest():
    sweep = load_wandb_sweep(
        {
            "method": "grid",
            "parameters": {
                "optimizer": {"values": ["adam", "sgd"]},
                "layers": {"distribution": "int_uniform", "min": 1, "max": 3},
                "gamma": {"value": 0.99},
                "clip": {"distribution": "constant", "value": 0.5},
            },
        }
    )
    assert sweep.configs == [
        {"optimizer": o, "layers": n, "gamma": 0.99, "clip": 0.5}
        for o, n in itertools.product(["adam", "sgd"], [1, 2, 3])
    ]


def test_nested_parameters_give_dotted_keys():
    sweep = load_wandb_sweep(
        {
            "method": "grid",
            "parameters": {
                "lr": {"values": [0.1, 0.2]},
                "optim": {
                    "parameters": {
                        "name": {"values": ["adam", "sgd"]},
                        "betas": {"parameters": {"b1": {"value": 0.9}}},
                    }
                },
            },
        }
    )
    assert sweep.configs == [
        {"lr": lr, "optim.name": name, "optim.betas.b1": 0.9}
        for lr, name in itertools.product([0.1, 0.2], ["adam", "sgd"])
    ]


def test_dict_values_are_flattened():
    sweep = load_wandb_sweep(
        {"method": "grid", "parameters": {"opt": {"values": [{"name": "sgd", "lr": 0.1}, {"name": "adam"}]}}}
    )
    assert sweep.configs == [{"opt.name": "sgd", "opt.lr": 0.1}, {"opt.name": "adam"}]


def test_grid_names_continuous_parameters():
    config = {
        "method": "grid",
        "parameters": {
            "lr": {"min": 0.001, "max": 0.1},
            "n": {"values": [1]},
            "wd": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2},
        },
    }
    with pytest.raises(
        ValueError,
        match=r"method 'grid' needs finite parameters.*'lr' \(uniform\), 'wd' \(log_uniform_values\)",
    ):
        load_wandb_sweep(config)


def test_run_cap_and_num_samples_cap_the_grid():
    config = {
        "method": "grid",
        "run_cap": 4,
        "parameters": {"a": {"values": [1, 2, 3]}, "b": {"values": [1, 2]}},
    }
    assert load_wandb_sweep(config).configs == [
        {"a": 1, "b": 1},
        {"a": 1, "b": 2},
        {"a": 2, "b": 1},
        {"a": 2, "b": 2},
    ]
    assert len(load_wandb_sweep(config, num_samples=2).configs) == 2
    assert len(load_wandb_sweep({**config, "run_cap": 100}).configs) == 6


RANDOM = {
    "method": "random",
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
        "batch": {"values": [32, 64]},
        "optim": {"parameters": {"eps": {"distribution": "uniform", "min": 0.0, "max": 1.0}}},
    },
}


def test_random_is_seeded():
    first = load_wandb_sweep(RANDOM, num_samples=5, seed=3)
    assert load_wandb_sweep(RANDOM, num_samples=5, seed=3) == first
    assert load_wandb_sweep(RANDOM, num_samples=5, seed=4).configs != first.configs
    assert [list(config) for config in first.configs] == [["lr", "batch", "optim.eps"]] * 5
    assert first.method == "random" and first.metric is None


def test_random_count_comes_from_run_cap_or_num_samples():
    assert len(load_wandb_sweep({**RANDOM, "run_cap": 7}).configs) == 7
    assert len(load_wandb_sweep(RANDOM, num_samples=9).configs) == 9
    assert len(load_wandb_sweep({**RANDOM, "run_cap": 7}, num_samples=9).configs) == 7
    assert len(load_wandb_sweep({**RANDOM, "run_cap": 7}, num_samples=3).configs) == 3
    with pytest.raises(
        ValueError, match=r"method 'random' needs a count: set run_cap .* or pass num_samples"
    ):
        load_wandb_sweep(RANDOM)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_counts_must_be_positive_ints(bad):
    with pytest.raises(ValueError, match="run_cap must be a positive int"):
        load_wandb_sweep({**RANDOM, "run_cap": bad})
    with pytest.raises(ValueError, match="num_samples must be a positive int"):
        load_wandb_sweep(RANDOM, num_samples=bad)


def test_bayes_gives_the_distributions_to_ask_and_needs_a_count_and_a_metric():
    metric = {"name": "final_return", "goal": "maximize"}
    sweep = load_wandb_sweep({**RANDOM, "method": "bayes", "metric": metric}, num_samples=3)
    assert sweep.configs == [] and sweep.count == 3 and sweep.method == "bayes"
    assert sweep.distributions == {
        "lr": LogUniform((1e-5, 1e-1)), "batch": Categorical([32, 64]), "optim.eps": Uniform((0.0, 1.0))
    }
    with pytest.raises(ValueError, match="method 'bayes' needs a count"):
        load_wandb_sweep({**RANDOM, "method": "bayes", "metric": metric})
    with pytest.raises(ValueError, match="method 'bayes' needs the metric to learn from"):
        load_wandb_sweep({**RANDOM, "method": "bayes"}, num_samples=3)


@pytest.mark.parametrize("method", [None, "hyperband", "Grid"])
def test_unknown_or_missing_method(method):
    config = {"parameters": {"a": {"value": 1}}} | ({"method": method} if method else {})
    with pytest.raises(ValueError, match="sweep method must be one of grid, random, bayes"):
        load_wandb_sweep(config)


def test_metric():
    base = {"method": "grid", "parameters": {"a": {"value": 1}}}
    assert load_wandb_sweep({**base, "metric": {"name": "return"}}).metric == {
        "name": "return",
        "goal": "minimize",
    }
    assert load_wandb_sweep({**base, "metric": {"name": "r", "goal": "maximize", "target": 500}}).metric == {
        "name": "r",
        "goal": "maximize",
        "target": 500,
    }
    with pytest.raises(ValueError, match="goal must be minimize or maximize, got 'max'"):
        load_wandb_sweep({**base, "metric": {"name": "r", "goal": "max"}})
    with pytest.raises(ValueError, match="metric needs a name"):
        load_wandb_sweep({**base, "metric": {"goal": "maximize"}})
    with pytest.raises(ValueError, match="metric: unexpected foo"):
        load_wandb_sweep({**base, "metric": {"name": "r", "foo": 1}})


def test_other_top_level_keys_are_extra():
    sweep = load_wandb_sweep(
        {
            "name": "s",
            "description": "d",
            "program": "train.py",
            "method": "grid",
            "parameters": {"a": {"value": 1}},
            "algo": "ppo_mlp",
            "env": "gymnax.pendulum",
            "num_seeds": 3,
        }
    )
    assert sweep.extra == {"algo": "ppo_mlp", "env": "gymnax.pendulum", "num_seeds": 3}


def test_yaml_exponent_floats_are_numbers(tmp_path):
    path = tmp_path / "sweep.yml"
    path.write_text(
        "method: random\nrun_cap: 50\nparameters:\n"
        "  lr:\n    distribution: log_uniform_values\n    min: 1e-5\n    max: 1e-2\n"
    )
    assert all(1e-5 <= c["lr"] < 1e-2 for c in load_wandb_sweep(path).configs)


def _in(low, high, kind=float):
    return lambda v: type(v) is kind and low <= v <= high


@pytest.mark.parametrize(
    "spec, check",
    [
        ({"values": ["a", "b", "c"]}, lambda v: v in ("a", "b", "c")),
        ({"distribution": "categorical", "values": [1, 2]}, lambda v: v in (1, 2)),
        ({"value": 7}, lambda v: v == 7),
        ({"distribution": "constant", "value": [1]}, lambda v: v == [1]),
        ({"distribution": "int_uniform", "min": -2, "max": 2}, _in(-2, 2, int)),
        ({"min": 3, "max": 5}, _in(3, 5, int)),
        ({"min": 0.5, "max": 1.5}, lambda v: type(v) is float and 0.5 <= v < 1.5),
        ({"distribution": "uniform", "min": -1, "max": 1}, lambda v: type(v) is float and -1 <= v < 1),
        (
            {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.25},
            lambda v: _in(0, 1)(v) and (v / 0.25).is_integer(),
        ),
        (
            {"distribution": "q_uniform", "min": 0.6, "max": 9.4},
            lambda v: _in(1.0, 9.0)(v) and v.is_integer(),
        ),
        (
            {"distribution": "q_uniform", "min": 16, "max": 256, "q": 16},
            lambda v: _in(16, 256, int)(v) and v % 16 == 0,
        ),
        (
            {"distribution": "log_uniform", "min": -5, "max": 0},
            lambda v: type(v) is float and math.exp(-5) * (1 - 1e-12) <= v < 1,
        ),
        (
            {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
            lambda v: type(v) is float and 1e-4 <= v < 1e-1,
        ),
        (
            {"distribution": "inv_log_uniform_values", "min": 0.5, "max": 0.999},
            lambda v: type(v) is float and 0.5 < v <= 0.999 * (1 + 1e-12),
        ),
        ({"distribution": "normal", "mu": 3, "sigma": 0.1}, lambda v: type(v) is float and 2 < v < 4),
        ({"distribution": "normal"}, lambda v: type(v) is float and -7 < v < 7),
        ({"distribution": "q_normal", "mu": 0, "sigma": 10, "q": 5}, lambda v: type(v) is int and v % 5 == 0),
        ({"distribution": "q_normal", "mu": 0, "sigma": 1}, lambda v: type(v) is float and v.is_integer()),
        ({"distribution": "log_normal", "mu": 0, "sigma": 1}, lambda v: type(v) is float and v > 0),
        (
            {"distribution": "q_log_normal", "mu": 2, "sigma": 1, "q": 2},
            lambda v: type(v) is int and v >= 0 and v % 2 == 0,
        ),
        ({"distribution": "beta", "a": 2, "b": 5}, _in(0.0, 1.0)),
        ({"distribution": "beta"}, _in(0.0, 1.0)),
    ],
)
def test_every_distribution_stays_in_its_bounds(spec, check):
    values = [
        c["x"]
        for c in load_wandb_sweep(
            {"method": "random", "parameters": {"x": spec}}, num_samples=300, seed=1
        ).configs
    ]
    bad = [v for v in values if not check(v)]
    assert not bad


def test_distributions_match_their_definitions_on_average():
    def draws(spec):
        return [
            c["x"]
            for c in load_wandb_sweep(
                {"method": "random", "parameters": {"x": spec}}, num_samples=2000
            ).configs
        ]

    mean_log = (
        sum(math.log(v) for v in draws({"distribution": "inv_log_uniform_values", "min": 1e-4, "max": 1.0}))
        / 2000
    )
    assert mean_log == pytest.approx(math.log(1e-2), abs=0.2)  # log-uniform: mean of log at the middle
    assert sum(draws({"distribution": "beta", "a": 2, "b": 6})) / 2000 == pytest.approx(0.25, abs=0.02)
    assert sum(draws({"distribution": "log_uniform", "min": 0, "max": 2})) / 2000 == pytest.approx(
        (math.e**2 - 1) / 2, rel=0.05
    )


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"distribution": "uniform", "min": 0.1}, r"parameter 'lr': uniform needs max"),
        ({"min": 0.1}, r"parameter 'lr': uniform needs max"),
        ({"distribution": "q_uniform"}, r"parameter 'lr': q_uniform needs min and max"),
        (
            {"distribution": "gaussian", "mu": 0},
            r"parameter 'lr': unknown distribution 'gaussian'; expected one of constant, categorical",
        ),
        (
            {"distribution": "uniform", "min": 0, "max": 1, "q": 2},
            r"parameter 'lr': unexpected q for uniform; it takes min, max",
        ),
        ({"distribution": "uniform", "values": [1]}, r"parameter 'lr': unexpected values for uniform"),
        (
            {"distribution": "uniform", "min": "1e-5", "max": 1},
            r"parameter 'lr': min must be a number, got '1e-5'",
        ),
        (
            {"distribution": "uniform", "min": 1, "max": 0},
            r"parameter 'lr' \(uniform\): domain needs low < high",
        ),
        (
            {"distribution": "int_uniform", "min": 0.5, "max": 3},
            r"parameter 'lr' \(int_uniform\): domain bounds must be integers",
        ),
        (
            {"distribution": "log_uniform_values", "min": 0, "max": 1},
            r"parameter 'lr' \(log_uniform_values\): .*positive",
        ),
        (
            {"distribution": "inv_log_uniform_values", "min": -1, "max": 1},
            r"parameter 'lr' \(inv_log_uniform_values\): .*positive",
        ),
        ({"distribution": "q_normal", "q": 0}, r"parameter 'lr' \(q_normal\): q must be a positive number"),
        ({"distribution": "normal", "sigma": 0}, r"parameter 'lr' \(normal\): std must be positive"),
        ({"distribution": "beta", "a": 0}, r"parameter 'lr' \(beta\): beta needs positive a and b"),
        ({"values": []}, r"parameter 'lr' \(categorical\): Categorical needs a non-empty list"),
        ({"values": 3}, r"parameter 'lr' \(categorical\): Categorical needs a non-empty list"),
        ({"distribution": "constant"}, r"parameter 'lr': constant needs value"),
        ({"q": 1}, r"parameter 'lr': give values, value, min/max or a distribution"),
        (0.1, r"parameter 'lr' must be a mapping"),
        (
            {"parameters": {"a": {"value": 1}}, "values": [1]},
            r"parameter 'lr': nested parameters take no other fields",
        ),
        ({"parameters": {}}, r"parameter 'lr': 'parameters' must be a non-empty mapping"),
        (
            {"distribution": "log_uniform", "min": 0, "max": 1000},
            r"parameter 'lr' \(log_uniform\): bounds too large",
        ),
        (
            {"parameters": {"a": {"min": 1}}},
            r"parameter 'lr\.a': uniform needs max",
        ),
    ],
)
def test_bad_parameters_are_errors_naming_the_key(spec, message):
    with pytest.raises(ValueError, match=message):
        load_wandb_sweep({"method": "random", "parameters": {"lr": spec}}, num_samples=2)


def test_bad_sweep_configs():
    with pytest.raises(ValueError, match="'parameters' must be a non-empty mapping"):
        load_wandb_sweep({"method": "grid"})
    with pytest.raises(ValueError, match=r"'a\.b' is given twice"):
        load_wandb_sweep(
            {"method": "grid", "parameters": {"a.b": {"value": 1}, "a": {"parameters": {"b": {"value": 2}}}}}
        )
    with pytest.raises(ValueError, match="must be a mapping, got list"):
        load_wandb_sweep([1, 2])


def test_configs_are_plain_python_values():
    sweep = load_wandb_sweep(
        {**RANDOM, "parameters": {**RANDOM["parameters"], "n": {"min": 1, "max": 4}}}, num_samples=4
    )
    for config in sweep.configs:
        assert type(config) is dict
        assert {type(v) for v in config.values()} <= {int, float}
