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
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from hyperlax.algos import ALGORITHMS, load_algorithm
from hyperlax.algos.interface import Algorithm
from hyperlax.config import flatten, merge
from hyperlax.envs import check_env_config, make_env
from hyperlax.errors import RecipeError
from hyperlax.space.distributions import Distribution


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


def _failure(path: Path, err: BaseException, doing: str) -> RecipeError:
    """A RecipeError naming the recipe's line where `err` was raised while `doing`."""
    if isinstance(err, SyntaxError) and err.filename == str(path):
        return RecipeError(f"{path}, line {err.lineno}: syntax error: {err.msg}; fix the recipe file")
    lines = [frame.lineno for frame in traceback.extract_tb(err.__traceback__) if frame.filename == str(path)]
    where = f"{path}, line {lines[-1]}" if lines else str(path)
    return RecipeError(f"{where}: {doing} raised {type(err).__name__}: {err}; fix the recipe file")


def _load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"hyperlax_recipe_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a recipe is user code: any error in it is the user's to fix
        raise _failure(path, err, "importing the recipe") from None
    return module


def _call(module: ModuleType, path: Path, function: str) -> dict[str, Any]:
    if not hasattr(module, function):
        raise RecipeError(f"recipe {path} defines no {function}()")
    try:
        result = getattr(module, function)()
    except Exception as err:
        raise _failure(path, err, f"{function}()") from None
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


class MissingKey(KeyError):
    """A key the algorithm read that its config lacks; args[0] is its dotted path."""


class _Reading(dict):
    """A nested config dict whose missing keys raise MissingKey with their dotted path."""

    def __init__(self, data: dict[str, Any], prefix: str = ""):
        super().__init__({k: _Reading(v, f"{prefix}{k}.") if isinstance(v, dict) else v for k, v in data.items()})
        self.prefix = prefix

    def __missing__(self, key: str) -> Any:
        raise MissingKey(f"{self.prefix}{key}")


def check_algorithm_reads(algo: Algorithm, config: dict[str, Any], algo_path: str, env_path: str) -> None:
    """Raise RecipeError naming the key and the recipes if the algorithm reads a key `config` lacks:
    one of its vectorized or paddable keys, or one its checks, extents or make_segments (which
    builds, not compiles) read."""
    reading = _Reading(config)
    try:
        flat = flatten(config)
        for key in algo.vectorized + algo.paddable:  # traced per lane: read from every sample's config
            if key not in flat:
                raise MissingKey(key)
        algo.check_config(reading)
        algo.make_segments(reading, make_env(config["env"]), algo.padded_extents([reading]))
    except MissingKey as err:
        raise RecipeError(
            f"{algo_path} (merged over {env_path}): the config has no key {err.args[0]!r}, which {algo.name} "
            f"reads; add it to get_base_config(){_shipped_value(algo.name, err.args[0])}"
        ) from None
    except ValueError:
        return  # a bad value, reported per sample when the sweep is prepared
    except Exception as err:  # noqa: BLE001 (a researcher's module: report, do not raise)
        if algo in ALGORITHMS.values():
            raise
        raise RecipeError(f"{algo_path}: algorithm {algo.name!r} failed checking the config: {type(err).__name__}: {err}") from None


def _shipped(algorithm: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, get_base_config()) of every shipped algorithm recipe of `algorithm`."""
    found = []
    for name in available("algo"):
        path = _resolve(name, "algo")
        config = _call(_load_module(path), path, "get_base_config")
        if config["algorithm"]["name"] == algorithm:
            found.append((name, config))
    return found


def _shipped_value(algorithm: str, key: str) -> str:
    """' (configs/algo/<name>.py sets it: <value>)' from the first shipped recipe of `algorithm` with `key`, else ''."""
    for name, config in _shipped(algorithm):
        flat = flatten(config)
        if key in flat:
            return f" (configs/algo/{name}.py sets it: {flat[key]!r})"
    return ""


def _check_sections(config: dict[str, Any], reference: dict[str, Any], path: Path, prefix: str = "") -> None:
    """Raise RecipeError naming the first key that `reference` holds as a section (a dict) but `config` does not."""
    for key, section in reference.items():
        if isinstance(section, dict) and key in config:
            if not isinstance(config[key], dict):
                raise RecipeError(f"{path}: {prefix}{key} must be a section (a dict of keys), got {config[key]!r}")
            _check_sections(config[key], section, path, f"{prefix}{key}.")


def load_recipe(algo: str, env: str) -> Recipe:
    """Load, merge and check both recipes; every error names the file and the key."""
    algo_path, env_path = _resolve(algo, "algo"), _resolve(env, "env")
    algo_module, env_module = _load_module(algo_path), _load_module(env_path)
    algo_config = _call(algo_module, algo_path, "get_base_config")
    distributions = _call(algo_module, algo_path, "get_base_hyperparam_distributions")
    env_config = _call(env_module, env_path, "get_base_config")
    if "env" not in env_config:
        raise RecipeError(f"{env_path}: get_base_config() needs an 'env' section")
    for config, path in ((env_config, env_path), (algo_config, algo_path)):
        _check_sections(config, {"algorithm": {}, "env": {}, "training": {}}, path)
    base_config = merge(env_config, algo_config)
    name = base_config.get("algorithm", {}).get("name")
    if not isinstance(name, str):
        raise RecipeError(f"{algo_path}: algorithm.name must be one of {', '.join(ALGORITHMS)} or a module, got {name!r}")
    try:
        algorithm = load_algorithm(name, algo_path.parent)
    except ValueError as err:
        raise RecipeError(f"{algo_path}: {err}") from None
    if name in ALGORITHMS:
        _check_sections(algo_config, _shipped(name)[0][1], algo_path)
    check_distributions(distributions, base_config, str(algo_path))
    try:
        check_env_config(base_config["env"])
    except ValueError as err:
        raise RecipeError(f"{env_path}: {err}") from None
    _check_action_space(algorithm, algo_path, base_config["env"], env)
    check_algorithm_reads(algorithm, base_config, str(algo_path), str(env_path))
    return Recipe(
        algo_name=algo_path.stem,
        env_name=env_config["env"].get("name", env_path.stem),
        algo_path=str(algo_path),
        env_path=str(env_path),
        base_config=base_config,
        distributions=distributions,
        algorithm=algorithm,
    )
