"""The project's exceptions. A UserError is the user's to fix: the command line prints its message
(one paragraph naming the file, key or value, and what to do) and exits with code 2, no traceback.

Plain ValueErrors raised while checking user input (value strings, sweep files, configs) are
treated the same way by the command line.
"""

from __future__ import annotations


class UserError(Exception):
    """Input or state that the user must fix; the message says what is wrong and what to do."""


class RecipeError(UserError, ValueError):
    """A recipe that cannot be used; the message names the file, key and value."""


class SweepError(UserError, RuntimeError):
    """A sweep that must not start (it would overwrite or change an existing one, or its record is unreadable)."""


class SweepLockedError(SweepError):
    """Another runner holds the sweep's lock."""


class OutOfMemoryError(UserError, RuntimeError):
    """A single lane does not fit the device, so splitting the batch cannot help."""
