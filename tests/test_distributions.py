import numpy as np
import pytest

from hyperlax.space import (
    Beta, Categorical, Fixed, InvLogUniform, LogNormal, LogUniform, LogUniformInt, Normal, Quantized, Uniform, UniformInt,
)

UNITS = list(np.linspace(0.0, 1.0, 1001, endpoint=False)) + [1.0 - 1e-16]


@pytest.mark.parametrize(
    "dist, low, high, kind",
    [
        (Uniform(domain=(-2.0, 3.0)), -2.0, 3.0, float),
        (LogUniform(domain=(1e-5, 1e-3)), 1e-5, 1e-3, float),
        (UniformInt(domain=(2, 5)), 2, 5, int),
        (LogUniformInt(domain=(1, 1000)), 1, 1000, int),
    ],
)
def test_values_stay_in_inclusive_bounds_with_their_type(dist, low, high, kind):
    values = [dist.from_unit(u) for u in UNITS]
    assert all(type(v) is kind for v in values)
    assert min(values) >= low and max(values) <= high
    assert dist.validate() is None


@pytest.mark.parametrize("dist", [UniformInt(domain=(2, 5)), LogUniformInt(domain=(2, 5))])
def test_integer_bounds_are_both_reached(dist):
    assert {dist.from_unit(u) for u in UNITS} == {2, 3, 4, 5}


def test_log_uniform_is_uniform_in_log_space():
    dist = LogUniform(domain=(1e-4, 1e-2))
    assert dist.from_unit(0.5) == pytest.approx(1e-3)


def test_categorical_keeps_python_types_and_copies():
    dist = Categorical(values=[[64, 64], True, "relu", 3])
    picks = [dist.from_unit(u) for u in (0.1, 0.3, 0.6, 0.9)]
    assert picks == [[64, 64], True, "relu", 3]
    assert type(picks[1]) is bool and type(picks[3]) is int
    picks[0].append(1)
    assert dist.values[0] == [64, 64]


def test_normal_and_lognormal_use_the_inverse_cdf():
    assert Normal(mean=1.0, std=2.0).from_unit(0.5) == pytest.approx(1.0)
    assert Normal(mean=0.0, std=1.0).from_unit(0.8413447) == pytest.approx(1.0, abs=1e-5)
    assert np.isfinite(Normal(mean=0.0, std=1.0).from_unit(0.0))
    assert LogNormal(mean=0.0, std=1.0).from_unit(0.5) == pytest.approx(1.0)


def test_fixed_ignores_u():
    assert Fixed(value=[1, 2]).from_unit(0.9) == [1, 2]


@pytest.mark.parametrize(
    "dist, fragment",
    [
        (Uniform(domain=(1.0, 1.0)), "low < high"),
        (LogUniform(domain=(0.0, 1.0)), "positive"),
        (LogUniform(domain=(-1.0, 1.0)), "positive"),
        (UniformInt(domain=(1.5, 3)), "integers"),
        (Categorical(values=[]), "non-empty"),
        (Normal(mean=0.0, std=0.0), "std"),
        (Uniform(domain=(1.0,)), "pair"),
    ],
)
def test_bad_domains_are_reported(dist, fragment):
    assert fragment in dist.validate()


def test_quantized_beta_and_inverse_log_uniform_are_recipe_distributions(tmp_path):
    from hyperlax.recipes import load_recipe
    from hyperlax.space import draw_samples
    from tests.conftest import write_recipe

    extra = (
        '"algorithm.hyperparam.num_envs": Quantized(UniformInt(domain=(4, 16)), 4),'
        '"algorithm.hyperparam.clip_eps": Beta(2.0, 5.0),'
        '"algorithm.hyperparam.vf_coef": InvLogUniform((0.1, 1.0)),'
    )
    recipe = write_recipe(tmp_path, extra=extra)
    samples = draw_samples(load_recipe(str(recipe), "gymnax.cartpole").distributions, 64, "qmc_sobol", 0)
    assert {s["algorithm.hyperparam.num_envs"] for s in samples} <= {4, 8, 12, 16}
    assert all(0.0 <= s["algorithm.hyperparam.clip_eps"] <= 1.0 for s in samples)
    assert all(0.1 < s["algorithm.hyperparam.vf_coef"] <= 1.0 for s in samples)
    assert Quantized(Uniform((0.0, 1.0)), 0.25).from_unit(0.6) == 0.5
    assert Beta(1.0, 1.0).from_unit(0.3) == pytest.approx(0.3)
    assert InvLogUniform((0.1, 1.0)).from_unit(0.0) == pytest.approx(1.0)
