"""Evaluating the final policies a sweep saved (each batch's params.npz) on fresh episodes, without training.

Each sample's final parameters, one set per training seed, are evaluated by the algorithm's
`Segments.evaluate` (the evaluation its training runs at each milestone) with fresh keys and as
many episodes as asked. For a PBT sweep these are the parameters its member ended with: the policy
PBT hands over, which a replayed schedule trained from scratch does not reproduce.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from rich.console import Console

from hyperlax import store
from hyperlax.algos.common import LANES
from hyperlax.algos.interface import lane_hparams
from hyperlax.config import flatten, merge
from hyperlax.envs import make_env
from hyperlax.report.sweep_data import RERUNS, load_sweep, row_of, sample_config, sweep_recipe
from hyperlax.run.checkpoint import leaf_name
from hyperlax.run.executor import lane_key


def final_params(directory: Path, sample_id: int, like: Any) -> Any:
    """The sample's final parameters from its batch's params.npz, in the structure of `like`
    (leaves [seeds, ...]); a missing or misshapen leaf is a ValueError naming it."""
    with np.load(directory / "params.npz") as arrays:

        def load(path, leaf):
            name = f"sample_{sample_id}/{leaf_name(path)}"
            if name not in arrays.files or arrays[name].shape != leaf.shape:
                found = arrays[name].shape if name in arrays.files else "nothing"
                raise ValueError(f"{directory / 'params.npz'}: {name} should have shape {leaf.shape}, found {found}")
            return jnp.asarray(arrays[name], leaf.dtype)

        return jax.tree_util.tree_map_with_path(load, like)


def evaluate_final(
    root: str | Path, sample_ids: list[int], episodes: int = 64, seed: int | None = None, console: Console | None = None
) -> dict[str, Any]:
    """Evaluate each sample's final policies (one per training seed) with `episodes` fresh greedy
    episodes each; writes and returns <sweep>/reruns/evaluate_seed_<seed>.json. The seed (of the
    episodes' keys) defaults to the sweep's seed + 1. Unknown or unfinished samples are ValueErrors."""
    if episodes < 1:
        raise ValueError(f"--episodes must be at least 1, got {episodes}")
    data = load_sweep(root)
    seed = data.record["settings"]["seed"] + 1 if seed is None else seed
    recipe = sweep_recipe(data)
    algo = recipe.algorithm
    results = []
    for sample_id in sample_ids:
        row = row_of(data, sample_id)
        config = merge(sample_config(data, recipe, sample_id), {"training": {"num_eval_episodes": episodes}})
        segments = algo.make_segments(config, make_env(config["env"]), algo.padded_extents([config]))
        if segments.evaluate is None:
            raise ValueError(f"algorithm {algo.name!r} does not define Segments.evaluate: its policies cannot be evaluated alone")
        num_seeds = data.returns[sample_id].shape[0]
        flat = flatten(config)
        hparams = lane_hparams(algo, [{k: flat[k] for k in algo.vectorized + algo.paddable}] * num_seeds)
        keys = jax.vmap(lane_key, in_axes=(None, None, 0))(jnp.int32(seed), jnp.int32(sample_id), jnp.arange(num_seeds))
        like = jax.eval_shape(jax.vmap(segments.init, axis_name=LANES), hparams, keys)["params"]
        params = final_params(data.root / "samples" / row["directory"], sample_id, like)
        evaluated = jax.device_get(jax.jit(jax.vmap(segments.evaluate, axis_name=LANES))(params, keys))
        returns = [float(r) for r in evaluated]
        results.append({
            "sample_id": sample_id, "returns_per_seed": returns, "mean_return": float(np.mean(returns)),
            "recorded_final_return": row["final_return"],
        })
    report = {"seed": seed, "episodes_per_policy": episodes, "samples": results}
    path = data.root / RERUNS / f"evaluate_seed_{seed}.json"
    store.write_json(path, report)
    console = console or Console(stderr=True)
    for result in results:
        console.print(
            f"sample {result['sample_id']}: final policies return {result['mean_return']:.2f} over {episodes} fresh "
            f"episodes each ({len(result['returns_per_seed'])} training seed(s); recorded final return "
            f"{result['recorded_final_return']:.2f})"
        )
    console.print(f"evaluation: {path}")
    return report
