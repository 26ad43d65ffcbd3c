"""gymnax Pendulum-v1."""

from typing import Any


def get_base_config() -> dict[str, Any]:
    return {
        "env": {"name": "gymnax.pendulum", "gymnax_id": "Pendulum-v1", "params": {}},
        "training": {"total_timesteps": 1_000_000},
    }
