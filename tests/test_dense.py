"""`nets.dense.Dense`: flax's dense layer with the weight gradient as a plain product on a CPU."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hyperlax.nets.dense import Dense


def gradients(layer, params, x):
    loss = lambda params, x: jnp.sum(jnp.tanh(layer.apply(params, x)) ** 2)  # noqa: E731
    return jax.jit(jax.grad(loss, argnums=(0, 1)))(params, x)


@pytest.mark.parametrize("shape", [(4,), (128, 4), (8, 16, 4)])
def test_dense_gives_flax_dense_outputs_and_gradients(shape):
    x = jax.random.normal(jax.random.PRNGKey(1), shape)
    params = nn.Dense(6).init(jax.random.PRNGKey(2), x)
    np.testing.assert_array_equal(Dense(6).apply(params, x), nn.Dense(6).apply(params, x))
    for got, want in zip(jax.tree.leaves(gradients(Dense(6), params, x)), jax.tree.leaves(gradients(nn.Dense(6), params, x))):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_on_a_cpu_no_product_contracts_the_batch():
    x = jax.random.normal(jax.random.PRNGKey(1), (128, 64))
    params = nn.Dense(64).init(jax.random.PRNGKey(2), x)
    loss = lambda layer: lambda params: jnp.sum(jnp.tanh(layer.apply(params, x)) ** 2)  # noqa: E731
    compiled = lambda layer: jax.jit(jax.grad(loss(layer))).lower(params).compile().as_text()  # noqa: E731
    assert "lhs_contracting_dims={0}" in compiled(nn.Dense(64))  # jax's weight gradient, left to Eigen
    assert "lhs_contracting_dims={0}" not in compiled(Dense(64))


def test_dense_refuses_a_precision_it_would_not_keep():
    x = jnp.ones((2, 4))
    with pytest.raises(ValueError, match="default precision, got precision=highest"):
        Dense(3, precision="highest").init(jax.random.PRNGKey(0), x)
