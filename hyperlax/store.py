"""Output layout, atomic writes, success markers and the results table.

<output-root>/<algo>/<env with dots as underscores>/
  sweep.json     arguments, seed, versions, fingerprint of samples and batching
  samples.csv    every sample, written before any training
  samples/batch_XXXXX/ (or run_XXXX/ with --sequential)
    hparams.json   {"sample_ids": [...], "hyperparams": {sample_id: {dotted key: value}}}
    metrics.csv    long format: sample_id, seed_index, milestone_index, env_steps, mean_return
                   (a sample stopped early: up to its stop)
    params.npz     final parameters: "sample_<id>/<leaf path>" -> array [seeds, ...]
    info.json      wall time, compile count, env steps, padding fraction, status per sample
                   (finished, stopped or diverged) and its env steps, units and their extents
    lineage.csv    with --pbt: per interval and sample, the sample it copied and its hyperparameters
    progress.json  the last segment of the batch in flight (see run/executor.py)
    checkpoint/    while the batch trains: its units' lane states (see run/checkpoint.py)
    success.txt    written last and atomically, with the sha256 of every other file; only directories with it count
  results.csv    one row per sample of every finished batch
  lineage.csv    with --pbt: every batch's lineage.csv
  study.log      the sweep's Optuna study (run/search.py)
  summary.json   end-of-run summary
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from hyperlax.errors import SweepError

SUCCESS = "success.txt"
CHECKPOINT = "checkpoint"
RESULT_COLUMNS = ("status", "env_steps", "final_return", "best_return", "wall_s")


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


def json_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json_text(data))


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
    lineage: Sequence[dict[str, Any]] = (),
) -> None:
    """Write one finished batch; `returns` is [samples, seeds, milestones] in `samples` order, NaN
    past a stopped sample's stop.

    success.txt comes last and lists the sha256 of every other file (`sha256sum` format).
    """
    ids = list(samples)
    reached = [
        int(np.flatnonzero(np.isfinite(r).any(axis=0)).max(initial=-1)) + 1
        if info.get("status", {}).get(str(i)) == "stopped" else returns.shape[2]
        for i, r in zip(ids, returns)
    ]
    rows = (
        (sample_id, seed, m, milestones[m], float(returns[row, seed, m]))
        for row, sample_id in enumerate(ids)
        for seed in range(returns.shape[1])
        for m in range(reached[row])
    )
    buffer = io.BytesIO()
    np.savez(buffer, **params)
    files = {
        "hparams.json": json_text({"sample_ids": ids, "hyperparams": {str(i): samples[i] for i in ids}}).encode(),
        "metrics.csv": csv_text(["sample_id", "seed_index", "milestone_index", "env_steps", "mean_return"], rows).encode(),
        "params.npz": buffer.getvalue(),
        "info.json": json_text(info).encode(),
    }
    if lineage:
        files["lineage.csv"] = csv_text(list(lineage[0]), (row.values() for row in lineage)).encode()
    for name, data in files.items():
        atomic_write_bytes(directory / name, data)
    atomic_write_text(directory / SUCCESS, "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items()))


def verify_batch(directory: Path) -> str | None:
    """None if a finished batch's files are as success.txt recorded them, else what is wrong, naming the file.

    An older success.txt without checksums (just "ok") is trusted if the batch reads back.
    """
    try:
        lines = (directory / SUCCESS).read_text(errors="replace").splitlines()
    except OSError as err:
        return f"{SUCCESS} cannot be read ({err.strerror})"
    if lines == ["ok"]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # genfromtxt warns about an empty table before it fails
                read_batch_results(directory)
        except Exception as err:  # any damage: missing file, bad JSON, empty or short table
            return f"its success.txt has no checksums and its files do not read back ({type(err).__name__}: {err})"
        return None
    for line in lines:
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or "/" in name:
            return f"{SUCCESS} is malformed (line {line!r})"
        try:
            data = (directory / name).read_bytes()
        except FileNotFoundError:
            return f"{name} is missing"
        except OSError as err:
            return f"{name} cannot be read ({err.strerror})"
        if hashlib.sha256(data).hexdigest() != digest:
            return f"{name} changed after the batch finished (its sha256 differs from {SUCCESS})"
    return None if lines else f"{SUCCESS} is empty"


def discard_damaged(root: Path) -> dict[str, str]:
    """Remove every finished batch directory whose files fail `verify_batch`; {name: problem}."""
    damaged = {}
    for directory in sorted((root / "samples").glob("*_*")):
        problem = verify_batch(directory) if is_complete(directory) else None
        if problem:
            shutil.rmtree(directory)
            damaged[directory.name] = problem
    return damaged


def remove_temp_files(root: Path) -> None:
    """Delete temp files that a killed writer left in the sweep directory or its batch directories."""
    for path in [*root.glob(".*.tmp"), *root.glob("samples/*/.*.tmp"), *root.glob(f"samples/*/{CHECKPOINT}/.*.tmp")]:
        path.unlink(missing_ok=True)


def read_batch_results(directory: Path) -> list[dict[str, Any]]:
    """Per sample of a finished batch: its hyperparameters, mean return (over seeds) at each
    milestone, final and best mean return, wall time."""
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
                "env_steps": info.get("env_steps_per_sample", {}).get(str(sample_id), ""),
                **curve_summary(by_milestone),
                "wall_s": info["wall_s"],
            }
        )
    return rows


def curve_summary(curve: Sequence[float]) -> dict[str, Any]:
    """A sample's mean returns by milestone, with its final and best one (NaN when none is finite)."""
    curve = [float(r) for r in curve]
    finite = [r for r in curve if np.isfinite(r)]
    return {"milestone_returns": curve, "final_return": curve[-1], "best_return": max(finite) if finite else float("nan")}


def batch_sample_ids(directory: Path) -> list[int]:
    """The samples a finished batch trained."""
    return json.loads((directory / "hparams.json").read_text())["sample_ids"]


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


def write_lineage_csv(root: Path) -> None:
    """root/lineage.csv: the lineage.csv of every finished batch, batch by batch."""
    parts = [p.read_text() for p in sorted((root / "samples").glob("*_*/lineage.csv")) if is_complete(p.parent)]
    if parts:
        header = parts[0].splitlines(keepends=True)[0]
        atomic_write_text(root / "lineage.csv", header + "".join(p.split("\n", 1)[1] for p in parts))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def read_sweep_record(root: Path) -> dict[str, Any]:
    """sweep.json of the sweep in `root`; a SweepError naming the file and the damage if it is unusable."""
    record = root / "sweep.json"
    if not record.is_file():
        raise SweepError(f"{root}: no sweep.json there; is it an <output-root>/<algo>/<env>/ directory?")
    try:
        data = read_json(record)
    except (OSError, UnicodeDecodeError) as err:
        problem = f"cannot be read ({err})"
    except ValueError as err:
        problem = f"is truncated or not valid JSON ({err})"
    else:
        missing = [k for k in ("arguments", "fingerprint") if not isinstance(data, dict) or k not in data]
        if not missing:
            return data
        problem = f"lacks {' and '.join(repr(k) for k in missing)}"
    raise SweepError(
        f"{record} {problem}. It records the sweep's arguments and fingerprint, so the sweep cannot be "
        "resumed without it: restore the file (from a backup or version control), or start a new sweep "
        "under another --output-root. Nothing was deleted."
    )
