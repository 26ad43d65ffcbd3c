"""Shared fixtures: a tiny PPO recipe (fast to train) written into the test's folder; four padded PPO lanes
and their solo runs (test_padding, test_segments)."""

import os
import textwrap
from pathlib import Path

import pytest

# Identical programs compile once across tests and test subprocesses (every program is cached, however
# quickly it compiled); sweeps' default --compile-cache is this directory too, never the user's.
os.environ["JAX_COMPILATION_CACHE_DIR"] = str(Path(__file__).parent.parent / ".pytest_cache" / "jax")
os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
# Tests compile many small programs and run each briefly: without XLA's costlier optimizations they
# compile about three times as fast (and run about twice as slow). Learning checks (marked slow) run
# long and were calibrated with them: they get them back.
os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "1"

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


@pytest.fixture(autouse=True)
def full_optimization_for_learning_checks(request):
    """XLA's full optimizations while a test marked slow runs (its long training runs faster)."""
    if request.node.get_closest_marker("slow") is None:
        yield
        return
    import jax

    jax.config.update("jax_disable_most_optimizations", False)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", True)


@pytest.fixture
def tiny_recipe(tmp_path: Path) -> Path:
    """A recipe with one architecture: every sample shares one compiled function."""
    return write_recipe(tmp_path)


@pytest.fixture
def two_arch_recipe(tmp_path: Path) -> Path:
    """A recipe whose samples use one of two hidden widths (two structures)."""
    extra = '"algorithm.network.actor_network.pre_torso.layer_sizes": Categorical(values=[[8], [16]]),'
    return write_recipe(tmp_path, "two_arch_ppo", extra)


# Four lanes of the tiny recipe (learning rate annealed) that differ in every paddable value and take
# 32, 64, 128 and 256 env steps per update: 8, 4, 2 and 1 updates of a 256-step budget.
PADDED_LANES = [(1, 32, 1, 1, 3e-4), (4, 16, 2, 2, 5e-4), (16, 8, 3, 4, 7e-4), (64, 4, 4, 8, 9e-4)]
PADDED_BUDGET, PADDED_SEGMENTS = 256, 4


@pytest.fixture(scope="session")
def padded_ppo(tmp_path_factory):
    """PADDED_LANES run as one padded unit in PADDED_SEGMENTS segments and each alone (tests.lanes.PaddedRun)."""
    from tests.lanes import padded_and_solo, ppo_paddable

    recipe = write_recipe(tmp_path_factory.mktemp("padded"), "annealed_ppo")
    recipe.write_text(recipe.read_text().replace('"anneal_lr": False', '"anneal_lr": True'))
    samples = [ppo_paddable(*lane) for lane in PADDED_LANES]
    return padded_and_solo(recipe, samples, PADDED_BUDGET, PADDED_SEGMENTS)
