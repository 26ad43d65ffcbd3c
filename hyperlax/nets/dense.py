"""`Dense`: flax's dense layer whose weight gradient XLA:CPU computes with its YNN kernels.

jax differentiates `x @ w` into the weight gradient `x.T @ g`, a product contracting the batch (the
first axis of both operands), which XLA:CPU (jaxlib 0.10) leaves to Eigen at about half the rate of
YNN. Here `x.T` is made behind an optimization barrier, so that the product is a plain one, which
YNN runs. Other platforms keep jax's product (`lax.platform_dependent`). The values are the same
sums in another order (float32 rounding). PPO's networks use it (a lane's segment took 4% to 8% less
time); SAC's took 20% more, so SAC's keep `nn.Dense` (`weight_gradients_on_ynn` in
docs/bench_rejax.json).
"""

from __future__ import annotations

from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp


@jax.custom_vjp
def _product(x: jax.Array, w: jax.Array) -> jax.Array:
    return jnp.matmul(x, w)


def _product_forward(x, w):
    return jnp.matmul(x, w), (x, w)


def _product_backward(saved, g):
    x, w = saved
    rows, grads = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
    weight_grad = jax.lax.platform_dependent(
        rows, grads,
        cpu=lambda rows, grads: jnp.matmul(jax.lax.optimization_barrier(rows.T), grads),
        default=lambda rows, grads: jnp.matmul(rows.T, grads),
    )
    return jnp.matmul(g, w.T), weight_grad


_product.defvjp(_product_forward, _product_backward)


def _dot_general(x, w, dimension_numbers, precision=None, preferred_element_type=None):
    """`nn.Dense`'s product, x's last axis against w's first, as `_product` (at the default precision)."""
    if dimension_numbers != (((x.ndim - 1,), (0,)), ((), ())):
        raise ValueError(
            f"nets.dense.Dense computes x's last axis against w's first, got {dimension_numbers}: use flax's nn.Dense"
        )
    if precision is not None or preferred_element_type is not None:
        raise ValueError(
            f"nets.dense.Dense computes at the default precision, got precision={precision}, "
            f"preferred_element_type={preferred_element_type}: use flax's nn.Dense for another"
        )
    return _product(x, w)


Dense = partial(nn.Dense, dot_general=_dot_general)
