"""gymnax Catch-bsuite: a 10x5 grid observation, which hyperlax flattens."""

from typing import Any


def get_base_config() -> dict[str, Any]:
    return {
        "env": {"name": "bsuite.catch", "gymnax_id": "Catch-bsuite", "params": {}},
        "training": {"total_timesteps": 100_000},
    }
