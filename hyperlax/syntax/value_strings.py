"""Command-line value strings ("[32, 64]", "range(1, 10, 2)", "uniform(1e-5, 1e-1, 3)", "adam").

Strings are parsed with `ast` into literal nodes and a whitelist of call names, never evaluated.
`parse_value` returns a list of candidates for these forms:

- list: "[32, 64, 128]", "['resnet18', 'transformer']" (non-empty; items are Python literals,
  nested lists and tuples included; a bare word item follows the scalar rule below);
- range: "range(stop)", "range(start, stop)", "range(start, stop, step)" (ints, non-empty);
- draws: "uniform(low, high, n)", "loguniform(low, high, n)", "normal(mean, std, n)",
  "lognormal(mean, std, n)" (mean and std of the log), "randint(low, high, n)" give n seeded draws;
  the last argument is the count. uniform and loguniform lie in [low, high); as in numpy,
  randint's `high` is exclusive.
  A `seed=K` keyword overrides the caller's seed.

and a scalar for anything else:

- ints and floats ("32", "-3", "1e-2"); "1" and "0" are the ints 1 and 0 (apply `bool` to get
  booleans); quoted strings ("'bert'"); "None";
- booleans: true, false, yes, no, in any case ("True", "FALSE", "Yes");
- any other text with no brackets, parentheses or braces and no leading quote is a bare string
  ("adam", "gymnax.pendulum", "CartPole-v1").

Anything else (a call not whitelisted, an attribute call such as "__import__('os').system('x')",
an unclosed bracket, an empty list or range, bad arguments) is a ValueError naming the string.
"""

from __future__ import annotations

import ast
import copy
import math
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hyperlax.space.distributions import Distribution, LogNormal, LogUniform, Normal, Uniform, UniformInt
from hyperlax.space.samplers import draw_unit

STRATEGIES = ("grid", "random_search", "none")
_BOOL_WORDS = {"true": True, "yes": True, "false": False, "no": False}
_SCALAR_TYPES = (bool, int, float, str, type(None))
# name -> (argument names before the count, distribution of those arguments)
_DRAWS: dict[str, tuple[str, Callable[[float, float], Distribution]]] = {
    "uniform": ("low, high", lambda low, high: Uniform((low, high))),
    "loguniform": ("low, high", lambda low, high: LogUniform((low, high))),
    "normal": ("mean, std", Normal),
    "lognormal": ("mean, std", LogNormal),
    "randint": ("low, high", lambda low, high: UniformInt((low, high - 1))),
}
_CALL_FORMS = "range(...), " + ", ".join(f"{name}({args}, count)" for name, (args, _) in _DRAWS.items())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _literal(node: ast.expr, in_list: bool) -> Any:
    """The value of a literal node; bare words are allowed only inside a list."""
    if isinstance(node, ast.Constant) and isinstance(node.value, _SCALAR_TYPES):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and _is_number(node.operand.value)
    ):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal(item, in_list) for item in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if in_list and isinstance(node, ast.Name):
        return _BOOL_WORDS.get(node.id.lower(), node.id)
    raise ValueError(f"{ast.unparse(node)!r} is not a literal")


def _call(node: ast.Call, seed: int) -> list[Any]:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name != "range" and name not in _DRAWS:
        called = ast.unparse(node.func)
        raise ValueError(f"{called!r} is not an allowed function; expected one of {_CALL_FORMS}")
    args = [_literal(arg, in_list=False) for arg in node.args]
    keywords = {kw.arg: _literal(kw.value, in_list=False) for kw in node.keywords}
    if name == "range":
        if keywords or not 1 <= len(args) <= 3 or not all(_is_number(a) and isinstance(a, int) for a in args):
            raise ValueError("range takes one to three int arguments")
        if len(args) == 3 and args[2] == 0:
            raise ValueError("range step must not be zero")
        values = list(range(*args))
        if not values:
            raise ValueError("range is empty")
        return values
    arg_names, make = _DRAWS[name]
    if set(keywords) - {"seed"}:
        raise ValueError(f"{name} takes only a seed= keyword, got {', '.join(map(str, keywords))}")
    seed = keywords.get("seed", seed)
    if len(args) != 3 or not all(_is_number(a) for a in args):
        raise ValueError(f"{name} takes three numbers: {name}({arg_names}, count)")
    low, high, count = args
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"{name}'s count (its last argument) must be a positive int, got {count!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if name == "randint" and not (isinstance(low, int) and isinstance(high, int) and low < high):
        raise ValueError(f"randint needs ints low < high (high exclusive), got {low!r}, {high!r}")
    distribution = make(low, high)
    if name != "randint" and (problem := distribution.validate()):
        raise ValueError(f"{name}: {problem}")
    return [distribution.from_unit(float(u)) for u in draw_unit(count, 1, "random", seed)[:, 0]]


def parse_value(text: str, seed: int = 0) -> Any:
    """The candidates (a list) of a list, range or draw string, or the value of a scalar string.

    Draws are reproducible from `seed`. See the module docstring for the forms; a malformed
    string is a ValueError that names it.
    """
    if not isinstance(text, str):
        raise ValueError(f"a value string must be a str, got {text!r}")
    stripped = text.strip()
    if not stripped:
        raise ValueError("empty value string")
    if stripped.lower() in _BOOL_WORDS:
        return _BOOL_WORDS[stripped.lower()]
    try:
        node = ast.parse(stripped, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        node = None
    if not (stripped[0] in "'\"" or any(char in stripped for char in "()[]{}")):
        try:
            return stripped if node is None else _literal(node, in_list=False)
        except ValueError:
            return stripped
    if node is None:
        raise ValueError(f"bad value string {text!r}: not valid syntax (an unclosed bracket or quote?)")
    try:
        if isinstance(node, ast.List):
            values = _literal(node, in_list=True)
            if not values:
                raise ValueError("the list is empty")
            return values
        if isinstance(node, ast.Call):
            return _call(node, seed)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
    except ValueError as error:
        raise ValueError(f"bad value string {text!r}: {error}") from None
    raise ValueError(
        f"bad value string {text!r}: expected a list [...], {_CALL_FORMS}, "
        "or a scalar (quote a string that has brackets)"
    )


def parse_candidates(text: str, seed: int = 0) -> list[Any]:
    """`parse_value`'s result as a list: a scalar becomes a one-item list."""
    value = parse_value(text, seed)
    return value if isinstance(value, list) else [value]


def _key_seed(seed: int, key: str) -> int:
    """A seed for `key`'s draws, so that keys with equal draw strings still draw independently."""
    return int(np.random.SeedSequence([seed, zlib.crc32(key.encode())]).generate_state(1)[0])


def expand_value_strings(
    assignments: Mapping[str, str], strategy: str = "grid", num_trials: int | None = None, seed: int = 0
) -> list[dict[str, Any]]:
    """Configs (flat dicts of the given dotted keys) from one value string per key.

    `grid`: every combination of the keys' candidates, the first key varying slowest.
    `random_search`: `num_trials` distinct grid configs chosen with `seed`, kept in grid order;
    more trials than the grid has configs is a ValueError. `none`: one config of the strings as
    given, unparsed. Each key's draws use a seed derived from (`seed`, key).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    for key, text in assignments.items():
        if not isinstance(key, str) or not isinstance(text, str):
            raise ValueError(f"value strings are str -> str, got {key!r}: {text!r}")
    if strategy != "random_search" and num_trials is not None:
        raise ValueError(f"num_trials applies only to strategy 'random_search', not {strategy!r}")
    if strategy == "random_search" and (
        isinstance(num_trials, bool) or not isinstance(num_trials, int) or num_trials < 1
    ):
        raise ValueError(f"random_search needs num_trials, a positive int, got {num_trials!r}")
    if strategy == "none":
        return [dict(assignments)]
    candidates: dict[str, list[Any]] = {}
    for key, text in assignments.items():
        try:
            candidates[key] = parse_candidates(text, _key_seed(seed, key))
        except ValueError as error:
            raise ValueError(f"{key}: {error}") from None
    total = math.prod(len(values) for values in candidates.values())
    if strategy == "grid":
        indices: list[int] | range = range(total)
    elif num_trials > total:
        raise ValueError(f"num_trials={num_trials} is more than the grid's {total} configs")
    else:
        indices = sorted(np.random.default_rng(seed).choice(total, size=num_trials, replace=False).tolist())
    return [_grid_config(candidates, index) for index in indices]


def _grid_config(candidates: dict[str, list[Any]], index: int) -> dict[str, Any]:
    """Config number `index` of the grid over `candidates`, first key slowest."""
    positions = {}
    for key in reversed(candidates):
        index, positions[key] = divmod(index, len(candidates[key]))
    return {key: copy.deepcopy(values[positions[key]]) for key, values in candidates.items()}
