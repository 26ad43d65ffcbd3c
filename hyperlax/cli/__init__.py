"""The command line (tyro), one module per command family:

- `sweep-hp-samples`: sample a recipe's search space (`sample.py`);
- `sweep --config FILE | --set ...`: explicit configs from sweep files and value strings (`sweep_file.py`);
- `report`, `rerun`, `evaluate`, `export SWEEP_DIR`: look at a sweep, re-run or evaluate its samples (`report.py`).

Exit code 0 when done, 2 for a user error (a message, never a traceback), 130 on Ctrl-C.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path


def ray_address(argv: Sequence[str]) -> str:
    """The --ray a command runs with: given, else a resumed sweep's recorded one, else off."""
    args = list(argv)
    given = [a.split("=", 1)[1] for a in args if a.startswith("--ray=")]
    given += [value for flag, value in zip(args, args[1:]) if flag == "--ray"]
    if given:
        return given[-1]
    resumed = [a.split("=", 1)[1] for a in args if a.startswith("--resume-from=")]
    resumed += [value for flag, value in zip(args, args[1:]) if flag == "--resume-from"]
    try:
        return json.loads((Path(resumed[-1]).expanduser() / "sweep.json").read_text())["arguments"]["ray"] or "off"
    except (IndexError, OSError, ValueError, KeyError, TypeError):
        return "off"  # a damaged record stops the command later, with its own message


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
