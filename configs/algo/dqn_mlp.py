"""DQN with an MLP Q-network: every default, and the search space.

The defaults follow PureJaxRL's CartPole DQN (10 envs, a 10k buffer, batches of 128, learning
from 10k env steps on, one update every 10 env steps, a hard target update every 500 env steps,
epsilon 1 -> 0.05 over the first quarter of the budget), with double Q, and reach a greedy return
of 400+ on CartPole-v1 within 500k env steps (about 30 s per lane on a 2-core CPU). Copy this file, edit the distributions, and pass its path to
--algo-and-network-config.
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
                "exploration_fraction": 0.25,  # of total_timesteps
                "max_grad_norm": 10.0,
                "double_q": True,
                "num_envs": 10,
                "rollout_length": 1,  # env steps per env between learning phases
                "gradient_steps": 1,  # updates per learning phase
                "buffer_size": 10_000,
                "batch_size": 128,
                "learning_starts": 10_000,  # env steps
                "target_update_interval": 500,  # env steps
            },
            "network": {
                "q_network": {"pre_torso": {"kind": "mlp", "layer_sizes": [120, 84], "activation": "relu"}},
            },
        },
        # The budget (training.total_timesteps) comes from the env recipe; set it here to override.
        "training": {"num_evaluations": 10, "num_eval_episodes": 8},
    }


def get_base_hyperparam_distributions() -> dict[str, Any]:
    # Float hyperparameters share one compiled function; integers and switches split batches.
    return {
        "algorithm.hyperparam.lr": LogUniform(domain=(3e-5, 3e-3)),
        "algorithm.hyperparam.gamma": Uniform(domain=(0.95, 0.999)),
        "algorithm.hyperparam.tau": Uniform(domain=(0.5, 1.0)),
        "algorithm.hyperparam.epsilon_finish": LogUniform(domain=(0.01, 0.1)),
        "algorithm.hyperparam.exploration_fraction": Uniform(domain=(0.05, 0.5)),
        "algorithm.hyperparam.max_grad_norm": LogUniform(domain=(0.5, 10.0)),
        # Structural: each combination compiles its own function (6 here).
        "algorithm.hyperparam.double_q": Categorical(values=[False, True]),
        "algorithm.network.q_network.pre_torso.layer_sizes": Categorical(values=[[64, 64], [120, 84], [256, 256]]),
    }
