"""One runner per sweep: a lock file in the sweep directory, held while a command writes there.

The file is created atomically (O_CREAT | O_EXCL) and holds the holder's pid, host and start time.
A lock left by a process that is gone (same host, `os.kill(pid, 0)` fails) is taken over with a
warning; any other lock refuses the second runner with a SweepLockedError naming the holder.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from hyperlax.errors import SweepError, SweepLockedError

LOCK = "sweep.lock"
log = logging.getLogger("hyperlax")


def _holder() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _read(path: Path) -> dict[str, Any] | None:
    """The lock's holder, or None if the file is gone, empty or not a holder record."""
    try:
        holder = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) and {"pid", "host", "since"} <= holder.keys() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


class SweepLock:
    """Context manager holding `<directory>/sweep.lock`; released on every exit, Ctrl-C included.

    Directories it had to create are removed again on release if nothing else was written there.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.path = self.directory / LOCK
        self.created: list[Path] = []  # directories this lock made, deepest first

    def __enter__(self) -> "SweepLock":
        self.created = [p for p in (self.directory, *self.directory.parents) if not p.exists()]
        me = _holder()
        while True:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._take_over_if_stale()
                continue
            except OSError as err:
                raise SweepError(
                    f"cannot write the sweep directory {self.directory}: {err.strerror} ({err.filename}); "
                    "choose another --output-root or fix its permissions"
                ) from None
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.holder = me
            return self

    def _take_over_if_stale(self) -> None:
        """Remove a lock whose holder is gone on this host; else raise SweepLockedError naming the holder."""
        holder = _read(self.path)
        if holder is None:
            if not self.path.exists():
                return  # released meanwhile: try again
            raise SweepLockedError(
                f"{self.path} exists but names no holder (another runner may be starting). If no hyperlax "
                f"command runs on {self.directory}, delete {self.path} and try again."
            )
        held = f"pid {holder['pid']} on {holder['host']} since {holder['since']}"
        if holder["host"] == socket.gethostname() and not _alive(int(holder["pid"])):
            log.warning("%s was left by %s, which is gone: taking it over", self.path, held)
            self.path.unlink(missing_ok=True)
            return
        raise SweepLockedError(
            f"another hyperlax command is running this sweep ({held}; lock file {self.path}). Wait for it "
            f"to finish or stop it; if you are sure it is gone (it ran on another host, or its pid was "
            f"reused), delete {self.path}."
        )

    def __exit__(self, *exc: Any) -> None:
        if _read(self.path) == self.holder:
            self.path.unlink()
        for directory in self.created:
            if any(directory.iterdir()):
                break
            directory.rmdir()
