"""MLP torso and the actor and critic heads built on it (orthogonal init, as in PPO practice).

The actor and critic (PPO's, torso and head) use `dense.Dense`, whose weight gradients run faster on
a CPU; the torso's other users keep `nn.Dense`."""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from hyperlax.nets.dense import Dense

ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu, "silu": nn.silu, "gelu": nn.gelu, "elu": nn.elu}


class Torso(nn.Module):
    """Dense layers (made by `dense`) of `layer_sizes`, each followed by `activation`."""

    layer_sizes: Sequence[int]
    activation: str
    dense: Any = nn.Dense

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        for size in self.layer_sizes:
            x = self.dense(size, kernel_init=nn.initializers.orthogonal(np.sqrt(2)))(x)
            x = ACTIVATIONS[self.activation](x)
        return x


class DiscreteActor(nn.Module):
    """Logits over `num_actions`."""

    layer_sizes: Sequence[int]
    activation: str
    num_actions: int

    @nn.compact
    def __call__(self, obs: jnp.ndarray) -> jnp.ndarray:
        x = Torso(self.layer_sizes, self.activation, Dense)(obs)
        return Dense(self.num_actions, kernel_init=nn.initializers.orthogonal(0.01))(x)


class GaussianActor(nn.Module):
    """Mean and log standard deviation (state-independent) of a diagonal Gaussian."""

    layer_sizes: Sequence[int]
    activation: str
    num_actions: int

    @nn.compact
    def __call__(self, obs: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
        x = Torso(self.layer_sizes, self.activation, Dense)(obs)
        mean = Dense(self.num_actions, kernel_init=nn.initializers.orthogonal(0.01))(x)
        log_std = self.param("log_std", nn.initializers.zeros, (self.num_actions,))
        return mean, jnp.broadcast_to(log_std, mean.shape)


class Critic(nn.Module):
    """A scalar state value."""

    layer_sizes: Sequence[int]
    activation: str

    @nn.compact
    def __call__(self, obs: jnp.ndarray) -> jnp.ndarray:
        x = Torso(self.layer_sizes, self.activation, Dense)(obs)
        return Dense(1, kernel_init=nn.initializers.orthogonal(1.0))(x)[..., 0]
