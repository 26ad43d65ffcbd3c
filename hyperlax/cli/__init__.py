"""The command line (tyro), one module per command family:

- `sweep-hp-samples`: sample a recipe's search space (`sample.py`);
- `sweep --config FILE | --set ...`: explicit configs from sweep files and value strings (`sweep_file.py`);
- `report`, `rerun`, `evaluate`, `export SWEEP_DIR`: look at a sweep, re-run or evaluate its samples (`report.py`).

Exit code 0 when done, 2 for a user error (a message, never a traceback), 130 on Ctrl-C.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; exit code 0 when done, 2 for a user error (message, no traceback), 130 on Ctrl-C
    (also while the modules load: they are imported here, not when this package is)."""
    try:
        from hyperlax.cli.dispatch import run

        return run(argv)
    except KeyboardInterrupt:
        print("interrupted before the sweep started; nothing was written: run the command again", file=sys.stderr)
        return 130
