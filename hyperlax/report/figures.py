"""The report's figures (matplotlib, Agg backend); each plotting function returns a Figure.

Hyperparameter effects and parallel coordinates are Optuna's matplotlib plots of the study built
from the results; learning curves, importances, Sobol indices and reruns are plotted here.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterator

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optuna  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter  # noqa: E402
from optuna.visualization import matplotlib as optuna_plots  # noqa: E402

from hyperlax.report.importance import short_names  # noqa: E402
from hyperlax.report.sweep_data import SweepData, metric_per_seed  # noqa: E402


def learning_curves(data: SweepData, best: dict[int, float], metric: str) -> Figure:
    """Mean greedy return per milestone of every sample (band: std over seeds); `best` (id -> metric) labelled in order."""
    fig, ax = plt.subplots(figsize=(9, 5))
    others = [i for i in sorted(data.returns) if i not in best]
    for sample_id in [*others, *best]:
        returns = data.returns[sample_id]
        mean, std = returns.mean(axis=0), returns.std(axis=0)
        if sample_id in best:
            style = {"lw": 2.0, "label": f"sample {sample_id}: {best[sample_id]:.4g}"}
        else:
            style = {"lw": 0.8, "color": "0.7"}
        (line,) = ax.plot(data.env_steps, mean, **style)
        ax.fill_between(data.env_steps, mean - std, mean + std, color=line.get_color(), alpha=0.2 if sample_id in best else 0.08, lw=0)
    ax.set(xlabel="env steps", ylabel="greedy mean return", title=f"learning curves ({len(data.returns)} samples)")
    if best:
        ax.legend(title=f"best by {metric}")
    ax.grid(alpha=0.3)
    return fig


@contextlib.contextmanager
def optuna_style() -> Iterator[None]:
    """Keep the style Optuna's plots set (ggplot) to them, and silence their ExperimentalWarning."""
    with plt.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def hyperparameter_effect(study: optuna.Study, name: str, metric: str) -> Figure:
    """One hyperparameter against the metric (log axis for log distributions, categories as groups)."""
    with optuna_style():
        ax = optuna_plots.plot_slice(study, params=[name], target_name=metric)
    ax.figure.set_size_inches(4.8, 3.6)
    ax.set_title(name)
    if ax.get_xscale() == "log":  # short ranges get labels at 1, 2 and 5 per decade, long ones at each decade
        low, high = ax.get_xlim()
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if high / low < 100 else (1.0,), numticks=15))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    return ax.figure


def parallel_coordinates(study: optuna.Study, metric: str) -> Figure:
    """Every sampled hyperparameter as an axis, one line per sample coloured by the metric."""
    with optuna_style():
        ax = optuna_plots.plot_parallel_coordinate(study, target_name=metric)
    ax.figure.set_size_inches(max(7.0, 1.5 * (len(study.best_trial.params) + 1) + 2), 5)
    return ax.figure


def importance_bars(found: dict[str, dict[str, float]]) -> Figure:
    """One horizontal bar chart per importance evaluator."""
    fig, axes = plt.subplots(1, len(found), figsize=(5 * len(found), 0.45 * max(map(len, found.values())) + 1.5), squeeze=False)
    for ax, (name, values) in zip(axes[0], found.items()):
        names = list(values)[::-1]
        ax.barh(names, [values[n] for n in names], color="tab:blue")
        ax.set(title=name, xlabel="importance")
    fig.tight_layout()
    return fig


def sobol_bars(indices: list[dict[str, Any]]) -> Figure:
    """First-order (S1) and total (ST) Sobol indices with 95% confidence intervals."""
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(indices) + 2), 4.5))
    x = np.arange(len(indices))
    for offset, name in ((-0.2, "S1"), (0.2, "ST")):
        ax.bar(x + offset, [r[name] for r in indices], 0.4, yerr=[r[f"{name}_conf"] for r in indices], capsize=3, label=name)
    ax.set_xticks(x, list(short_names([r["key"] for r in indices]).values()), rotation=30, ha="right")
    ax.set(ylabel="Sobol index", title="Sobol sensitivity (first order S1, total ST; 95% CI)")
    ax.axhline(0, color="black", lw=0.6)
    ax.legend()
    fig.tight_layout()
    return fig


def rerun_comparison(sweep: SweepData, reruns: list[tuple[SweepData, list[int]]], metric: str) -> Figure:
    """Per re-run sample: its sweep value (cross) beside every fresh seed's value (dots)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    labels: list[str] = []
    for rerun, original_ids in reruns:
        for rerun_id, original in enumerate(original_ids):
            if rerun_id not in rerun.returns:
                continue
            x = len(labels)
            labels.append(f"{original} ({rerun.root.name})")
            seeds = metric_per_seed(rerun.returns[rerun_id], metric)
            ax.scatter(np.full(len(seeds), x + 0.1), seeds, color="tab:orange", label="rerun seeds" if x == 0 else None)
            sweep_value = metric_per_seed(sweep.returns[original], metric)
            ax.scatter(np.full(len(sweep_value), x - 0.1), sweep_value, marker="x", s=60, color="tab:blue", label="sweep" if x == 0 else None)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    ax.set(xlabel="sample (rerun)", ylabel=metric, title="sweep against re-runs with fresh seeds")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
