"""The custom-algorithm example (examples/custom_algorithm): it runs, batched equals sequential, it
learns, and a module that breaks the contract is a clear error at load, before anything compiles
or is written."""

import csv
from pathlib import Path

import numpy as np
import pytest

from hyperlax.cli import main
from hyperlax.recipes import RecipeError, load_recipe
from hyperlax.run.loop import Settings, execute, prepare, start

EXAMPLE = Path(__file__).parent.parent / "examples" / "custom_algorithm"
RECIPE = EXAMPLE / "reinforce_cartpole.py"
ALGORITHM = (EXAMPLE / "reinforce.py").read_text()


def cli(recipe: Path, output_root: Path, *extra: str) -> int:
    return main([
        "sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
        "--num-samples", "4", "--total-timesteps", "1024", "--num-evaluations", "2", "--output-root", str(output_root),
        *extra,
    ])


def final_returns(output_root: Path) -> dict[int, float]:
    with open(output_root / "reinforce_cartpole" / "gymnax_cartpole" / "results.csv") as f:
        return {int(row["sample_id"]): float(row["final_return"]) for row in csv.DictReader(f)}


def test_example_runs_batched_and_sequential_with_equal_results(tmp_path):
    assert cli(RECIPE, tmp_path / "batched", "--hparam-batch-size", "4") == 0
    assert cli(RECIPE, tmp_path / "sequential", "--sequential") == 0
    batched, sequential = final_returns(tmp_path / "batched"), final_returns(tmp_path / "sequential")
    assert sorted(batched) == sorted(sequential) == [0, 1, 2, 3]
    ids = sorted(batched)
    np.testing.assert_allclose([batched[i] for i in ids], [sequential[i] for i in ids], atol=1e-4)


@pytest.mark.slow
def test_example_defaults_learn_cartpole(tmp_path):
    recipe = load_recipe(str(RECIPE), "gymnax.cartpole")
    prepared = prepare(recipe, [{}], Settings(seed=0), {"kind": "defaults"})  # one sample: the defaults
    start(tmp_path, prepared, {}, resume=False)
    (row,) = execute(tmp_path, prepared)["best"]
    print(f"REINFORCE on CartPole-v1: final {row['final_return']:.1f}, best {row['best_return']:.1f}")
    assert row["best_return"] >= 100


# Broken variants of the example: (name, edit of reinforce.py's text, what the error must say).
BROKEN = {
    "no_algorithm": (lambda s: s.replace("ALGORITHM = Algorithm(", "NOT_IT = Algorithm("), "must define ALGORITHM"),
    "make_segments_not_callable": (
        lambda s: s.replace("make_segments=make_segments,", "make_segments=None,"), "ALGORITHM.make_segments must be",
    ),
    "vectorized_key_missing": (
        lambda s: s.replace('"gamma", "ent_coef")', '"gamma", "ent_coef", "momentum")'),
        "the config has no key 'algorithm.hyperparam.momentum'",
    ),
    "vector_score": (
        lambda s: s.replace("return evaluate(env, greedy, key,", "return jnp.full(3, 1.0) * evaluate(env, greedy, key,"),
        "score's return has shape (3,)",
    ),
    "init_without_params": (
        lambda s: s.replace('return {"params": params,', 'return {"weights": params,'),
        "init must return a dict holding 'params'",
    ),
}


def broken_recipe(tmp_path: Path, name: str, module_text: str) -> Path:
    """A module `name`.py in tmp_path and a copy of the example recipe that names it."""
    (tmp_path / f"{name}.py").write_text(module_text)
    recipe = tmp_path / f"recipe_{name}.py"
    recipe.write_text(RECIPE.read_text().replace('"name": "reinforce.py"', f'"name": "{name}.py"'))
    return recipe


def load_and_prepare(recipe: Path):
    prepare(load_recipe(str(recipe), "gymnax.cartpole"), [{}], Settings(total_timesteps=1024, num_evaluations=2), {})


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_module_is_a_clear_error_before_anything_compiles_or_is_written(tmp_path, capsys, name):
    edit, message = BROKEN[name]
    variant = edit(ALGORITHM)
    assert variant != ALGORITHM, "the edit no longer matches reinforce.py"
    recipe = broken_recipe(tmp_path, name, variant)
    with pytest.raises(ValueError) as caught:
        load_and_prepare(recipe)
    assert message in str(caught.value)
    assert cli(recipe, tmp_path / "out") == 2
    printed = "".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "".join(message.split()) in printed
    assert not (tmp_path / "out").exists()


def test_syntax_error_names_the_file_and_line(tmp_path, capsys):
    lines = ALGORITHM.splitlines()
    broken_line = next(i for i, line in enumerate(lines) if line.startswith("def make_segments")) + 1
    lines[broken_line - 1] = "def make_segments(config, env, extents) -> Segments"  # no colon
    recipe = broken_recipe(tmp_path, "syntax_error", "\n".join(lines))
    with pytest.raises(RecipeError, match=f"{tmp_path / 'syntax_error.py'}, line {broken_line}"):
        load_recipe(str(recipe), "gymnax.cartpole")
    assert cli(recipe, tmp_path / "out") == 2
    assert f"line{broken_line}" in "".join(capsys.readouterr().err.split())
    assert not (tmp_path / "out").exists()


def test_a_tiny_hand_written_module_without_algorithm(tmp_path):
    recipe = broken_recipe(tmp_path, "empty", '"""A module that forgot to define ALGORITHM."""\n')
    with pytest.raises(RecipeError, match="must define ALGORITHM = hyperlax.algos.interface.Algorithm"):
        load_recipe(str(recipe), "gymnax.cartpole")


# Modules that once failed the wrong way: a valid module refused, or a broken one that was a
# traceback instead of exit 2.
KNOWN = {
    "flax_module_with_future_annotations": lambda s: s.replace(
        "class Rollout(NamedTuple):",
        "class MyNet(nn.Module):\n    width: int\n\n\nclass Rollout(NamedTuple):",
    ).replace("import optax\n", "import flax.linen as nn\nimport optax\n"),
    "vectorized_is_a_string": lambda s: s.replace("vectorized=VECTORIZED,", "vectorized=VECTORIZED[0],"),
    "advance_raises_attribute_error": lambda s: s.replace("tx = optimizer(hp)", "tx = optimizer(hp).nope"),
    "init_uses_a_lane_collective": lambda s: s.replace(
        '"update": jnp.int32(0),', '"update": max_over_lanes(jnp.int32(0)),'
    ),
    "check_config_raises_key_error": lambda s: s.replace(
        '    """Raise ValueError naming the key of a value this algorithm cannot run with (shared checks)."""\n',
        '    """Raise ValueError naming the key of a value this algorithm cannot run with (shared checks)."""\n'
        '    config["algorithm"]["missing"]\n',
    ),
}


@pytest.mark.parametrize("name", list(KNOWN))
def test_valid_modules_load_and_broken_ones_exit_2(tmp_path, name):
    variant = KNOWN[name](ALGORITHM)
    assert variant != ALGORITHM
    recipe = broken_recipe(tmp_path, name, variant)
    # flax_module / init_uses_a_lane_collective are valid modules: they should load and pass the checks.
    valid = name in ("flax_module_with_future_annotations", "init_uses_a_lane_collective")
    if valid:
        load_and_prepare(recipe)
    else:
        assert cli(recipe, tmp_path / "out") == 2


def test_missing_dependency_inside_the_module_is_named(tmp_path):
    text = ALGORITHM.replace("import optax\n", "import optax\nimport no_such_pkg_xyz\n")
    recipe = broken_recipe(tmp_path, "needs_pkg", text)
    with pytest.raises(RecipeError, match="No module named 'no_such_pkg_xyz'"):
        load_recipe(str(recipe), "gymnax.cartpole")


def test_error_text_in_brackets_is_printed(tmp_path, capsys):
    text = ALGORITHM.replace("import optax\n", "import optax\nraise RuntimeError('bad [oops] value')\n")
    assert cli(broken_recipe(tmp_path, "brackets", text), tmp_path / "out") == 2
    assert "[oops]" in capsys.readouterr().err
