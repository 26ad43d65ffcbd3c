"""Shared fixtures: a tiny PPO recipe (fast to train) written into the test's folder."""

import os
import textwrap
from pathlib import Path

import pytest

# Identical programs compile once across tests and test subprocesses; sweeps' default --compile-cache
# is this directory too, never the user's.
os.environ["JAX_COMPILATION_CACHE_DIR"] = str(Path(__file__).parent.parent / ".pytest_cache" / "jax")

TINY_RECIPE = '''
from hyperlax.space import Beta, Categorical, Fixed, InvLogUniform, LogUniform, Quantized, Uniform, UniformInt

def get_base_config():
    return {
        "algorithm": {
            "name": "ppo",
            "hyperparam": {
                "actor_lr": 3e-4, "critic_lr": 3e-4, "anneal_lr": False, "gamma": 0.99,
                "gae_lambda": 0.95, "clip_eps": 0.2, "ent_coef": 0.01, "vf_coef": 0.5,
                "max_grad_norm": 0.5, "rollout_length": 32, "num_envs": 4,
                "update_epochs": 2, "num_minibatches": 2,
            },
            "network": {
                "actor_network": {"pre_torso": {"layer_sizes": [16], "activation": "tanh"}},
                "critic_network": {"pre_torso": {"layer_sizes": [16], "activation": "tanh"}},
            },
        },
        "training": {"total_timesteps": 1024, "num_evaluations": 2, "num_eval_episodes": 2},
    }

def get_base_hyperparam_distributions():
    return {
        "algorithm.hyperparam.actor_lr": LogUniform(domain=(1e-4, 1e-3)),
        "algorithm.hyperparam.critic_lr": LogUniform(domain=(1e-4, 1e-3)),
        "algorithm.hyperparam.gamma": Uniform(domain=(0.9, 0.99)),
        "algorithm.hyperparam.ent_coef": LogUniform(domain=(1e-4, 1e-2)),
        EXTRA
    }
'''


def write_recipe(folder: Path, name: str = "tiny_ppo", extra: str = "") -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(TINY_RECIPE).replace("EXTRA", extra))
    return path


@pytest.fixture
def tiny_recipe(tmp_path: Path) -> Path:
    """A recipe with one architecture: every sample shares one compiled function."""
    return write_recipe(tmp_path)


@pytest.fixture
def two_arch_recipe(tmp_path: Path) -> Path:
    """A recipe whose samples use one of two hidden widths (two structures)."""
    extra = '"algorithm.network.actor_network.pre_torso.layer_sizes": Categorical(values=[[8], [16]]),'
    return write_recipe(tmp_path, "two_arch_ppo", extra)
