"""jax's persistent compilation cache: compiled programs kept on disk, so that a resumed or repeated
sweep loads them instead of compiling them again.

jax sets its cache up once per process, at the first compilation after a directory is set, and then
keeps that directory (or keeps caching after the cache is turned off); `use` resets it, so each sweep
gets the cache it asks for whatever ran before it in the process and whatever the environment set.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import jax
from jax.experimental.compilation_cache import compilation_cache

OFF = "off"
HIT = "/jax/compilation_cache/cache_hits"
log = logging.getLogger("hyperlax")
_counts = threading.local()  # per thread: programs compile on background threads while others run


def default_dir() -> str:
    """$JAX_COMPILATION_CACHE_DIR when set, else $XDG_CACHE_HOME/hyperlax/jax (~/.cache/hyperlax/jax)."""
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return os.environ["JAX_COMPILATION_CACHE_DIR"]
    return str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hyperlax" / "jax")


def resolve(cache: str) -> str:
    """`off`, or the cache directory as an absolute path, created; a ValueError naming the option if it cannot be."""
    if cache == OFF:
        return OFF
    path = Path(cache).expanduser().absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"--compile-cache {cache}: cannot use it as a directory ({err.strerror}); give another "
                         f"directory, or {OFF!r}") from None
    return str(path)


def use(cache: str) -> None:
    """Cache every compiled program in the directory `cache` from now on (none: `off`)."""
    if cache == OFF:
        jax.config.update("jax_enable_compilation_cache", False)
    else:
        jax.config.update("jax_enable_compilation_cache", True)
        jax.config.update("jax_compilation_cache_dir", cache)
        # By default jax keeps only programs that took a second or more to compile: keep every one.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    jax_log = logging.getLogger(compilation_cache.reset_cache.__module__)  # it says "Resetting cache" at INFO
    level = jax_log.level
    jax_log.setLevel(logging.WARNING)
    try:
        compilation_cache.reset_cache()
    finally:
        jax_log.setLevel(level)
    log.info("compile cache: %s", "off" if cache == OFF else cache)


def hits() -> int:
    """Programs this thread has loaded from the cache so far."""
    return getattr(_counts, "hits", 0)


def _count(event: str, **_: str | int) -> None:
    """jax's event listener, called on the thread that compiles."""
    if event == HIT:
        _counts.hits = hits() + 1


jax.monitoring.register_event_listener(_count)
