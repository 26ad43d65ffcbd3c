"""PPO for continuous control (Gaussian actor, separate critic MLPs): every default, and the search space.

The defaults are tuned for small continuous-control tasks without observation or reward
normalisation: short discount (gamma 0.9), large learning rates (the critic's larger, since value
clipping limits how far its values move per update), ten epochs per rollout, no entropy bonus and
many small rollouts (8 envs x 128 steps) for many updates per env step. On Pendulum-v1 (gymnax) they
reach a mean greedy return of -400 or better with a budget of 200k env steps (--total-timesteps
200000; about -190 averaged over 8 seeds, worst seed about -320; the 1M of the env recipe also works).
Smaller budgets are not reliable: at 175k one seed in 8 ended below -400.

Copy this file, edit the distributions, and pass its path to --algo-and-network-config.
"""

from typing import Any

from hyperlax.space import Categorical, LogUniform, Uniform


def get_base_config() -> dict[str, Any]:
    return {
        "algorithm": {
            "name": "ppo",
            "hyperparam": {
                "actor_lr": 2e-3,
                "critic_lr": 3e-3,
                "anneal_lr": True,
                "gamma": 0.9,
                "gae_lambda": 0.95,
                "clip_eps": 0.2,
                "ent_coef": 0.0,
                "vf_coef": 0.5,
                "max_grad_norm": 0.5,
                "rollout_length": 128,
                "num_envs": 8,
                "update_epochs": 10,
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
        "algorithm.hyperparam.actor_lr": LogUniform(domain=(3e-4, 5e-3)),
        "algorithm.hyperparam.critic_lr": LogUniform(domain=(3e-4, 5e-3)),
        "algorithm.hyperparam.gamma": Uniform(domain=(0.85, 0.99)),
        "algorithm.hyperparam.gae_lambda": Uniform(domain=(0.9, 0.99)),
        "algorithm.hyperparam.clip_eps": Uniform(domain=(0.1, 0.3)),
        "algorithm.hyperparam.max_grad_norm": LogUniform(domain=(0.3, 5.0)),
        "algorithm.hyperparam.rollout_length": Categorical(values=[64, 128, 256]),
        "algorithm.hyperparam.num_envs": Categorical(values=[4, 8, 16]),
        "algorithm.hyperparam.update_epochs": Categorical(values=[5, 10, 20]),
        "algorithm.hyperparam.num_minibatches": Categorical(values=[2, 4, 8]),
        "algorithm.network.actor_network.pre_torso.layer_sizes": Categorical(values=[[32, 32], [64, 64], [128, 128]]),
        "algorithm.network.actor_network.pre_torso.activation": Categorical(values=["tanh", "relu"]),
    }
