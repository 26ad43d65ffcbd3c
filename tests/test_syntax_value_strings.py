"""Value strings: safe parsing with ast, draws, and grid / random_search / none expansion."""

import itertools

import pytest

from hyperlax.syntax import expand_value_strings, parse_candidates, parse_value


def test_lists():
    assert parse_value("[32, 64, 128]") == [32, 64, 128]
    assert parse_value("['resnet18', 'transformer', 'resnet50']") == ["resnet18", "transformer", "resnet50"]
    assert parse_value("[True, False]") == [True, False]
    assert parse_value("[adam, sgd, yes, no]") == ["adam", "sgd", True, False]
    assert parse_value("[[64, 64], (128, -1), 1e-3, None]") == [[64, 64], (128, -1), 1e-3, None]


def test_range_gives_five_values():
    assert parse_value("range(1, 10, 2)") == [1, 3, 5, 7, 9]
    assert parse_value("range(3)") == [0, 1, 2]
    assert parse_value("range(5, 2, -1)") == [5, 4, 3]


def test_uniform_draws_are_seeded():
    values = parse_value("uniform(1e-5, 1e-1, 3)")
    assert len(values) == 3 and all(isinstance(v, float) and 1e-5 <= v < 1e-1 for v in values)
    assert parse_value("uniform(1e-5, 1e-1, 3)", seed=0) == values
    assert parse_value("uniform(1e-5, 1e-1, 3)", seed=1) != values
    assert parse_value("uniform(1e-5, 1e-1, 3, seed=1)") == parse_value("uniform(1e-5, 1e-1, 3)", seed=1)


@pytest.mark.parametrize(
    "text, check",
    [
        ("uniform(-2, 3, 300)", lambda v: isinstance(v, float) and -2 <= v < 3),
        ("loguniform(1e-5, 1e-1, 300)", lambda v: isinstance(v, float) and 1e-5 <= v < 1e-1),
        ("randint(0, 3, 300)", lambda v: type(v) is int and v in (0, 1, 2)),
        ("normal(-1, 0.5, 300)", lambda v: isinstance(v, float)),
        ("lognormal(0, 1, 300)", lambda v: isinstance(v, float) and v > 0),
    ],
)
def test_draws_stay_in_their_bounds(text, check):
    values = parse_value(text)
    assert len(values) == 300 and all(check(v) for v in values)


def test_randint_high_is_exclusive_and_every_value_occurs():
    assert set(parse_value("randint(0, 3, 300)")) == {0, 1, 2}
    assert set(parse_value("randint(7, 8, 20)")) == {7}


@pytest.mark.parametrize(
    "text, value",
    [
        ("32", 32),
        ("-3", -3),
        ("0.01", 0.01),
        ("1e-2", 0.01),
        ("1", 1),
        ("0", 0),
        ("True", True),
        ("False", False),
        ("true", True),
        ("FALSE", False),
        ("yes", True),
        ("No", False),
        ("None", None),
        ("bert", "bert"),
        ("'bert'", "bert"),
        ('"bert"', "bert"),
        ("'relu(x)'", "relu(x)"),
        ("gymnax.pendulum", "gymnax.pendulum"),
        ("CartPole-v1", "CartPole-v1"),
        ("  adam  ", "adam"),
    ],
)
def test_scalars(text, value):
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_one_and_zero_are_ints_not_bools():
    assert type(parse_value("1")) is int and type(parse_value("0")) is int


def test_parse_candidates_always_gives_a_list():
    assert parse_candidates("0.1") == [0.1]
    assert parse_candidates("[1, 2]") == [1, 2]
    assert parse_candidates("range(2)") == [0, 1]


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch {marker}')",
        "[__import__('os').system('touch {marker}')]",
        "range(__import__('os').system('touch {marker}'))",
        "exec(\"open('{marker}', 'w')\")",
        "eval(\"open('{marker}', 'w')\")",
        "open('{marker}', 'w')",
        "().__class__.__bases__[0].__subclasses__()",
        "(lambda: open('{marker}', 'w'))()",
        "[open('{marker}', 'w') for _ in range(1)]",
        "uniform(0, 1, 2, seed=__import__('os').system('touch {marker}'))",
        "globals()['__builtins__']",
    ],
)
def test_injection_attempts_are_rejected_without_running(tmp_path, text):
    marker = tmp_path / "pwned"
    with pytest.raises(ValueError, match="bad value string"):
        parse_value(text.format(marker=marker))
    assert not marker.exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty value string"),
        ("[1, 2", "not valid syntax"),
        ("'unclosed", "not valid syntax"),
        ("[]", "the list is empty"),
        ("range(0)", "range is empty"),
        ("range(1, 5, 0)", "step must not be zero"),
        ("range(1.5)", "int arguments"),
        ("foo(1, 2)", "'foo' is not an allowed function"),
        ("uniform(1, 2)", r"uniform takes three numbers: uniform\(low, high, count\)"),
        ("uniform(2, 1, 3)", "low < high"),
        ("uniform(0, 1, 0)", "count .* must be a positive int"),
        ("uniform(0, 1, 2.5)", "count .* must be a positive int"),
        ("loguniform(0, 1, 3)", "positive bounds"),
        ("normal(0, -1, 3)", "std must be positive"),
        ("randint(0.5, 3, 2)", "randint needs ints"),
        ("normal(0, 1, 2, size=3)", "only a seed= keyword"),
        ("uniform(0, 1, 2, seed=-1)", "non-negative int"),
        ("uniform(True, 2, 3)", "three numbers"),
        ("[1, x.y]", "'x.y' is not a literal"),
        ("[1, 2j]", "'2j' is not a literal"),
        ("(1, 2)", "expected a list"),
        ("{'a': 1}", "expected a list"),
        ("a[0]", "expected a list"),
    ],
)
def test_malformed_strings_are_errors_naming_them(text, message):
    with pytest.raises(ValueError, match=message) as error:
        parse_value(text)
    if text:
        assert repr(text) in str(error.value)


def test_grid_is_the_product_first_key_slowest():
    configs = expand_value_strings({"alpha": "uniform(1e-5, 1e-1, 3)", "beta": "[1, 2, 3, 4]"})
    assert len(configs) == 12
    alphas = list(dict.fromkeys(c["alpha"] for c in configs))
    assert len(alphas) == 3
    assert configs == [{"alpha": a, "beta": b} for a, b in itertools.product(alphas, [1, 2, 3, 4])]


def test_grid_of_lists_ranges_and_scalars():
    configs = expand_value_strings(
        {"layers": "range(1, 10, 2)", "model": "['resnet18', 'vit']", "optim.lr": "1e-3"}
    )
    assert configs == [
        {"layers": n, "model": m, "optim.lr": 1e-3} for n in [1, 3, 5, 7, 9] for m in ["resnet18", "vit"]
    ]


def test_keys_with_the_same_draw_string_draw_independently():
    (config, *_) = expand_value_strings({"a": "uniform(0, 1, 1)", "b": "uniform(0, 1, 1)"})
    assert config["a"] != config["b"]


def test_random_search_picks_a_seeded_subset_in_grid_order():
    assignments = {"alpha": "uniform(1e-5, 1e-1, 3)", "beta": "[1, 2, 3, 4]"}
    grid = expand_value_strings(assignments, seed=5)
    chosen = expand_value_strings(assignments, "random_search", num_trials=3, seed=5)
    assert len(chosen) == 3
    positions = [grid.index(config) for config in chosen]
    assert positions == sorted(set(positions))
    assert expand_value_strings(assignments, "random_search", num_trials=3, seed=5) == chosen
    lists = {"a": "range(4)", "b": "[1, 2, 3]"}
    subsets = {str(expand_value_strings(lists, "random_search", num_trials=3, seed=s)) for s in range(5)}
    assert len(subsets) > 1
    assert len(expand_value_strings(assignments, "random_search", num_trials=12)) == 12


def test_random_search_trial_counts():
    with pytest.raises(ValueError, match="num_trials=13 is more than the grid's 12 configs"):
        expand_value_strings({"a": "range(3)", "b": "range(4)"}, "random_search", num_trials=13)
    for bad in (None, 0, -1, 2.5, True):
        with pytest.raises(ValueError, match="positive int"):
            expand_value_strings({"a": "range(3)"}, "random_search", num_trials=bad)
    with pytest.raises(ValueError, match="num_trials applies only"):
        expand_value_strings({"a": "range(3)"}, "grid", num_trials=2)


def test_strategy_none_passes_strings_through():
    assignments = {"alpha": "uniform(1e-5, 1e-1, 3)", "beta": "[1, 2, 3, 4]"}
    assert expand_value_strings(assignments, "none") == [assignments]


def test_unknown_strategy_and_bad_input_are_errors():
    with pytest.raises(ValueError, match="unknown strategy 'bayes'"):
        expand_value_strings({"a": "1"}, "bayes")
    with pytest.raises(ValueError, match=r"str -> str, got 'a': 1"):
        expand_value_strings({"a": 1})
    with pytest.raises(ValueError, match=r"^layers: bad value string '\[1, 2'"):
        expand_value_strings({"lr": "0.1", "layers": "[1, 2"})


def test_no_assignments_give_one_empty_config():
    assert expand_value_strings({}) == [{}]


def test_configs_do_not_share_values():
    configs = expand_value_strings({"layers": "[[64, 64]]", "seed": "[0, 1]"})
    configs[0]["layers"].append(1)
    assert configs[1]["layers"] == [64, 64]
