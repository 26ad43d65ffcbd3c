"""YAML loading that reads exponent floats such as `1e-5` as numbers, as YAML 1.2 does."""

from __future__ import annotations

import re
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader; its YAML 1.1 float rule needs a dot, so `1e-5` would be a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_yaml(text: str) -> Any:
    """Parse YAML safely (plain data only), reading `1e-5` as the float 1e-05."""
    return yaml.load(text, Loader=_Loader)
