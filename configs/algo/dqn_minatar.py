"""DQN with a small conv torso for MinAtar's 10x10 images: every default, and the search space.

The torso is one 3x3 convolution with 16 channels and a dense layer of 128 (as in the MinAtar
paper), selected by algorithm.network.q_network.pre_torso.kind = "conv". Use it with the minatar.*
env recipes (or bsuite.catch); copy this file to edit the search space.
"""

from typing import Any

from hyperlax.space import Categorical, LogUniform, Uniform


def get_base_config() -> dict[str, Any]:
    return {
        "algorithm": {
            "name": "dqn",
            "hyperparam": {
                "lr": 2.5e-4,
                "gamma": 0.99,
                "tau": 1.0,  # 1: hard target updates; below 1: Polyak averaging
                "epsilon_start": 1.0,
                "epsilon_finish": 0.05,
                "exploration_fraction": 0.1,  # of total_timesteps
                "max_grad_norm": 10.0,
                "double_q": True,
                "num_envs": 8,
                "rollout_length": 1,  # env steps per env between learning phases
                "gradient_steps": 1,  # updates per learning phase
                "buffer_size": 50_000,  # 50k image pairs: about 160 MB per lane in float32
                "batch_size": 64,
                "learning_starts": 10_000,  # env steps
                "target_update_interval": 1_000,  # env steps
            },
            "network": {
                "q_network": {
                    "pre_torso": {
                        "kind": "conv",
                        "channels": [16],
                        "kernel_size": 3,
                        "layer_sizes": [128],
                        "activation": "relu",
                    }
                },
            },
        },
        # The budget (training.total_timesteps) comes from the env recipe; set it here to override.
        "training": {"num_evaluations": 10, "num_eval_episodes": 8},
    }


def get_base_hyperparam_distributions() -> dict[str, Any]:
    return {
        "algorithm.hyperparam.lr": LogUniform(domain=(3e-5, 1e-3)),
        "algorithm.hyperparam.gamma": Uniform(domain=(0.95, 0.995)),
        "algorithm.hyperparam.epsilon_finish": LogUniform(domain=(0.01, 0.1)),
        "algorithm.hyperparam.exploration_fraction": Uniform(domain=(0.05, 0.25)),
        # Structural: each value compiles its own function.
        "algorithm.network.q_network.pre_torso.channels": Categorical(values=[[16], [32], [16, 32]]),
    }
