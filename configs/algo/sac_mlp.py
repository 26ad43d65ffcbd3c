"""SAC with MLP actor and twin critics: every default, and the search space.

The defaults reach a greedy return of -250 or better on Pendulum-v1 within 50k env steps (about
15 s per lane on a 2-core CPU): 4 envs with one update per iteration (one update per 4 env steps)
and small 64x64 networks keep that cheap; raise them for harder tasks. Copy
this file, edit the distributions, and pass its path to --algo-and-network-config.
"""

from typing import Any

from hyperlax.space import Categorical, LogUniform, Uniform


def get_base_config() -> dict[str, Any]:
    return {
        "algorithm": {
            "name": "sac",
            "hyperparam": {
                "actor_lr": 3e-4,
                "critic_lr": 1e-3,
                "alpha_lr": 1e-3,
                "gamma": 0.99,
                "tau": 0.005,
                "alpha": 0.2,  # the fixed temperature, or the initial one with autotune_alpha
                "target_entropy_scale": 1.0,  # target entropy = -scale * action dimension
                "autotune_alpha": True,
                "num_envs": 4,
                "rollout_length": 1,  # env steps per env between learning phases
                "gradient_steps": 1,  # updates per learning phase
                "buffer_size": 100_000,
                "batch_size": 256,
                "learning_starts": 1_000,  # env steps of uniformly random actions
            },
            "network": {
                "actor_network": {"pre_torso": {"layer_sizes": [64, 64], "activation": "relu"}},
                "critic_network": {"pre_torso": {"layer_sizes": [64, 64], "activation": "relu"}},
            },
        },
        # The budget (training.total_timesteps) comes from the env recipe; set it here to override.
        "training": {"num_evaluations": 10, "num_eval_episodes": 8},
    }


def get_base_hyperparam_distributions() -> dict[str, Any]:
    # Float hyperparameters share one compiled function; integers and layer sizes split batches.
    return {
        "algorithm.hyperparam.actor_lr": LogUniform(domain=(1e-4, 1e-3)),
        "algorithm.hyperparam.critic_lr": LogUniform(domain=(1e-4, 3e-3)),
        "algorithm.hyperparam.alpha_lr": LogUniform(domain=(1e-4, 3e-3)),
        "algorithm.hyperparam.gamma": Uniform(domain=(0.95, 0.999)),
        "algorithm.hyperparam.tau": LogUniform(domain=(1e-3, 5e-2)),
        "algorithm.hyperparam.alpha": LogUniform(domain=(0.01, 1.0)),
        # Structural: each value compiles its own function.
        "algorithm.network.critic_network.pre_torso.layer_sizes": Categorical(values=[[64, 64], [128, 128], [256, 256]]),
    }
