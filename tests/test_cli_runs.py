"""The command line as a user runs it, in a subprocess with a time limit (a hang fails, not stalls)."""

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent / "examples" / "ppo_cartpole_random.yaml"


def test_example_wandb_sweep_runs_eight_lanes_to_the_end(tmp_path):
    # 8 PPO lanes on CartPole deadlocked XLA:CPU's concurrency-optimized scheduler (jaxlib 0.10.2)
    # before hyperlax turned it off; this is that shape.
    cmd = [sys.executable, "-m", "hyperlax.cli", "sweep", "--config", str(EXAMPLE), "--total-timesteps", "20000",
           "--num-evaluations", "2", "--output-root", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "ppo_mlp" / "gymnax_cartpole" / "summary.json").read_text())
    assert summary["num_finished_samples"] == 8 and summary["compile_count"] == 1
    assert summary["ranked_by"] == {"name": "final_return", "goal": "maximize"}
