"""Learning checks: real training, real returns."""

import pytest

from hyperlax.recipes import load_recipe
from hyperlax.run.loop import Settings, execute, prepare, start


@pytest.mark.slow
def test_ppo_defaults_reach_450_on_cartpole_within_500k_steps(tmp_path):
    recipe = load_recipe("ppo_mlp", "gymnax.cartpole")
    assert recipe.base_config["training"]["total_timesteps"] == 500_000
    defaults = [{}]  # one sample that changes nothing: the recipe's defaults
    prepared = prepare(recipe, defaults, Settings(num_seeds=2, seed=0), {"kind": "defaults"})
    start(tmp_path, prepared, {}, resume=False)
    summary = execute(tmp_path, prepared)
    (row,) = summary["best"]
    print(f"CartPole-v1 greedy mean return over 2 seeds: final {row['final_return']:.1f}, best {row['best_return']:.1f}")
    assert row["best_return"] >= 450
