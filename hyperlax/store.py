"""Output layout, atomic writes, success markers and the results table.

<output-root>/<algo>/<env with dots as underscores>/
  sweep.json     arguments, seed, versions, fingerprint of samples and batching
  samples.csv    every sample, written before any training
  samples/batch_XXXXX/ (or run_XXXX/ with --sequential)
    hparams.json   {"sample_ids": [...], "hyperparams": {sample_id: {dotted key: value}}}
    metrics.csv    long format: sample_id, seed_index, milestone_index, env_steps, mean_return
    params.npz     final parameters: "sample_<id>/<leaf path>" -> array [seeds, ...]
    info.json      wall time, compile count, env steps, padding fraction, status per sample
                   (finished or diverged), units and their extents
    checkpoint/    while the batch trains: its units' lane states (see run/checkpoint.py)
    success.txt    written last and atomically; only directories with it count
  results.csv    one row per finished sample
  summary.json   end-of-run summary
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

SUCCESS = "success.txt"
CHECKPOINT = "checkpoint"
RESULT_COLUMNS = ("status", "final_return", "best_return", "wall_s")


def sweep_dir(output_root: str | Path, algo_name: str, env_name: str) -> Path:
    return Path(output_root).expanduser() / algo_name / env_name.replace(".", "_")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder, fsync it, rename it over `path`, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def cell(value: Any) -> str:
    """A CSV cell: strings as they are, everything else as JSON (lists stay readable)."""
    return value if isinstance(value, str) else json.dumps(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def write_samples_csv(path: Path, samples: Sequence[dict[str, Any]]) -> None:
    keys = list(samples[0]) if samples else []
    atomic_write_text(path, csv_text(["sample_id", *keys], ([i, *s.values()] for i, s in enumerate(samples))))


def is_complete(directory: Path) -> bool:
    return (directory / SUCCESS).is_file()


def discard_incomplete(directory: Path) -> bool:
    """Remove what a batch directory without a success marker holds, except its checkpoint;
    True if anything was removed."""
    if not directory.exists() or is_complete(directory):
        return False
    removed = False
    for entry in directory.iterdir():
        if entry.name != CHECKPOINT:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            removed = True
    return removed


def remove_checkpoint(directory: Path) -> None:
    """Remove a finished batch's checkpoint directory, if any."""
    shutil.rmtree(directory / CHECKPOINT, ignore_errors=True)


def write_batch(
    directory: Path,
    samples: dict[int, dict[str, Any]],
    returns: np.ndarray,
    milestones: Sequence[int],
    params: dict[str, np.ndarray],
    info: dict[str, Any],
) -> None:
    """Write one finished batch; `returns` is [samples, seeds, milestones] in `samples` order."""
    directory.mkdir(parents=True, exist_ok=True)
    ids = list(samples)
    write_json(directory / "hparams.json", {"sample_ids": ids, "hyperparams": {str(i): samples[i] for i in ids}})
    rows = (
        (sample_id, seed, m, milestones[m], float(returns[row, seed, m]))
        for row, sample_id in enumerate(ids)
        for seed in range(returns.shape[1])
        for m in range(returns.shape[2])
    )
    atomic_write_text(
        directory / "metrics.csv",
        csv_text(["sample_id", "seed_index", "milestone_index", "env_steps", "mean_return"], rows),
    )
    buffer = io.BytesIO()
    np.savez(buffer, **params)
    atomic_write_bytes(directory / "params.npz", buffer.getvalue())
    write_json(directory / "info.json", info)
    atomic_write_text(directory / SUCCESS, "ok\n")


def read_batch_results(directory: Path) -> list[dict[str, Any]]:
    """Per sample of a finished batch: its hyperparameters, final and best mean return, wall time."""
    hparams = json.loads((directory / "hparams.json").read_text())
    info = json.loads((directory / "info.json").read_text())
    data = np.genfromtxt(directory / "metrics.csv", delimiter=",", names=True, ndmin=1)
    rows = []
    for sample_id in hparams["sample_ids"]:
        mine = data[data["sample_id"] == sample_id]
        num_milestones = int(mine["milestone_index"].max()) + 1
        by_milestone = [mine["mean_return"][mine["milestone_index"] == m].mean() for m in range(num_milestones)]
        rows.append(
            {
                "sample_id": sample_id,
                "directory": directory.name,
                "hyperparams": hparams["hyperparams"][str(sample_id)],
                "status": info.get("status", {}).get(str(sample_id), "finished"),
                "final_return": float(by_milestone[-1]),
                "best_return": float(np.nanmax(by_milestone)) if np.isfinite(by_milestone).any() else float("nan"),
                "wall_s": info["wall_s"],
            }
        )
    return rows


def collect_results(root: Path) -> list[dict[str, Any]]:
    """Rows of every finished batch under root/samples, in sample_id order."""
    rows = [
        row
        for directory in sorted((root / "samples").glob("*_*"))
        if is_complete(directory)
        for row in read_batch_results(directory)
    ]
    return sorted(rows, key=lambda r: r["sample_id"])


def write_results_csv(root: Path, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    header = ["sample_id", "directory", *keys, *RESULT_COLUMNS]
    table = ([r["sample_id"], r["directory"], *(r["hyperparams"][k] for k in keys), *(r[c] for c in RESULT_COLUMNS)] for r in rows)
    atomic_write_text(root / "results.csv", csv_text(header, table))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
