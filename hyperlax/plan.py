"""From samples to batches: grouping by structural values, slicing, lane counts, fingerprint.

A batch is a directory's worth of work (batch_XXXXX, or run_XXXX with --sequential). It holds
one or more units; a unit is one call of one compiled train function, so all its samples share
their structure: their structural values and, when grouping (or running sequentially), their
paddable values too; otherwise lanes of a unit may differ in paddable values (in as many padded
units per structure as the cost model of hyperlax/padding.py chooses). A unit's `lanes` is
the padded lane count it compiles for: min(hparam_batch_size, number of samples in the sweep
with that structure), so every unit of a structure reuses one compiled function and the last
partial batch is padded to it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class Unit:
    """Samples that run in one call of one compiled function."""

    structure: str  # canonical JSON of the structural values
    sample_ids: tuple[int, ...]
    lanes: int  # lane count it compiles for: padded (>= len(sample_ids)), or fewer when its lanes take samples in turn


@dataclasses.dataclass(frozen=True)
class Batch:
    """One output directory's worth of samples."""

    name: str  # "batch_00003" or, with sequential runs, "run_0042"
    units: tuple[Unit, ...]

    @property
    def sample_ids(self) -> tuple[int, ...]:
        return tuple(i for unit in self.units for i in unit.sample_ids)


def structure_of(sample: dict[str, Any], structural_keys: Iterable[str]) -> str:
    """Canonical JSON of the sample's values for the given keys (those it has)."""
    return json.dumps({k: sample[k] for k in sorted(structural_keys) if k in sample}, sort_keys=True)


def with_cluster(structure: str, cluster: int) -> str:
    """The key of a structure's padded unit `cluster` (the structure itself for the first)."""
    return structure if cluster == 0 else json.dumps({**json.loads(structure), "padded unit": cluster}, sort_keys=True)


def _in_first_seen_order(structures: Sequence[str], ids: Sequence[int]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i in ids:
        groups.setdefault(structures[i], []).append(i)
    return groups


def make_plan(
    samples: Sequence[dict[str, Any]],
    structural_keys: Iterable[str],
    paddable_keys: Iterable[str],
    hparam_batch_size: int,
    group_by_structure: bool = False,
    sequential: bool = False,
    pools: bool = False,
    clusters: Sequence[int] | None = None,
) -> list[Batch]:
    """Deterministic batches over sample ids 0..N-1 (see the module docstring). With `pools` (early
    stopping), each structure's samples form one batch of one unit whose lanes take them in turn.
    `clusters` (hyperlax/padding.py) splits a structure's samples into padded units: per sample,
    the index of its unit within its structure; batches are then sliced within each such unit."""
    if hparam_batch_size < 1:
        raise ValueError(f"hparam_batch_size must be at least 1, got {hparam_batch_size}")
    keys = list(structural_keys) + (list(paddable_keys) if group_by_structure or sequential else [])
    structures = [structure_of(s, keys) for s in samples]
    if clusters is not None and any(clusters):
        structures = [with_cluster(s, k) for s, k in zip(structures, clusters)]
        group_by_structure = True
    ids = list(range(len(samples)))
    if sequential:
        return [Batch(f"run_{i:04d}", (Unit(structures[i], (i,), 1),)) for i in ids]
    counts = Counter(structures)
    lanes = {s: min(hparam_batch_size, n) for s, n in counts.items()}
    if pools:
        groups = _in_first_seen_order(structures, ids)
        return [Batch(f"batch_{b:05d}", (Unit(s, tuple(group), lanes[s]),)) for b, (s, group) in enumerate(groups.items())]
    if group_by_structure:
        chunks = [
            group[start : start + hparam_batch_size]
            for group in _in_first_seen_order(structures, ids).values()
            for start in range(0, len(group), hparam_batch_size)
        ]
    else:
        chunks = [ids[start : start + hparam_batch_size] for start in range(0, len(ids), hparam_batch_size)]
    return [
        Batch(
            f"batch_{b:05d}",
            tuple(Unit(s, tuple(members), lanes[s]) for s, members in _in_first_seen_order(structures, chunk).items()),
        )
        for b, chunk in enumerate(chunks)
    ]


def plan_round(
    samples: Mapping[int, dict[str, Any]],
    structural_keys: Iterable[str],
    paddable_keys: Iterable[str],
    most_lanes: int,
    first_batch: int,
    group_by_structure: bool = False,
    sequential: bool = False,
    pools: bool = False,
) -> list[Batch]:
    """The batches of one round of samples asked by a learning sampler (sample id -> sample).

    As make_plan with batch size `most_lanes`, batches numbered on from `first_batch` (runs by
    sample id), except that a unit's lanes are its sample count rounded up to a power of two, at
    most `most_lanes`: a structure's units, whatever rounds they come in, reuse a few compiled
    functions, and padding stays under half of a unit's lanes. With `pools` (early stopping) every
    unit has `most_lanes` lanes, which it fills with further samples of its structure.
    """
    ids = list(samples)
    plan = make_plan(list(samples.values()), structural_keys, paddable_keys, most_lanes, group_by_structure, sequential)

    def renumbered(unit: Unit) -> Unit:
        lanes = most_lanes if pools else min(most_lanes, 1 << (len(unit.sample_ids) - 1).bit_length())
        return Unit(unit.structure, tuple(ids[i] for i in unit.sample_ids), 1 if sequential else lanes)

    return [
        Batch(f"run_{ids[b]:04d}" if sequential else f"batch_{first_batch + b:05d}", tuple(map(renumbered, batch.units)))
        for b, batch in enumerate(plan)
    ]


def members(plan: Sequence[Batch]) -> dict[str, list[int]]:
    """The sample ids of each structure, over the whole plan."""
    found: dict[str, list[int]] = {}
    for batch in plan:
        for unit in batch.units:
            found.setdefault(unit.structure, []).extend(unit.sample_ids)
    return found


def fingerprint(samples: Sequence[dict[str, Any]], plan: Sequence[Batch], settings: dict[str, Any]) -> str:
    """sha256 of the samples, the batching and the settings that change results."""
    payload = {
        "samples": list(samples),
        "plan": [[b.name, [[list(u.sample_ids), u.lanes] for u in b.units]] for b in plan],
        "settings": settings,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()
