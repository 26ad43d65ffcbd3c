"""Sweep front ends: ways of writing many configs, each giving plain flat dicts of dotted keys.

- `piter`: lazy operator algebra over dicts (`piter @ {...} * {...} % {...}`);
- `Sweep`: a builder checked against a function's parameters or a dataclass's fields;
- `DynamicValue` / `expand`: swept values marked inside nested configs;
- `parse_value` / `expand_value_strings`: command-line value strings, parsed without eval;
- `load_wandb_sweep`: W&B-style sweep YAML files and dicts.
"""

from hyperlax.syntax.builder import Sweep
from hyperlax.syntax.dynamic import DynamicValue, expand
from hyperlax.config import flatten
from hyperlax.syntax.piter import PIter, piter
from hyperlax.syntax.value_strings import STRATEGIES, expand_value_strings, parse_candidates, parse_value
from hyperlax.syntax.wandb import WandbSweep, load_wandb_sweep

__all__ = [
    "STRATEGIES",
    "DynamicValue",
    "PIter",
    "Sweep",
    "WandbSweep",
    "expand",
    "expand_value_strings",
    "flatten",
    "load_wandb_sweep",
    "parse_candidates",
    "parse_value",
    "piter",
]
