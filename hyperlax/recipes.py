"""Loading recipe files: by name from hyperlax's configs/ folder, or by path to a user's file.

An algorithm recipe defines get_base_config() (every default) and
get_base_hyperparam_distributions() (dotted key -> distribution). An env recipe defines
get_base_config() with an "env" section and the env's budget (training.total_timesteps). The
algorithm recipe is merged over the env recipe, so a user's recipe that sets a value wins.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from hyperlax.algos import ALGORITHMS, load_algorithm
from hyperlax.algos.interface import Algorithm
from hyperlax.config import flatten, merge
from hyperlax.envs import check_env_config, make_env
from hyperlax.space.distributions import Distribution


class RecipeError(ValueError):
    """A recipe that cannot be used; the message names the file, key and value."""


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What a sweep needs from its recipes: names, the merged defaults and the search space."""

    algo_name: str  # e.g. "ppo_mlp" (the file's stem)
    env_name: str  # e.g. "gymnax.pendulum"
    algo_path: str
    env_path: str
    base_config: dict[str, Any]  # nested: env recipe, then algorithm recipe merged over it
    distributions: dict[str, Distribution]  # dotted key -> distribution
    algorithm: Algorithm  # what algorithm.name names


def available(kind: str) -> list[str]:
    """Recipe names shipped in configs/<kind>/ ("algo" or "env"); env names use dots."""
    folder = importlib.resources.files("hyperlax.configs") / kind
    stems = sorted(p.name[:-3] for p in folder.iterdir() if p.name.endswith(".py") and not p.name.startswith("_"))
    return [stem.replace("_", ".", 1) for stem in stems] if kind == "env" else stems


def _resolve(name_or_path: str, kind: str) -> Path:
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix == ".py" or candidate.is_file():
        if not candidate.is_file():
            raise RecipeError(f"{kind} recipe file {name_or_path!r} does not exist")
        return candidate.resolve()
    stem = name_or_path.replace(".", "_")
    path = Path(str(importlib.resources.files("hyperlax.configs") / kind / f"{stem}.py"))
    if not path.is_file():
        flag = "--algo-and-network-config" if kind == "algo" else "--env-config"
        raise RecipeError(
            f"unknown {flag} {name_or_path!r}; available: {', '.join(available(kind))} "
            "(or give the path to a recipe .py file)"
        )
    return path


def _load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"hyperlax_recipe_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _call(module: ModuleType, path: Path, function: str) -> dict[str, Any]:
    if not hasattr(module, function):
        raise RecipeError(f"recipe {path} defines no {function}()")
    result = getattr(module, function)()
    if not isinstance(result, dict):
        raise RecipeError(f"{path}: {function}() must return a dict, got {type(result).__name__}")
    return result


def check_distributions(
    distributions: dict[str, Any], base_config: dict[str, Any], source: str
) -> None:
    """Raise RecipeError naming the first key that is unknown or whose distribution is bad."""
    known = flatten(base_config)
    for key, dist in distributions.items():
        if key not in known:
            raise RecipeError(
                f"{source}: search-space key {key!r} is not a field of the config; "
                f"known keys under {key.rsplit('.', 1)[0]!r}: "
                f"{', '.join(k for k in known if k.startswith(key.rsplit('.', 1)[0] + '.')) or 'none'}"
            )
        if not isinstance(dist, Distribution):
            raise RecipeError(f"{source}: {key!r} must map to a distribution, got {dist!r}")
        problem = dist.validate()
        if problem:
            raise RecipeError(f"{source}: {key!r}: {problem}")


def _algorithm_of(recipe_name: str) -> str:
    """The algorithm.name of a shipped algorithm recipe."""
    path = _resolve(recipe_name, "algo")
    return _call(_load_module(path), path, "get_base_config")["algorithm"]["name"]


def _check_action_space(algorithm: Algorithm, algo_path: Path, env_config: dict[str, Any], env: str) -> None:
    """Raise RecipeError if the algorithm cannot act in the env, naming the shipped recipes that can."""
    space = "discrete" if make_env(env_config).discrete else "continuous"
    needs = algorithm.action_spaces
    if space in needs:
        return
    fitting = [name for name in available("algo") if space in ALGORITHMS[_algorithm_of(name)].action_spaces]
    raise RecipeError(
        f"{algo_path}: {algorithm.name} needs {' or '.join(needs)} actions, but the action space of {env} "
        f"({env_config['gymnax_id']}) is {space}; algorithm recipes that fit it: {', '.join(fitting)}"
    )


def load_recipe(algo: str, env: str) -> Recipe:
    """Load, merge and check both recipes; every error names the file and the key."""
    algo_path, env_path = _resolve(algo, "algo"), _resolve(env, "env")
    algo_module, env_module = _load_module(algo_path), _load_module(env_path)
    algo_config = _call(algo_module, algo_path, "get_base_config")
    distributions = _call(algo_module, algo_path, "get_base_hyperparam_distributions")
    env_config = _call(env_module, env_path, "get_base_config")
    if "env" not in env_config:
        raise RecipeError(f"{env_path}: get_base_config() needs an 'env' section")
    base_config = merge(env_config, algo_config)
    name = base_config.get("algorithm", {}).get("name")
    if not isinstance(name, str):
        raise RecipeError(f"{algo_path}: algorithm.name must be one of {', '.join(ALGORITHMS)} or a module, got {name!r}")
    try:
        algorithm = load_algorithm(name, algo_path.parent)
    except ValueError as err:
        raise RecipeError(f"{algo_path}: {err}") from None
    known = flatten(base_config)
    missing = [k for k in algorithm.vectorized + algorithm.paddable if k not in known]
    if missing:
        raise RecipeError(f"{algo_path}: the config lacks {', '.join(missing)}, which {algorithm.name} reads")
    check_distributions(distributions, base_config, str(algo_path))
    try:
        check_env_config(base_config["env"])
    except ValueError as err:
        raise RecipeError(f"{env_path}: {err}") from None
    _check_action_space(algorithm, algo_path, base_config["env"], env)
    return Recipe(
        algo_name=algo_path.stem,
        env_name=env_config["env"].get("name", env_path.stem),
        algo_path=str(algo_path),
        env_path=str(env_path),
        base_config=base_config,
        distributions=distributions,
        algorithm=algorithm,
    )
