"""piter: zip, product, set, repeat, concatenation, laziness and independence of configs."""

import itertools

import pytest

from hyperlax.syntax import PIter, piter


def test_zip_pairs_the_lists_of_one_dict():
    configs = list(piter @ {"lr": [0.001, 0.01], "batch_size": [32, 64]})
    assert configs == [{"lr": 0.001, "batch_size": 32}, {"lr": 0.01, "batch_size": 64}]


def test_zip_broadcasts_scalars_and_tuples():
    configs = list(piter @ {"lr": [0.1, 0.2], "seed": 7, "shape": (64, 64)})
    assert configs == [
        {"lr": 0.1, "seed": 7, "shape": (64, 64)},
        {"lr": 0.2, "seed": 7, "shape": (64, 64)},
    ]
    assert list(piter @ {"seed": 1, "env": "cartpole"}) == [{"seed": 1, "env": "cartpole"}]


def test_zip_sweeps_ranges():
    assert list(piter @ {"n": range(3)}) == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_zip_of_unequal_lengths_is_an_error_naming_the_keys():
    with pytest.raises(ValueError, match=r"equal lengths.*lr: 2.*batch_size: 3"):
        piter @ {"lr": [0.001, 0.01], "batch_size": [32, 64, 128]}


def test_empty_list_is_an_error_naming_the_key():
    with pytest.raises(ValueError, match="'lr' has an empty list"):
        piter @ {"lr": []}
    with pytest.raises(ValueError, match="'batch_size'"):
        piter @ {"lr": [1]} * {"batch_size": []}


def test_nested_dicts_are_flattened_to_dotted_keys():
    configs = list(piter @ {"optim": {"lr": [1, 2], "eps": 1e-8}} % {"net": {"width": 64}})
    assert configs == [
        {"optim.lr": 1, "optim.eps": 1e-8, "net.width": 64},
        {"optim.lr": 2, "optim.eps": 1e-8, "net.width": 64},
    ]


def test_product_left_side_varies_slowest():
    configs = list(piter @ {"lr": [0.001, 0.01]} * {"batch_size": [32, 64]})
    assert configs == [
        {"lr": 0.001, "batch_size": 32},
        {"lr": 0.001, "batch_size": 64},
        {"lr": 0.01, "batch_size": 32},
        {"lr": 0.01, "batch_size": 64},
    ]


def test_three_way_product():
    configs = list(piter @ {"lr": [0.001, 0.01]} * {"batch_size": [32, 64]} * {"model": ["resnet", "vit"]})
    expected = [
        {"lr": lr, "batch_size": bs, "model": m}
        for lr, bs, m in itertools.product([0.001, 0.01], [32, 64], ["resnet", "vit"])
    ]
    assert configs == expected


def test_product_right_side_wins_a_key_clash():
    configs = list(piter @ {"lr": [1, 2], "seed": 0} * {"seed": [5, 6]})
    assert configs == [
        {"lr": 1, "seed": 5},
        {"lr": 1, "seed": 6},
        {"lr": 2, "seed": 5},
        {"lr": 2, "seed": 6},
    ]


def test_dict_on_the_left_of_a_product():
    assert list({"a": [1, 2]} * (piter @ {"b": [3]})) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]


def test_set_adds_and_overrides_without_sweeping():
    configs = list(piter @ {"lr": [0.001, 0.01], "seed": 1} % {"seed": 42, "layers": [64, 64]})
    assert configs == [
        {"lr": 0.001, "seed": 42, "layers": [64, 64]},
        {"lr": 0.01, "seed": 42, "layers": [64, 64]},
    ]


def test_repeat_gives_each_config_n_times_in_a_row():
    configs = list((piter @ {"lr": [0.001, 0.01]}) ** 3)
    assert configs == [{"lr": 0.001}] * 3 + [{"lr": 0.01}] * 3


def test_complex_composition_gives_36_configs_in_order():
    experiments = (
        (piter @ {"lr": [0.001, 0.01, 0.1]} * {"batch_size": [32, 64]} * {"model": ["resnet", "vit"]})
        % {"seed": 42}
    ) ** 3
    expected = [
        {"lr": lr, "batch_size": bs, "model": m, "seed": 42}
        for lr, bs, m in itertools.product([0.001, 0.01, 0.1], [32, 64], ["resnet", "vit"])
        for _ in range(3)
    ]
    assert len(experiments) == 36
    assert list(experiments) == expected


def test_unparenthesised_repeat_binds_to_the_dict_and_raises_type_error():
    with pytest.raises(TypeError):
        piter @ {"lr": [0.001, 0.01]} % {"seed": 42} ** 3


@pytest.mark.parametrize("count", [0, -1, 2.5, True, "3", None])
def test_repeat_count_must_be_a_positive_int(count):
    with pytest.raises(ValueError, match="positive int"):
        (piter @ {"lr": [1]}) ** count


def test_plus_concatenates():
    sweep = (piter @ {"lr": [1, 2]}) + (piter @ {"lr": [3], "seed": 0})
    assert len(sweep) == 3
    assert list(sweep) == [{"lr": 1}, {"lr": 2}, {"lr": 3, "seed": 0}]
    assert list({"x": [0]} + (piter @ {"x": [1]})) == [{"x": 0}, {"x": 1}]
    assert list((piter @ {"x": [1]}) + {"x": [2]}) == [{"x": 1}, {"x": 2}]


def test_len_matches_iteration():
    sweep = ((piter @ {"a": [1, 2, 3]} * {"b": [1, 2]}) + (piter @ {"a": [9]})) ** 2
    assert len(sweep) == len(list(sweep)) == 14


def test_sweeps_are_reiterable():
    sweep = piter @ {"a": [1, 2]} * {"b": [3, 4]}
    assert list(sweep) == list(sweep)


def test_operands_that_are_not_dicts_or_sweeps_raise_type_error():
    with pytest.raises(TypeError):
        piter @ [1, 2]
    with pytest.raises(TypeError):
        (piter @ {"a": [1]}) * 3
    with pytest.raises(TypeError):
        (piter @ {"a": [1]}) % [1]


class _Counted:
    """A value that counts how often configs holding it are built (each build deep-copies it)."""

    copies = 0

    def __deepcopy__(self, memo):
        _Counted.copies += 1
        return self


def test_iteration_is_lazy():
    _Counted.copies = 0
    sweep = (
        piter @ {"x": [_Counted() for _ in range(1000)]} * {"y": list(range(1000))} * {"z": list(range(1000))}
    )
    assert len(sweep) == 10**9
    assert _Counted.copies == 0
    first = next(iter(sweep))
    assert first["y"] == 0 and first["z"] == 0
    assert _Counted.copies == 1


def test_configs_are_independent_copies():
    layers = [64, 64]
    sweep = (piter @ {"layers": [layers], "lr": [0.1]} * {"seed": [0, 1]}) ** 2
    configs = list(sweep)
    configs[0]["layers"].append(128)
    configs[0]["lr"] = 9
    assert all(config["layers"] == [64, 64] for config in configs[1:])
    assert layers == [64, 64]
    assert next(iter(sweep)) == {"layers": [64, 64], "lr": 0.1, "seed": 0}


def test_repr_and_type():
    sweep = piter @ {"a": [1, 2]}
    assert isinstance(sweep, PIter)
    assert repr(sweep) == "PIter(2 configs)"
