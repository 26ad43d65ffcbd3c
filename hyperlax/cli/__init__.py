"""The command line (tyro), one module per command family:

- `sweep-hp-samples`: sample a recipe's search space (`sample.py`);
- `sweep --config FILE | --set ...`: explicit configs from sweep files and value strings (`sweep_file.py`);
- `report`, `rerun`, `evaluate`, `export SWEEP_DIR`: look at a sweep, re-run or evaluate its samples (`report.py`).

Exit code 0 when done, 2 for a user error (a message, never a traceback), 130 on Ctrl-C.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path


def _last_value(args: list[str], flag: str) -> str | None:
    """The value last given to `flag` (`flag VALUE` or `flag=VALUE`), if any."""
    found = None
    for arg, following in zip(args, args[1:] + [None]):
        if arg == flag:
            found = following
        elif arg.startswith(flag + "="):
            found = arg.split("=", 1)[1]
    return found


def ray_address(argv: Sequence[str]) -> str:
    """The --ray a command runs with: given, else a resumed sweep's recorded one, else off. Read from
    the raw arguments: parsing them with the commands' parsers imports what starts jax's backend."""
    from hyperlax import store
    from hyperlax.errors import SweepError

    args = list(argv)
    given = _last_value(args, "--ray")
    if given is not None:
        return given
    resumed = _last_value(args, "--resume-from")
    if resumed is None:
        return "off"
    try:
        return store.read_sweep_record(Path(resumed).expanduser())["arguments"].get("ray") or "off"
    except SweepError:
        return "off"  # the command stops later, with this same message


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; exit code 0 when done, 2 for a user error (message, no traceback), 130 on Ctrl-C
    (also while the modules load: they are imported here, not when this package is).

    With --ray this process only plans and schedules, and Ray's tasks train: jax stays on the CPU
    here (set before anything starts a backend), since on a GPU it would take 75% of each GPU's
    memory from the tasks that run on this machine."""
    try:
        if ray_address(sys.argv[1:] if argv is None else argv) != "off":
            import jax

            jax.config.update("jax_platforms", "cpu")
        from hyperlax.cli.dispatch import run

        return run(argv)
    except KeyboardInterrupt:
        print("interrupted before the sweep started; nothing was written: run the command again", file=sys.stderr)
        return 130
