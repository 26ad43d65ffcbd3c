"""Algorithms: each module declares an `ALGORITHM` (see `interface.Algorithm`).

A recipe's `algorithm.name` is a built-in name (ppo, dqn, sac), the path of a researcher's module
(.py, absolute or relative to the recipe's folder) or its import name (my_package.my_algorithm).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from hyperlax.algos import dqn, ppo, sac
from hyperlax.algos.interface import Algorithm

ALGORITHMS = {a.name: a for a in (ppo.ALGORITHM, dqn.ALGORITHM, sac.ALGORITHM)}
FUNCTIONS = ("check_config", "check_env", "padded_extents", "make_segments")
KEY_TUPLES = ("vectorized", "paddable", "action_spaces")


def load_algorithm(name: str, folder: Path) -> Algorithm:
    """The algorithm `name` names; ValueError says what is missing or wrong."""
    if name in ALGORITHMS:
        return ALGORITHMS[name]
    algorithm = getattr(_import(name, folder), "ALGORITHM", None)
    if not isinstance(algorithm, Algorithm):
        raise ValueError(
            f"algorithm module {name!r} must define ALGORITHM = hyperlax.algos.interface.Algorithm(...), "
            f"got {type(algorithm).__name__}"
        )
    broken = [f for f in FUNCTIONS if not callable(getattr(algorithm, f))]
    if algorithm.lane_bytes is not None and not callable(algorithm.lane_bytes):
        broken.append("lane_bytes")
    for field in KEY_TUPLES:
        keys = getattr(algorithm, field)
        if not isinstance(keys, tuple) or not all(isinstance(k, str) for k in keys):
            broken.append(field)
    if broken:
        raise ValueError(
            f"algorithm module {name!r}: ALGORITHM.{', ALGORITHM.'.join(broken)} must be "
            f"{'functions' if set(broken) - set(KEY_TUPLES) else 'tuples of strings'}"
        )
    return algorithm


def _import(name: str, folder: Path) -> ModuleType:
    """The module at the path `name` (absolute or relative to `folder`) or with the import name `name`.

    A module file imports as a module of its own (registered in sys.modules, its folder on the
    path while it runs, so that it may import its neighbours)."""
    if not name.endswith(".py"):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name.split(".")[0] and err.name != name:
                raise ValueError(f"algorithm module {name!r} failed to import: {err}") from None
            raise ValueError(
                f"algorithm.name {name!r} is not one of {', '.join(ALGORITHMS)}, a .py path or an importable module"
            ) from None
        except Exception as err:  # noqa: BLE001 (a user's module: report any error, do not raise it)
            raise ValueError(f"algorithm module {name!r} failed to import: {type(err).__name__}: {err}") from None
    path = Path(name).expanduser()
    path = path if path.is_absolute() else folder / path
    if not path.is_file():
        raise ValueError(f"algorithm module {path} does not exist")
    module_name = f"hyperlax_algorithm_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        raise ValueError(f"algorithm module {err.filename}, line {err.lineno}: {err.msg}") from None
    except Exception as err:  # noqa: BLE001 (a user's module: report any error, do not raise it)
        raise ValueError(f"algorithm module {path} failed to import: {type(err).__name__}: {err}") from None
    finally:
        sys.path.remove(str(path.parent))
    return module


__all__ = ["ALGORITHMS", "load_algorithm"]
