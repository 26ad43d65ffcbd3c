"""Learning check for continuous PPO: the ppo_continuous_mlp defaults swing up and balance Pendulum-v1."""

import csv

import pytest

from hyperlax.recipes import load_recipe
from hyperlax.run.loop import Settings, execute, prepare, start

BUDGET = 200_000  # env steps; the smallest tried at which every one of 8 seeds ended at -400 or better


@pytest.mark.slow
def test_continuous_ppo_defaults_reach_minus_400_on_pendulum_within_200k_steps(tmp_path):
    recipe = load_recipe("ppo_continuous_mlp", "gymnax.pendulum")
    defaults = [{}]  # one sample that changes nothing: the recipe's defaults
    settings = Settings(num_seeds=2, seed=0, total_timesteps=BUDGET)
    prepared = prepare(recipe, defaults, settings, {"kind": "defaults"})
    assert prepared.base_config["training"]["total_timesteps"] == BUDGET
    start(tmp_path, prepared, {}, resume=False)
    summary = execute(tmp_path, prepared)
    (row,) = summary["best"]
    (metrics,) = tmp_path.glob("samples/*/metrics.csv")
    rows = list(csv.DictReader(metrics.open()))
    last = max(int(r["milestone_index"]) for r in rows)
    rows = [r for r in rows if int(r["milestone_index"]) == last]
    per_seed = [float(r["mean_return"]) for r in sorted(rows, key=lambda r: int(r["seed_index"]))]
    print(
        f"Pendulum-v1 greedy mean return after {BUDGET} steps: final {row['final_return']:.1f} "
        f"(seeds: {', '.join(f'{r:.1f}' for r in per_seed)}), best {row['best_return']:.1f}"
    )
    assert len(per_seed) == 2
    assert row["final_return"] >= -400
