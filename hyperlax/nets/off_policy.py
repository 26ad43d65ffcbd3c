"""Networks of the off-policy algorithms: a Q-network (DQN), a tanh-squashed Gaussian actor and
twin Q critics (SAC). The Q-network takes its torso as a module, so it serves MLP and conv torsos.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp

from hyperlax.nets.mlp import Torso

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


class QNetwork(nn.Module):
    """One action value per discrete action."""

    torso: nn.Module
    num_actions: int

    @nn.compact
    def __call__(self, obs: jnp.ndarray) -> jnp.ndarray:
        return nn.Dense(self.num_actions)(self.torso(obs))


class SquashedGaussianActor(nn.Module):
    """Mean and log standard deviation (in [LOG_STD_MIN, LOG_STD_MAX]) of a Gaussian before tanh."""

    layer_sizes: Sequence[int]
    activation: str
    action_dim: int

    @nn.compact
    def __call__(self, obs: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
        x = Torso(self.layer_sizes, self.activation)(obs)
        mean = nn.Dense(self.action_dim)(x)
        unit = jnp.tanh(nn.Dense(self.action_dim)(x))  # in (-1, 1), mapped onto the log-std range
        return mean, LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (unit + 1.0)


class TwinCritic(nn.Module):
    """Two independent action values Q(obs, action), stacked on a leading axis of size 2."""

    layer_sizes: Sequence[int]
    activation: str

    @nn.compact
    def __call__(self, obs: jnp.ndarray, action: jnp.ndarray) -> jnp.ndarray:
        x = jnp.concatenate([obs, action], axis=-1)
        return jnp.stack(
            [nn.Dense(1)(Torso(self.layer_sizes, self.activation)(x))[..., 0] for _ in range(2)]
        )
