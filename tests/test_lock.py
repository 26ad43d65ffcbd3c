"""One runner per sweep: the lock file is exclusive, names its holder, is taken over when stale and always released."""

import json
import os
import socket
import subprocess
import sys

import pytest

from hyperlax.errors import SweepLockedError
from hyperlax.lock import LOCK, SweepLock


def write_lock(directory, pid, host=None):
    directory.mkdir(parents=True, exist_ok=True)
    holder = {"pid": pid, "host": host or socket.gethostname(), "since": "2026-01-01T00:00:00+0000"}
    (directory / LOCK).write_text(json.dumps(holder))


def test_the_lock_names_its_holder_and_is_released(tmp_path):
    with SweepLock(tmp_path):
        holder = json.loads((tmp_path / LOCK).read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname() and holder["since"]
        with pytest.raises(SweepLockedError, match=f"pid {os.getpid()} on {socket.gethostname()} since"):
            SweepLock(tmp_path).__enter__()
    assert not (tmp_path / LOCK).exists()


def test_the_lock_is_released_on_an_error_and_on_ctrl_c(tmp_path):
    for error in (ValueError, KeyboardInterrupt):
        with pytest.raises(error):
            with SweepLock(tmp_path):
                raise error()
        assert not (tmp_path / LOCK).exists()


def test_a_lock_left_by_a_dead_process_is_taken_over_with_a_warning(tmp_path, caplog):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    write_lock(tmp_path, int(dead.stdout))
    with SweepLock(tmp_path):
        assert json.loads((tmp_path / LOCK).read_text())["pid"] == os.getpid()
    assert "which is gone: taking it over" in caplog.text


def test_a_lock_held_on_another_host_or_unreadable_is_refused(tmp_path):
    write_lock(tmp_path, 1, host="elsewhere")
    with pytest.raises(SweepLockedError, match="pid 1 on elsewhere since 2026-01-01"):
        SweepLock(tmp_path).__enter__()
    (tmp_path / LOCK).write_text("")
    with pytest.raises(SweepLockedError, match="names no holder"):
        SweepLock(tmp_path).__enter__()
    assert (tmp_path / LOCK).exists()  # not ours: left in place


def test_directories_the_lock_made_are_removed_if_left_empty(tmp_path):
    with SweepLock(tmp_path / "out" / "algo" / "env"):
        pass
    assert list(tmp_path.iterdir()) == []
