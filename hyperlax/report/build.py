"""`python -m hyperlax.cli report SWEEP_DIR`: write SWEEP_DIR/report/index.html and its figures as PNGs."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from hyperlax import store
from hyperlax.recipes import RecipeError
from hyperlax.report import figures, page
from hyperlax.report.importance import build_study, importances, short_names
from hyperlax.report.sensitivity import COLUMNS, sobol_indices, write_sensitivity_csv
from hyperlax.report.sweep_data import (
    SweepData, check_metric, load_reruns, load_sweep, metric_per_seed, ranked, row_of, sweep_recipe, varying_keys,
)

REPORT = "report"
NUM_BEST = 5


class Figures:
    """Saves each figure as report/<name>.png and hands back its <img> tag."""

    def __init__(self, folder: Path):
        self.folder = folder

    def add(self, name: str, fig: Figure) -> str:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        store.atomic_write_bytes(self.folder / f"{name}.png", buffer.getvalue())
        return page.image(buffer.getvalue(), name)


def short_value(value: Any) -> str:
    return page.fmt(value) if isinstance(value, (int, float, str)) else json.dumps(value)


def overview(data: SweepData) -> str:
    """The sweep's figures: source, progress, compilations, padding, time, versions."""
    record, infos = data.record, data.infos
    env_steps = sum(i["env_steps"] for i in infos)
    slots = sum(i["env_steps"] / (1.0 - i["padding_fraction"]) for i in infos if i["padding_fraction"] < 1)
    arguments = record["arguments"]
    source = record.get("sampler") or arguments.get("sampling_method") or ("rerun" if "rerun_of" in arguments else "explicit configs")
    planned = "" if record["batches"] is None else f" of {len(record['batches'])}"  # a learning sampler plans as it asks
    rows = [
        ("directory", str(data.root)),
        ("recipes", f"{record['recipe']['algo']} on {record['recipe']['env']}"),
        ("samples", f"{source}: {len(data.rows)} of {record['num_samples']} finished"),
        ("batches", f"{len(infos)}{planned} finished"),
        ("settings", ", ".join(f"{k}={v}" for k, v in record["settings"].items())),
        ("compile count", sum(i["compiles"] for i in infos)),
        ("padding fraction", round(1.0 - env_steps / slots, 4) if slots else 0.0),
        ("wall time of finished batches (s)", round(sum(i["wall_s"] for i in infos), 1)),
        ("versions", ", ".join(f"{k} {v}" for k, v in record["versions"].items())),
    ]
    return page.section("Sweep", page.table(None, rows))


def best_table(data: SweepData, best: list[dict[str, Any]], keys: list[str], metric: str) -> str:
    names = short_names(keys)
    header = ("sample_id", "final_return", "best_return", "std over seeds", "seeds", *names.values())
    rows = []
    for r in best:
        per_seed = metric_per_seed(data.returns[r["sample_id"]], metric)
        rows.append(
            (r["sample_id"], r["final_return"], r["best_return"], float(np.std(per_seed)), len(per_seed),
             *(short_value(r["hyperparams"][k]) for k in keys))
        )
    return page.table(header, rows)


def importance_section(found: dict[str, dict[str, float] | str], pictures: Figures) -> list[str]:
    computed = {name: values for name, values in found.items() if isinstance(values, dict)}
    parts = [page.note(f"{name}: {why}") for name, why in found.items() if isinstance(why, str)]
    if computed:
        parts.insert(0, pictures.add("importance", figures.importance_bars(computed)))
        keys = list(next(iter(computed.values())))
        parts.append(page.table(("hyperparameter", *computed), [(k, *(v.get(k, math.nan) for v in computed.values())) for k in keys]))
    return parts


def sensitivity_section(data: SweepData, metric: str, folder: Path, pictures: Figures) -> list[str]:
    indices = sobol_indices(data, metric)
    if isinstance(indices, str):
        return [page.note(f"Sobol indices not computed: {indices}.")]
    write_sensitivity_csv(folder / "sensitivity.csv", indices)
    return [pictures.add("sensitivity", figures.sobol_bars(indices)), page.table(COLUMNS, [[r[c] for c in COLUMNS] for r in indices])]


def rerun_section(data: SweepData, metric: str, pictures: Figures) -> list[str]:
    reruns = load_reruns(data)
    rows = []
    for rerun, original_ids in reruns:
        for rerun_id, original in enumerate(original_ids):
            sweep_row = row_of(data, original)
            fresh = metric_per_seed(rerun.returns[rerun_id], metric) if rerun_id in rerun.returns else np.array([])
            mean = float(fresh.mean()) if len(fresh) else "running"
            spread = float(fresh.std()) if len(fresh) else ""
            rows.append((original, sweep_row[metric], rerun.root.name, len(fresh), mean, spread))
    if not rows:
        return [page.note("No re-runs yet: python -m hyperlax.cli rerun SWEEP_DIR --top 3")]
    header = ("sample_id", f"sweep {metric}", "rerun", "fresh seeds", f"rerun {metric} mean", "std over seeds")
    parts = [page.table(header, rows)]
    if any(rerun.returns for rerun, _ in reruns):
        parts.insert(0, pictures.add("reruns", figures.rerun_comparison(data, reruns, metric)))
    return parts


def study_sections(data: SweepData, keys: list[str], metric: str, pictures: Figures) -> list[str]:
    """Hyperparameter effects, parallel coordinates and importance, from an Optuna study of the results."""
    notes = []
    try:
        distributions = sweep_recipe(data).distributions
    except RecipeError as err:  # e.g. the recipe file moved: no log axes, numbers stay numbers
        notes.append(page.note(f"The sweep's recipe did not load, so its distributions are unknown: {err}"))
        distributions = {}
    study = build_study(data.rows, keys, distributions, metric) if keys else None
    if study is None or len(study.trials) < 2:
        return [*notes, page.note(f"Hyperparameter effects need two finished samples with a finite {metric} that differ.")]
    effects = [pictures.add(f"effect_{n}", figures.hyperparameter_effect(study, n, metric)) for n in short_names(keys).values()]
    return [
        page.section(
            f"Hyperparameters against {metric}", *notes,
            page.note("Colour: the sample's position among the finished samples (Optuna's trial number)."),
            '<div class="grid">' + "".join(effects) + "</div>",
        ),
        page.section("Parallel coordinates", pictures.add("parallel_coordinates", figures.parallel_coordinates(study, metric))),
        page.section("Hyperparameter importance (Optuna)", *importance_section(importances(study), pictures)),
    ]


def result_sections(data: SweepData, metric: str, folder: Path, pictures: Figures) -> list[str]:
    """Every section about the finished samples (at least one)."""
    keys = varying_keys(data)
    best = ranked(data.rows, metric)[:NUM_BEST]
    curves = figures.learning_curves(data, {r["sample_id"]: r[metric] for r in best}, metric)
    return [
        page.section(
            f"Best configurations by {metric}", best_table(data, best, keys, metric),
            page.table(("name", "key"), [(n, k) for k, n in short_names(keys).items()]),
        ),
        page.section("Learning curves", pictures.add("learning_curves", curves)),
        *study_sections(data, keys, metric, pictures),
        page.section("Sobol sensitivity (SALib)", *sensitivity_section(data, metric, folder, pictures)),
        page.section("Re-runs with fresh seeds", *rerun_section(data, metric, pictures)),
    ]


def write_report(root: str | Path, metric: str = "final_return") -> Path:
    """Write <root>/report/index.html and its PNGs from what has finished; returns the page's path."""
    check_metric(metric)
    data = load_sweep(root)
    folder = data.root / REPORT
    folder.mkdir(exist_ok=True)
    pictures = Figures(folder)
    sections = [overview(data)]
    sections += result_sections(data, metric, folder, pictures) if data.rows else [page.note("Nothing has finished yet.")]
    path = folder / "index.html"
    store.atomic_write_text(path, page.document(f"hyperlax sweep: {data.root.parent.name} on {data.root.name}", sections))
    return path
