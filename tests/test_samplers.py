import numpy as np
import pytest

from hyperlax.space import Categorical, LogUniform, UniformInt, draw_samples, draw_unit

SPACE = {
    "a.lr": LogUniform(domain=(1e-5, 1e-3)),
    "a.n": UniformInt(domain=(1, 4)),
    "a.sizes": Categorical(values=[[32, 32], [64, 64]]),
}


@pytest.mark.parametrize("method", ["qmc_sobol", "random"])
def test_same_seed_same_samples_other_seed_other_samples(method):
    first = draw_samples(SPACE, 10, method, seed=3)
    assert first == draw_samples(SPACE, 10, method, seed=3)
    assert first != draw_samples(SPACE, 10, method, seed=4)
    assert [list(s) for s in first] == [list(SPACE)] * 10


@pytest.mark.parametrize("n", [1, 5, 7, 64])
def test_sobol_takes_any_count_and_stays_in_unit_cube(n):
    u = draw_unit(n, 3, "qmc_sobol", seed=0)
    assert u.shape == (n, 3) and (u >= 0).all() and (u < 1).all()


def test_sobol_is_scrambled_and_balanced():
    u = draw_unit(64, 2, "qmc_sobol", seed=1)
    assert not np.allclose(u[0], 0.0)
    counts, _ = np.histogram(u[:, 0], bins=8, range=(0, 1))
    assert (counts == 8).all()


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="grid_magic"):
        draw_unit(4, 2, "grid_magic", seed=0)
