"""A small conv torso for image observations (MinAtar), which the env hands over flattened."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from hyperlax.nets.mlp import ACTIVATIONS, Torso


class ConvTorso(nn.Module):
    """Unflatten to `frame_shape` (height, width[, channels]), convolve, flatten, then dense layers.

    Each convolution has `kernel_size` x `kernel_size` kernels, stride 1 and no padding.
    """

    frame_shape: Sequence[int]
    channels: Sequence[int]
    kernel_size: int
    layer_sizes: Sequence[int]
    activation: str

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        batch = x.shape[:-1]
        height, width, *channels = self.frame_shape
        x = x.reshape((-1, height, width, channels[0] if channels else 1))
        for features in self.channels:
            x = nn.Conv(
                features,
                (self.kernel_size, self.kernel_size),
                padding="VALID",
                kernel_init=nn.initializers.orthogonal(np.sqrt(2)),
            )(x)
            x = ACTIVATIONS[self.activation](x)
        x = x.reshape(batch + (-1,))
        return Torso(self.layer_sizes, self.activation)(x)
