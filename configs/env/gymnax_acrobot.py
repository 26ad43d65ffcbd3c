"""gymnax Acrobot-v1."""

from typing import Any


def get_base_config() -> dict[str, Any]:
    return {
        "env": {"name": "gymnax.acrobot", "gymnax_id": "Acrobot-v1", "params": {}},
        "training": {"total_timesteps": 500_000},
    }
