"""gymnax Breakout-MinAtar: 10x10 image observations, which hyperlax flattens."""

from typing import Any


def get_base_config() -> dict[str, Any]:
    return {
        "env": {"name": "minatar.breakout", "gymnax_id": "Breakout-MinAtar", "params": {}},
        "training": {"total_timesteps": 5_000_000},
    }
