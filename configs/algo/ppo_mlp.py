"""PPO with separate actor and critic MLPs: every default, and the search space.

Copy this file (say to my_recipes/ppo_mlp_wide_search.py), edit the distributions, and pass its
path to --algo-and-network-config.
"""

from typing import Any

from hyperlax.space import Categorical, LogUniform, Uniform


def get_base_config() -> dict[str, Any]:
    return {
        "algorithm": {
            "name": "ppo",
            "hyperparam": {
                "actor_lr": 2.5e-4,
                "critic_lr": 2.5e-4,
                "anneal_lr": True,
                "gamma": 0.99,
                "gae_lambda": 0.95,
                "clip_eps": 0.2,
                "ent_coef": 0.01,
                "vf_coef": 0.5,
                "max_grad_norm": 0.5,
                "rollout_length": 128,
                "num_envs": 4,
                "update_epochs": 4,
                "num_minibatches": 4,
            },
            "network": {
                "actor_network": {"pre_torso": {"layer_sizes": [64, 64], "activation": "tanh"}},
                "critic_network": {"pre_torso": {"layer_sizes": [64, 64], "activation": "tanh"}},
            },
        },
        # The budget (training.total_timesteps) comes from the env recipe; set it here to override.
        "training": {"num_evaluations": 10, "num_eval_episodes": 8},
    }


def get_base_hyperparam_distributions() -> dict[str, Any]:
    return {
        "algorithm.hyperparam.actor_lr": LogUniform(domain=(1e-5, 1e-3)),
        "algorithm.hyperparam.critic_lr": LogUniform(domain=(1e-5, 1e-3)),
        "algorithm.hyperparam.gamma": Uniform(domain=(0.95, 0.999)),
        "algorithm.hyperparam.gae_lambda": Uniform(domain=(0.8, 0.99)),
        "algorithm.hyperparam.clip_eps": Uniform(domain=(0.1, 0.3)),
        "algorithm.hyperparam.ent_coef": LogUniform(domain=(1e-4, 5e-2)),
        "algorithm.hyperparam.vf_coef": Uniform(domain=(0.25, 1.0)),
        "algorithm.hyperparam.max_grad_norm": LogUniform(domain=(0.3, 5.0)),
        "algorithm.hyperparam.rollout_length": Categorical(values=[64, 128, 256]),
        "algorithm.hyperparam.num_envs": Categorical(values=[4, 8, 16]),
        "algorithm.hyperparam.update_epochs": Categorical(values=[2, 4, 8]),
        "algorithm.hyperparam.num_minibatches": Categorical(values=[2, 4, 8]),
        "algorithm.network.actor_network.pre_torso.layer_sizes": Categorical(
            values=[[32, 32], [64, 64], [128, 128]]
        ),
        "algorithm.network.actor_network.pre_torso.activation": Categorical(values=["tanh", "relu"]),
    }
