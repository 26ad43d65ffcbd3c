"""gymnax MountainCar-v0."""

from typing import Any


def get_base_config() -> dict[str, Any]:
    return {
        "env": {"name": "gymnax.mountain_car", "gymnax_id": "MountainCar-v0", "params": {}},
        "training": {"total_timesteps": 1_000_000},
    }
