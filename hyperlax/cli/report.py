"""Command-line options of `report`, `rerun`, `evaluate` and `export` (registered in hyperlax.cli)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

import tyro
from rich.console import Console

Metric = Literal["final_return", "best_return"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
SweepDir = tyro.conf.Positional[Annotated[str, tyro.conf.arg(metavar="SWEEP_DIR")]]


@dataclasses.dataclass
class Report:
    """Write SWEEP_DIR/report/index.html (learning curves, hyperparameter effects and importance, Sobol indices, re-runs) and its PNGs."""

    sweep_dir: SweepDir
    """A sweep directory (<output-root>/<algo>/<env>/), finished, running or interrupted."""
    metric: Metric = "final_return"
    """What ranks the samples and what importance and sensitivity explain."""
    log_level: LogLevel = "WARNING"


@dataclasses.dataclass
class Rerun:
    """Train chosen samples of a sweep again, batched, with fresh seeds, into SWEEP_DIR/reruns/rerun_XXX/."""

    sweep_dir: SweepDir
    """A sweep directory (<output-root>/<algo>/<env>/)."""
    sample_id: Annotated[tuple[int, ...], tyro.conf.UseAppendAction] = ()
    """A finished sample to re-run; repeatable."""
    top: int | None = None
    """Also re-run the N best finished samples by --metric."""
    metric: Metric = "final_return"
    """What ranks the samples for --top."""
    num_seeds: int | None = None
    """Training seeds per sample (default: the sweep's)."""
    total_timesteps: int | None = None
    """Env steps per run (default: the sweep's)."""
    seed: int | None = None
    """Seed of the re-run (default: the sweep's seed + 1; the sweep's own seed is refused). With
    --replay-schedule: the sweep's own by default, which reproduces the recorded returns."""
    replay_schedule: bool = False
    """In a --pbt sweep: replay each --sample-id's hyperparameter schedule as a run of its own, from the
    key of the sample its final state descends from; with the sweep's seed, compared with the recorded
    returns."""
    log_level: LogLevel = "INFO"


@dataclasses.dataclass
class Evaluate:
    """Evaluate chosen samples' final policies (the parameters each training seed ended with; for PBT the
    member's own) on fresh greedy episodes, without training; into SWEEP_DIR/reruns/evaluate_seed_<seed>.json."""

    sweep_dir: SweepDir
    """A sweep directory (<output-root>/<algo>/<env>/)."""
    sample_id: Annotated[tuple[int, ...], tyro.conf.UseAppendAction] = ()
    """A finished sample to evaluate; repeatable."""
    top: int | None = None
    """Also evaluate the N best finished samples by --metric."""
    metric: Metric = "final_return"
    """What ranks the samples for --top."""
    episodes: int = 64
    """Greedy episodes per final policy."""
    seed: int | None = None
    """Seed of the episodes (default: the sweep's seed + 1)."""
    log_level: LogLevel = "WARNING"


@dataclasses.dataclass
class Export:
    """Print the configuration of a sample as a recipe file (for --algo-and-network-config PATH)."""

    sweep_dir: SweepDir
    """A sweep directory (<output-root>/<algo>/<env>/)."""
    sample_id: int
    """The finished sample to export."""
    log_level: LogLevel = "WARNING"


COMMANDS = {"report": Report, "rerun": Rerun, "evaluate": Evaluate, "export": Export}


def run_command(args: Report | Rerun | Evaluate | Export, console: Console) -> None:
    """Run one of COMMANDS; bad input raises a ValueError naming it."""
    if isinstance(args, Report):
        from hyperlax.report.build import write_report  # matplotlib and Optuna load only here

        console.print(f"report: {write_report(args.sweep_dir, args.metric)}")
    elif isinstance(args, Rerun):
        from hyperlax.report.rerun import choose, replay_schedule, rerun

        if args.replay_schedule:
            if not args.sample_id or args.top is not None:
                raise ValueError("--replay-schedule replays the samples named by --sample-id K (repeatable)")
            for sample_id in args.sample_id:
                replay_schedule(args.sweep_dir, sample_id, console, args.seed, args.num_seeds)
            return
        chosen = choose(args.sweep_dir, list(args.sample_id), args.top, args.metric)
        rerun(args.sweep_dir, chosen, args.num_seeds, args.total_timesteps, args.seed, console)
    elif isinstance(args, Evaluate):
        from hyperlax.report.evaluate import evaluate_final
        from hyperlax.report.rerun import choose

        evaluate_final(args.sweep_dir, choose(args.sweep_dir, list(args.sample_id), args.top, args.metric), args.episodes, args.seed, console)
    else:
        from hyperlax.report.rerun import export_recipe

        print(export_recipe(args.sweep_dir, args.sample_id), end="")
