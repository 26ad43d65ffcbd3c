"""Sweep: product, zip, chain, set, operators, key checking and JSONL/YAML round-trips."""

import dataclasses
import json

import pytest

from hyperlax.syntax import Sweep


def train(lr: float = 0.001, batch_size: int = 32, epochs: int = 10, seed: int = 0):
    return lr, batch_size, epochs, seed


@dataclasses.dataclass
class Optim:
    lr: float = 1e-3
    eps: float = 1e-8


@dataclasses.dataclass
class Config:
    optim: Optim = dataclasses.field(default_factory=Optim)
    num_envs: int = 16
    env_kwargs: dict = dataclasses.field(default_factory=dict)


def test_product_then_zip_gives_four_configs():
    sweep = Sweep(train).product(lr=[0.001, 0.01]).zip(batch_size=[32, 64], epochs=[100, 200])
    assert len(sweep) == 4
    assert list(sweep) == [
        {"lr": 0.001, "batch_size": 32, "epochs": 100},
        {"lr": 0.001, "batch_size": 64, "epochs": 200},
        {"lr": 0.01, "batch_size": 32, "epochs": 100},
        {"lr": 0.01, "batch_size": 64, "epochs": 200},
    ]


def test_product_is_a_grid_first_key_slowest():
    sweep = Sweep(train).product(lr=[0.001, 0.01, 0.1], batch_size=[32, 64, 128])
    assert len(sweep) == 9
    assert [(c["lr"], c["batch_size"]) for c in sweep] == [
        (lr, bs) for lr in [0.001, 0.01, 0.1] for bs in [32, 64, 128]
    ]


def test_zip_pairs_values():
    sweep = Sweep(train).zip(lr=[0.001, 0.01, 0.1], batch_size=[32, 64, 128])
    assert list(sweep) == [
        {"lr": 0.001, "batch_size": 32},
        {"lr": 0.01, "batch_size": 64},
        {"lr": 0.1, "batch_size": 128},
    ]


def test_zip_of_unequal_lengths_is_an_error():
    with pytest.raises(ValueError, match="equal lengths"):
        Sweep(train).zip(lr=[0.1, 0.2], batch_size=[32])


def test_empty_list_is_an_error():
    with pytest.raises(ValueError, match="'lr' has an empty list"):
        Sweep(train).product(lr=[])


def test_chain_gives_its_dicts_in_order():
    configs = [
        {"lr": 0.001, "batch_size": 32},
        {"lr": 0.01, "batch_size": 64},
        {"lr": 0.1, "batch_size": 128},
    ]
    assert list(Sweep(train).chain(*configs)) == configs


def test_chain_after_product_multiplies():
    sweep = Sweep(train).product(seed=[0, 1]).chain({"lr": 0.1}, {"lr": 0.2, "epochs": 5})
    assert list(sweep) == [
        {"seed": 0, "lr": 0.1},
        {"seed": 0, "lr": 0.2, "epochs": 5},
        {"seed": 1, "lr": 0.1},
        {"seed": 1, "lr": 0.2, "epochs": 5},
    ]


def test_chain_keeps_list_values_as_values():
    assert list(Sweep().chain({"layers": [64, 64]})) == [{"layers": [64, 64]}]


def test_chain_needs_a_config():
    with pytest.raises(ValueError, match="at least one"):
        Sweep(train).chain()


def test_set_fixes_a_value_in_every_config():
    sweep = Sweep(train).set(epochs=100).product(lr=[0.001, 0.01, 0.1])
    assert list(sweep) == [
        {"epochs": 100, "lr": 0.001},
        {"epochs": 100, "lr": 0.01},
        {"epochs": 100, "lr": 0.1},
    ]


def test_later_steps_override_earlier_ones():
    assert list(Sweep(train).product(lr=[1, 2]).set(lr=5)) == [{"lr": 5}, {"lr": 5}]
    assert list(Sweep(train).set(lr=5).product(lr=[1, 2])) == [{"lr": 1}, {"lr": 2}]


def test_operators():
    sweep = Sweep(train) * {"lr": [0.001, 0.01]} * {"batch_size": [32, 64]}
    assert list(sweep) == [
        {"lr": 0.001, "batch_size": 32},
        {"lr": 0.001, "batch_size": 64},
        {"lr": 0.01, "batch_size": 32},
        {"lr": 0.01, "batch_size": 64},
    ]
    assert list(Sweep(train) ** 3) == [{}, {}, {}]
    assert list(Sweep(train) % {"epochs": 100}) == [{"epochs": 100}]
    assert list((Sweep(train) * {"lr": [1, 2]} % {"seed": 3}) ** 2) == [
        {"lr": 1, "seed": 3},
        {"lr": 1, "seed": 3},
        {"lr": 2, "seed": 3},
        {"lr": 2, "seed": 3},
    ]


@pytest.mark.parametrize("count", [0, -1, 2.5, True])
def test_repeat_count_must_be_a_positive_int(count):
    with pytest.raises(ValueError, match="positive int"):
        Sweep(train) ** count


def test_methods_return_new_sweeps():
    base = Sweep(train).product(lr=[1, 2])
    base.set(seed=3)
    base.product(epochs=[1, 2])
    assert list(base) == [{"lr": 1}, {"lr": 2}]


def test_configs_are_independent():
    configs = list(Sweep(train).set(seed=[1]) ** 2)
    configs[0]["seed"].append(2)
    assert configs[1]["seed"] == [1]


@pytest.mark.parametrize(
    "build",
    [
        lambda s: s.product(lrr=[1]),
        lambda s: s.zip(lrr=[1]),
        lambda s: s.chain({"lrr": 1}),
        lambda s: s.set(lrr=1),
        lambda s: s * {"lrr": [1]},
        lambda s: s % {"lrr": 1},
    ],
)
def test_unknown_key_names_it_and_suggests_the_closest(build):
    with pytest.raises(ValueError, match=r"unknown key 'lrr'.*did you mean 'lr'\?"):
        build(Sweep(train))


def test_unknown_key_without_a_close_match_lists_the_parameters():
    with pytest.raises(ValueError, match=r"'zzz'.*expected one of: lr, batch_size, epochs, seed"):
        Sweep(train).product(zzz=[1])


def test_dataclass_fields_and_nested_dotted_keys():
    sweep = Sweep(Config).product(**{"optim.lr": [0.1, 0.2]}).set(num_envs=8, optim={"eps": 1e-5})
    assert list(sweep) == [
        {"optim.lr": 0.1, "num_envs": 8, "optim.eps": 1e-5},
        {"optim.lr": 0.2, "num_envs": 8, "optim.eps": 1e-5},
    ]
    with pytest.raises(
        ValueError, match=r"unknown key 'optim.lrr': Optim has no parameter 'lrr'; did you mean 'optim.lr'\?"
    ):
        Sweep(Config).set(**{"optim.lrr": 1})
    with pytest.raises(ValueError, match=r"did you mean 'num_envs'\?"):
        Sweep(Config).product(num_env=[1])


def test_keys_below_a_non_dataclass_field_are_not_checked():
    assert list(Sweep(Config).set(env_kwargs={"max_steps": 5})) == [{"env_kwargs.max_steps": 5}]


def test_function_with_var_keywords_accepts_any_key():
    def run(lr=0.1, **overrides):
        return lr, overrides

    assert list(Sweep(run).set(anything=1)) == [{"anything": 1}]


def test_target_must_be_a_function_or_dataclass():
    with pytest.raises(TypeError, match="function or a dataclass"):
        Sweep(42)


@pytest.mark.parametrize("name", ["sweep.jsonl", "sweep.yaml", "sweep.yml"])
def test_save_and_load_round_trip(tmp_path, name):
    sweep = Sweep(train).product(lr=[1e-5, 0.01], batch_size=[32, 64]).set(seed=7)
    path = tmp_path / name
    sweep.save(path)
    loaded = Sweep.load(path)
    assert list(loaded) == list(sweep)
    assert len(loaded) == 4
    assert [type(c["lr"]) for c in loaded] == [float] * 4


def test_jsonl_holds_one_config_a_line(tmp_path):
    path = tmp_path / "sweep.jsonl"
    Sweep(train).product(lr=[0.1, 0.2]).save(path)
    assert [json.loads(line) for line in path.read_text().splitlines()] == [{"lr": 0.1}, {"lr": 0.2}]


def test_load_checks_keys_against_a_target(tmp_path):
    path = tmp_path / "sweep.jsonl"
    path.write_text('{"lr": 0.1}\n\n{"lrr": 0.2}\n')
    assert list(Sweep.load(path)) == [{"lr": 0.1}, {"lrr": 0.2}]
    with pytest.raises(ValueError, match="did you mean 'lr'"):
        Sweep.load(path, target=train)


def test_load_reads_hand_written_yaml(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("- lr: 1e-5\n  optim: {eps: 1.0e-8}\n- lr: 3\n")
    assert list(Sweep.load(path)) == [{"lr": 1e-5, "optim.eps": 1e-8}, {"lr": 3}]


def test_bad_files_are_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown sweep file type"):
        Sweep(train).save(tmp_path / "sweep.txt")
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"lr": 0.1}\n{"lr": \n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not valid JSON"):
        Sweep.load(bad_json)
    not_a_list = tmp_path / "map.yaml"
    not_a_list.write_text("lr: 0.1\n")
    with pytest.raises(ValueError, match="expected a YAML list"):
        Sweep.load(not_a_list)
    not_a_mapping = tmp_path / "items.jsonl"
    not_a_mapping.write_text("[1, 2]\n")
    with pytest.raises(ValueError, match="config 0 is not a mapping"):
        Sweep.load(not_a_mapping)
