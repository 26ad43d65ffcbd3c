"""Resume trusts only what success.txt vouches for: the sha256 of every file of its batch."""

import json

import numpy as np
import pytest

from hyperlax import store
from hyperlax.errors import SweepError


def write_batch(directory):
    store.write_batch(directory, {3: {"lr": 0.1}}, np.ones((1, 1, 2)), [10, 20], {"sample_3/w": np.zeros(2)}, {"wall_s": 1.0})


def test_a_written_batch_verifies_and_reads_back(tmp_path):
    write_batch(tmp_path / "batch_00000")
    assert store.verify_batch(tmp_path / "batch_00000") is None
    names = [line.split("  ")[1] for line in (tmp_path / "batch_00000" / "success.txt").read_text().splitlines()]
    assert names == ["hparams.json", "metrics.csv", "params.npz", "info.json"]
    assert store.read_batch_results(tmp_path / "batch_00000")[0]["final_return"] == 1.0


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda d: (d / "metrics.csv").write_text(""), "metrics.csv changed after the batch finished"),
        (lambda d: (d / "params.npz").unlink(), "params.npz is missing"),
        (lambda d: (d / "success.txt").write_text("nonsense\n"), "success.txt is malformed"),
        (lambda d: (d / "success.txt").write_text(""), "success.txt is empty"),
    ],
)
def test_damage_is_found_and_the_batch_discarded(tmp_path, damage, problem):
    write_batch(tmp_path / "samples" / "batch_00000")
    write_batch(tmp_path / "samples" / "batch_00001")
    damage(tmp_path / "samples" / "batch_00001")
    found = store.discard_damaged(tmp_path)
    assert list(found) == ["batch_00001"] and problem in found["batch_00001"]
    assert not (tmp_path / "samples" / "batch_00001").exists() and (tmp_path / "samples" / "batch_00000").exists()


def test_an_old_marker_without_checksums_is_trusted_if_the_batch_reads_back(tmp_path):
    write_batch(tmp_path / "batch_00000")
    (tmp_path / "batch_00000" / "success.txt").write_text("ok\n")
    assert store.verify_batch(tmp_path / "batch_00000") is None
    (tmp_path / "batch_00000" / "metrics.csv").write_text("")
    assert "has no checksums and its files do not read back" in store.verify_batch(tmp_path / "batch_00000")


@pytest.mark.parametrize(
    "text, problem", [('{"arguments": {', "is truncated or not valid JSON"), ("[]", "lacks 'arguments' and 'fingerprint'")]
)
def test_a_damaged_sweep_json_is_an_error_that_deletes_nothing(tmp_path, text, problem):
    (tmp_path / "sweep.json").write_text(text)
    with pytest.raises(SweepError, match=problem) as err:
        store.read_sweep_record(tmp_path)
    assert str(tmp_path / "sweep.json") in str(err.value) and "Nothing was deleted" in str(err.value)
    assert (tmp_path / "sweep.json").read_text() == text


def test_temp_files_of_killed_writers_are_removed(tmp_path):
    (tmp_path / "samples" / "batch_00000").mkdir(parents=True)
    for path in (tmp_path / ".results.csv.x1.tmp", tmp_path / "samples" / "batch_00000" / ".info.json.x2.tmp"):
        path.write_text("partial")
    (tmp_path / "keep.json").write_text(json.dumps({}))
    store.remove_temp_files(tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["keep.json"]
