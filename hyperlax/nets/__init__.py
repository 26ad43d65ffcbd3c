"""Flax networks for the algorithms."""

from hyperlax.nets.mlp import ACTIVATIONS, Critic, DiscreteActor, GaussianActor, Torso

__all__ = ["ACTIVATIONS", "Critic", "DiscreteActor", "GaussianActor", "Torso"]
