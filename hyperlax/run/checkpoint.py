"""Checkpoints of a unit's lane states inside a batch directory: one atomic npz per unit.

`batch_XXXXX/checkpoint/unit_<first sample id>_<lanes>.npz` holds every leaf of the lanes' state
(by its path), the unit's record so far (returns, first non-finite milestone, slots) and a JSON
header naming what it belongs to (sweep fingerprint, sample ids, lanes, seeds, segments done).
It is written like every file of the store (temp file, fsync, rename), so a kill leaves the
previous checkpoint or the new one, never half of one. A checkpoint whose header or leaves do not
match the unit about to run is discarded with a warning, never loaded.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from hyperlax import store

log = logging.getLogger("hyperlax")
HEADER = "__header__"
RECORD = ("returns", "diverged_at", "env_steps", "slots")
PROGRESS_KEYS = ("segments_done", "env_steps_per_lane", "host")  # header keys that say how far, not what


class Record(NamedTuple):
    """A unit's results so far, kept on the host: one row per sample and seed (sample-major)."""

    returns: np.ndarray  # [rows, milestones] float32, NaN where not reached yet
    diverged_at: np.ndarray  # [rows] int32: first milestone with non-finite parameters or return, or -1
    env_steps: np.ndarray  # [rows] int64: env steps each training has taken
    slots: np.ndarray  # [] int64: env-step slots computed so far, padding included

    @classmethod
    def empty(cls, lanes: int, milestones: int) -> Record:
        return cls(
            returns=np.full((lanes, milestones), np.nan, np.float32),
            diverged_at=np.full(lanes, -1, np.int32),
            env_steps=np.zeros(lanes, np.int64),
            slots=np.asarray(0, np.int64),
        )

    def grown(self, lanes: int) -> Record:
        """The record with `lanes` more empty rows."""
        more = Record.empty(lanes, self.returns.shape[1])
        return Record(*(np.concatenate([old, new]) for old, new in zip(self[:3], more[:3])), self.slots)


def leaf_name(path: tuple) -> str:
    return "/".join(str(getattr(k, "key", getattr(k, "idx", getattr(k, "name", k)))) for k in path)


def path_of(directory: Path, sample_ids: tuple[int, ...], lanes: int) -> Path:
    return directory / "checkpoint" / f"unit_{sample_ids[0]:05d}_{lanes}.npz"


def save(path: Path, header: dict[str, Any], state: Any, record: Record, finals: dict[int, Any] | None = None) -> None:
    """Write the lanes' state, the record and the final states of the samples that ended, atomically."""
    arrays = {f"state/{leaf_name(p)}": np.asarray(x) for p, x in jax.tree_util.tree_leaves_with_path(state)}
    for sample, tree in (finals or {}).items():
        arrays.update({f"final/{sample}/{leaf_name(p)}": np.asarray(x) for p, x in jax.tree_util.tree_leaves_with_path(tree)})
    arrays.update({f"record/{name}": np.asarray(value) for name, value in zip(RECORD, record)})
    arrays[HEADER] = np.frombuffer(json.dumps(header, sort_keys=True).encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    store.atomic_write_bytes(path, buffer.getvalue())


def load(path: Path, header: dict[str, Any], like: Any, like_final: Any = None) -> tuple[Any, Record, int, Any, dict] | None:
    """The state, record, segments done, host state (the header's "host") and final states (each
    like `like_final`) of a checkpoint that matches `header` (every key but the progress ones) and
    the state's leaves `like` (shapes and dtypes); None when there is none.

    A checkpoint that does not match, or cannot be read, is removed with a warning.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            arrays = {name: data[name] for name in data.files}
        stored = json.loads(arrays.pop(HEADER).tobytes())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        return _discard(path, f"it cannot be read ({error})")
    different = [k for k in header if k not in PROGRESS_KEYS and stored.get(k) != header[k]]
    if different:
        return _discard(path, f"it belongs to another run (different {', '.join(different)})")
    leaves = []
    for leaf_path, leaf in jax.tree_util.tree_leaves_with_path(like):
        value = arrays.get(f"state/{leaf_name(leaf_path)}")
        if value is None or value.shape != leaf.shape or value.dtype != leaf.dtype:
            return _discard(path, f"its lane state differs at {leaf_name(leaf_path)}")
        leaves.append(value)
    record = Record(*(arrays[f"record/{name}"] for name in RECORD))
    finals = {}
    for sample in sorted({int(name.split("/")[1]) for name in arrays if name.startswith("final/")}):
        names = [f"final/{sample}/{leaf_name(p)}" for p, _ in jax.tree_util.tree_leaves_with_path(like_final)]
        finals[sample] = jax.tree.unflatten(jax.tree.structure(like_final), [arrays[name] for name in names])
    state = jax.tree.unflatten(jax.tree.structure(like), leaves)
    return state, record, int(stored["segments_done"]), stored.get("host"), finals


def _discard(path: Path, why: str) -> None:
    log.warning("discarding checkpoint %s: %s; the unit trains from the start", path, why)
    path.unlink(missing_ok=True)
    return None
