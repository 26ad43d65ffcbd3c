"""gymnax MountainCarContinuous-v0."""

from typing import Any


def get_base_config() -> dict[str, Any]:
    return {
        "env": {"name": "gymnax.mountain_car_continuous", "gymnax_id": "MountainCarContinuous-v0", "params": {}},
        "training": {"total_timesteps": 1_000_000},
    }
