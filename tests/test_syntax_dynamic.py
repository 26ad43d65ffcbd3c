"""DynamicValue and expand: Cartesian products of values marked inside nested configs."""

import itertools

import pytest

from hyperlax.syntax import DynamicValue, expand


def test_nested_example_gives_18_in_depth_first_order():
    config = {
        "llm": {"model": DynamicValue(["a", "b"]), "temperature": DynamicValue([0.5, 0.7, 0.9])},
        "top_k": DynamicValue([3, 5, 10]),
    }
    expected = [
        {"llm": {"model": m, "temperature": t}, "top_k": k}
        for m, t, k in itertools.product(["a", "b"], [0.5, 0.7, 0.9], [3, 5, 10])
    ]
    assert list(expand(config)) == expected
    assert len(expected) == 18


def test_static_values_pass_through():
    config = {"model": DynamicValue(["A", "B"]), "temp": DynamicValue([1, 2]), "static": "X"}
    assert list(expand(config)) == [
        {"model": "A", "temp": 1, "static": "X"},
        {"model": "A", "temp": 2, "static": "X"},
        {"model": "B", "temp": 1, "static": "X"},
        {"model": "B", "temp": 2, "static": "X"},
    ]


def test_ranges_and_generators():
    def temperatures():
        for i in range(1, 4):
            yield i / 10.0

    config = {"temperature": DynamicValue(temperatures()), "step": DynamicValue(range(1, 10, 4))}
    expected = [{"temperature": t, "step": s} for t in [0.1, 0.2, 0.3] for s in [1, 5, 9]]
    assert list(expand(config)) == expected
    assert list(expand(config)) == expected  # the generator was read once and kept


def test_a_list_of_configs_expands_each_in_order():
    shared = DynamicValue(x for x in [1, 2])
    configs = [{"a": shared}, {"b": shared, "c": DynamicValue([3])}]
    assert list(expand(configs)) == [{"a": 1}, {"a": 2}, {"b": 1, "c": 3}, {"b": 2, "c": 3}]


def test_a_config_without_dynamic_values_is_one_copy():
    config = {"a": 1, "b": {"c": [1, 2]}}
    (only,) = list(expand(config))
    assert only == config
    assert only is not config and only["b"]["c"] is not config["b"]["c"]


def test_configs_are_independent_deep_copies():
    static = [64, 64]
    configs = list(expand({"layers": static, "lr": DynamicValue([0.1, 0.2])}))
    configs[0]["layers"].append(128)
    assert configs[1]["layers"] == [64, 64]
    assert static == [64, 64]


def test_dynamic_values_inside_lists_and_values():
    config = {
        "layers": [DynamicValue([32, 64]), 16],
        "opt": DynamicValue([{"name": "sgd"}, {"name": DynamicValue(["adam", "adamw"])}]),
    }
    assert list(expand(config)) == [
        {"layers": [32, 16], "opt": {"name": "sgd"}},
        {"layers": [32, 16], "opt": {"name": "adam"}},
        {"layers": [32, 16], "opt": {"name": "adamw"}},
        {"layers": [64, 16], "opt": {"name": "sgd"}},
        {"layers": [64, 16], "opt": {"name": "adam"}},
        {"layers": [64, 16], "opt": {"name": "adamw"}},
    ]


def test_product_sizes_multiply():
    config = {f"p{i}": DynamicValue(range(n)) for i, n in enumerate([3, 5, 10, 4])}
    assert sum(1 for _ in expand(config)) == 600


def test_expand_is_a_generator():
    configs = expand({"a": DynamicValue([1, 2])})
    assert next(configs) == {"a": 1}


@pytest.mark.parametrize("values", [[], iter([]), "abc", {"a": 1}])
def test_dynamic_value_needs_a_non_empty_non_string_iterable(values):
    with pytest.raises(ValueError, match="DynamicValue needs"):
        DynamicValue(values)


def test_dynamic_value_rejects_non_iterables():
    with pytest.raises(ValueError, match="DynamicValue needs"):
        DynamicValue(5)


def test_expand_rejects_items_that_are_not_dicts():
    with pytest.raises(ValueError, match="config dict or a list"):
        list(expand([{"a": 1}, 3]))


def test_dynamic_value_is_a_frozen_value():
    value = DynamicValue(range(3))
    assert value.values == (0, 1, 2)
    assert value == DynamicValue([0, 1, 2])
    with pytest.raises(AttributeError):
        value.values = (1,)
