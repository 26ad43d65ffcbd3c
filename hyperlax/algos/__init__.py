"""Algorithms: each module declares an `ALGORITHM` (see `interface.Algorithm`).

A recipe's `algorithm.name` is a built-in name (ppo, dqn, sac), the path of a researcher's module
(.py, absolute or relative to the recipe's folder) or its import name (my_package.my_algorithm).
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from hyperlax.algos import dqn, ppo, sac
from hyperlax.algos.interface import Algorithm

ALGORITHMS = {a.name: a for a in (ppo.ALGORITHM, dqn.ALGORITHM, sac.ALGORITHM)}
FUNCTIONS = ("check_config", "check_env", "padded_extents", "make_segments")


def load_algorithm(name: str, folder: Path) -> Algorithm:
    """The algorithm `name` names; ValueError says what is missing or wrong."""
    if name in ALGORITHMS:
        return ALGORITHMS[name]
    path = Path(name).expanduser()
    path = path if path.is_absolute() else folder / path
    try:
        if name.endswith(".py"):
            if not path.is_file():
                raise ValueError(f"algorithm module {path} does not exist")
            spec = importlib.util.spec_from_file_location(f"hyperlax_algorithm_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(name)
    except ModuleNotFoundError:
        raise ValueError(
            f"algorithm.name {name!r} is not one of {', '.join(ALGORITHMS)}, a .py path or an importable module"
        ) from None
    except SyntaxError as err:
        raise ValueError(f"algorithm module {err.filename}, line {err.lineno}: {err.msg}") from None
    except Exception as err:  # noqa: BLE001 (any error while importing a user's module is reported, not raised)
        raise ValueError(f"algorithm module {name!r} failed to import: {type(err).__name__}: {err}") from None
    algorithm = getattr(module, "ALGORITHM", None)
    if not isinstance(algorithm, Algorithm):
        raise ValueError(
            f"algorithm module {name!r} must define ALGORITHM = hyperlax.algos.interface.Algorithm(...), "
            f"got {type(algorithm).__name__}"
        )
    broken = [f for f in FUNCTIONS if not callable(getattr(algorithm, f))]
    if algorithm.lane_bytes is not None and not callable(algorithm.lane_bytes):
        broken.append("lane_bytes")
    if broken:
        raise ValueError(f"algorithm module {name!r}: ALGORITHM.{', ALGORITHM.'.join(broken)} must be functions")
    return algorithm


__all__ = ["ALGORITHMS", "load_algorithm"]
