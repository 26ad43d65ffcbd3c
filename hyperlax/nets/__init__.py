"""Flax networks for the algorithms."""

from hyperlax.nets.conv import ConvTorso
from hyperlax.nets.mlp import ACTIVATIONS, Critic, DiscreteActor, GaussianActor, Torso
from hyperlax.nets.off_policy import QNetwork, SquashedGaussianActor, TwinCritic

__all__ = [
    "ACTIVATIONS",
    "ConvTorso",
    "Critic",
    "DiscreteActor",
    "GaussianActor",
    "QNetwork",
    "SquashedGaussianActor",
    "Torso",
    "TwinCritic",
]
