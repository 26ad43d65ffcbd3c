"""Sobol sensitivity indices (SALib) of a finished Saltelli sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from SALib.analyze import sobol

from hyperlax import store
from hyperlax.report.sweep_data import SweepData
from hyperlax.space.saltelli import saltelli_problem

COLUMNS = ("key", "S1", "S1_conf", "ST", "ST_conf")


def sobol_indices(data: SweepData, metric: str) -> list[dict[str, Any]] | str:
    """First-order and total indices with 95% confidence half-widths, one row per key.

    Returns why not instead when the sweep is not a Saltelli design, or has not finished, or a
    sample's metric is not finite.
    """
    if data.record["arguments"].get("sampling_method") != "saltelli":
        return "the sweep was not sampled with --sampling-method saltelli"
    total = data.record["num_samples"]
    values = np.array([r[metric] for r in data.rows])
    if len(values) != total:
        return f"needs every sample of the Saltelli design; {len(values)} of {total} have finished"
    if not np.isfinite(values).all():
        return f"{int((~np.isfinite(values)).sum())} samples have no finite {metric}"
    # SALib seeds its bootstrap only for a truthy seed, so not 0
    indices = sobol.analyze(saltelli_problem(data.keys), values, calc_second_order=False, seed=1)
    return [
        {"key": key, **{c: float(indices[c][i]) for c in COLUMNS[1:]}} for i, key in enumerate(data.keys)
    ]


def write_sensitivity_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write `rows` as CSV with COLUMNS."""
    store.atomic_write_text(path, store.csv_text(COLUMNS, ([r[c] for c in COLUMNS] for r in rows)))
