"""Recipe for the custom REINFORCE algorithm in reinforce.py (next to this file) on CartPole.

    python -m hyperlax.cli sweep-hp-samples \
        --algo-and-network-config examples/custom_algorithm/reinforce_cartpole.py \
        --env-config gymnax.cartpole --num-samples 8 --hparam-batch-size 8
"""

from typing import Any

from hyperlax.space import LogUniform, Uniform


def get_base_config() -> dict[str, Any]:
    return {
        "algorithm": {
            "name": "reinforce.py",  # a path relative to this file's folder
            "hyperparam": {
                "lr": 1e-3,
                "baseline_lr": 3e-3,
                "gamma": 0.99,
                "ent_coef": 0.01,
                "num_envs": 8,
                "rollout_length": 32,
            },
            "network": {
                "policy": {"layer_sizes": [64, 64], "activation": "tanh"},
                "baseline": {"layer_sizes": [64, 64], "activation": "tanh"},
            },
        },
        # Overrides the env recipe's 500k-step budget: REINFORCE's defaults learn CartPole well within it.
        "training": {"total_timesteps": 100_000, "num_evaluations": 10, "num_eval_episodes": 8},
    }


def get_base_hyperparam_distributions() -> dict[str, Any]:
    return {
        "algorithm.hyperparam.lr": LogUniform(domain=(1e-4, 3e-3)),
        "algorithm.hyperparam.baseline_lr": LogUniform(domain=(3e-4, 1e-2)),
        "algorithm.hyperparam.gamma": Uniform(domain=(0.95, 0.999)),
        "algorithm.hyperparam.ent_coef": LogUniform(domain=(1e-4, 3e-2)),
    }
