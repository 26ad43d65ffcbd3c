"""Running explicit configs (from piter, Sweep, expand, a W&B file, ...) as a sweep.

Explicit configs are not mixed with random draws: config i becomes sample i, and every key the
recipe samples but the config does not set takes the recipe's default. They go through the same
prepare / start / execute as sampled sweeps (output layout, batching, resume by fingerprint).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import logging
import typing
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, Mapping, Optional

import tyro
from rich.console import Console

from hyperlax import config, store
from hyperlax.errors import SweepError
from hyperlax.lock import SweepLock
from hyperlax.recipes import Recipe, load_recipe
from hyperlax.run.loop import (
    DEFAULT_METRIC, Prepared, Settings, cluster, execute, prepare, prepare_asked, start, summary_table,
)
from hyperlax.run.search import JOURNAL, Search, check_method
from hyperlax.space.optuna_space import Space, observed_space, recipe_space

# Sections that hold one value per sweep (the env is built once; milestones come from training).
PER_SWEEP_SECTIONS = ("env", "training")
RANKABLE_METRICS = ("final_return", "best_return")
log = logging.getLogger("hyperlax")


@dataclasses.dataclass
class Destination:
    """Where a sweep command writes and how much it says."""

    output_root: str = "sweeps"
    """Sweeps land in <output-root>/<algo>/<env>/."""
    resume_from: str | None = None
    """An existing <output-root>/<algo>/<env>/ directory: finish its unfinished batches."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


def _setting_option(field: dataclasses.Field, kind: Any) -> tuple[str, Any, dataclasses.Field]:
    """A Settings field as a command-line option whose None means: the default, or on resume the recorded value."""
    default = "the recipe's" if field.default is None else repr(field.default)
    help_text = f"{field.metadata['help']} (default {default}; on resume the sweep's)"
    return field.name, Annotated[Optional[kind], tyro.conf.arg(help=help_text)], dataclasses.field(default=None)


# Options shared by the sweep commands: Destination's and every Settings field.
RunOptions = dataclasses.make_dataclass(
    "RunOptions",
    [_setting_option(f, typing.get_type_hints(Settings)[f.name]) for f in dataclasses.fields(Settings)],
    bases=(Destination,),
)


def check_key(key: str, known: Iterable[str], where: str) -> None:
    """Raise a ValueError naming `where` and `key`, with the closest field, unless `key` may vary per config."""
    known = list(known)
    if key.split(".", 1)[0] in PER_SWEEP_SECTIONS:
        raise ValueError(
            f"{where}: {key!r} is set once per sweep (env recipe, total_timesteps / num_evaluations), "
            "not per config"
        )
    if key in known:
        return
    close = difflib.get_close_matches(key, known, n=1)
    if not close:
        leaves = {k.rsplit(".", 1)[-1]: k for k in known}
        close = [leaves[m] for m in difflib.get_close_matches(key.rsplit(".", 1)[-1], list(leaves), n=1)]
    hint = f"did you mean {close[0]!r}?" if close else "it is not a field of the recipe's config"
    raise ValueError(f"{where}: unknown key {key!r}; {hint}")


def explicit_samples(recipe: Recipe, configs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One sample per config (flat or nested), in order, with the same keys each.

    The keys are the recipe's sampled keys, then the configs' other keys in first-seen order; a
    key a config does not set takes the recipe's default. Unknown keys are ValueErrors.
    """
    defaults = config.flatten(recipe.base_config)
    flat_configs = []
    for index, cfg in enumerate(configs):
        if not isinstance(cfg, Mapping):
            raise ValueError(f"config {index} is not a mapping: {cfg!r}")
        flat = config.flatten(cfg)
        for key in flat:
            check_key(key, defaults, f"config {index}")
        flat_configs.append(flat)
    if not flat_configs:
        raise ValueError("no configs to run")
    keys = list(dict.fromkeys([*recipe.distributions, *(k for flat in flat_configs for k in flat)]))
    return [{k: copy.deepcopy(flat[k] if k in flat else defaults[k]) for k in keys} for flat in flat_configs]


def resolve_options(
    given: dict[str, Any], resume_from: str | None, defaults: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The effective options and, when resuming, the sweep's recorded ones.

    Unset (None) options take `defaults` for a new sweep and the recorded values with `resume_from`.
    """
    if resume_from is None:
        return {name: defaults.get(name) if value is None else value for name, value in given.items()}, None
    stored = store.read_sweep_record(Path(resume_from).expanduser())["arguments"]
    return {name: stored.get(name, defaults.get(name)) if value is None else value for name, value in given.items()}, stored


def sweep_root(resume_from: str | None, output_root: str, recipe: Recipe) -> Path:
    """The sweep directory: the one being resumed, else <output_root>/<algo>/<env with dots as _>/."""
    if resume_from:
        return Path(resume_from).expanduser()
    return store.sweep_dir(output_root, recipe.algo_name, recipe.env_name)


def launch(
    recipe: Recipe,
    samples: list[dict[str, Any]] | None,
    settings: Settings,
    source: dict[str, Any],
    arguments: dict[str, Any],
    root: Path,
    stored: dict[str, Any] | None,
    console: Console,
    metric: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Prepare, record (or, with `stored` arguments, check for resuming) and run a sweep in `root`.

    `samples` are the configs to run, or None when `source["sampling_method"]` is a learning
    sampler, which asks them batch by batch from the recipe's distributions. The sweep's Optuna
    study (root/study.log) is told every result, ranked by `metric` ({name, goal}) when given, else
    by final return. Every error is raised before anything is compiled or written.
    """
    metric = metric or DEFAULT_METRIC
    if samples is None:
        prepared = prepare_asked(recipe, settings, source)
        space = recipe_space(recipe.distributions)
        check_method(prepared.method, space, prepared.settings.hparam_batch_size)
    else:
        prepared = prepare(recipe, samples, settings, source)
        sampled = source.get("kind") == "sampled"
        space = recipe_space(recipe.distributions) if sampled else observed_space(samples, recipe.distributions)
    resolved = {name: getattr(prepared.settings, name) for name in ("hparam_batch_size", "compile_cache")}
    arguments = {**arguments, **resolved}  # "auto" and the cache's path resolved
    with cluster(settings), SweepLock(root):  # a Ray cluster that cannot be reached stops it before any writing
        store.remove_temp_files(root)
        if stored is None:
            start(root, prepared, arguments, resume=False)
        else:
            try:
                start(root, prepared, arguments, resume=True)
            except SweepError as err:
                changed = {k: (stored.get(k), v) for k, v in arguments.items() if stored.get(k) != v}
                detail = "; ".join(
                    f"--{k.replace('_', '-')}: sweep has {a!r}, asked {b!r}" for k, (a, b) in changed.items()
                )
                reason = f" Differences: {detail}" if detail else " (the configs or recipe files changed)"
                raise SweepError(f"{err}{reason}") from None
            check_finished_batches(root, prepared)
        search = open_search(root, prepared, space, metric)
        if prepared.method:
            log.info(
                "%s: %d configs asked by %s, %d at a time -> %s",
                recipe.algo_name, prepared.num_samples, prepared.method, prepared.settings.hparam_batch_size, root,
            )
        else:
            log.info("%s: %d configs in %d batches -> %s", recipe.algo_name, len(samples), len(prepared.plan), root)
        try:
            summary = execute(root, prepared, console, metric, search)
        except KeyboardInterrupt:
            console.print(
                f"[bold]interrupted:[/] finished batches are kept; the batch in flight is not marked done and "
                f"continues from its last checkpoint. "
                f"Resume with --resume-from {root} (in Python: run_sweep(..., resume=True))."
            )
            raise
    console.print(summary_table(summary))
    stopped = summary["num_stopped_samples"]
    if stopped:
        console.print(
            f"early stopping: {summary['num_finished_samples']} configurations tried, {stopped} stopped, "
            f"{summary['num_finished_samples'] - stopped - summary['num_diverged_samples']} at full budget; "
            f"{summary['env_steps']:,} env steps of {summary['env_steps_full_budget']:,} at full budget"
        )
    for split in (s for s in summary["padding"] if s["units"] > 1):  # summary.json also has those kept whole
        console.print(
            f"padding (--padding auto): {split['num_samples']} samples of one structure split into "
            f"{split['units']} padded units: an estimated "
            f"{split['estimated_s_chosen']:.0f}s against {split['estimated_s_one_unit']:.0f}s as one padded unit "
            f"(hyperlax/padding.py's cost model, costs measured on a {split['costs_of'].upper()})"
        )
    console.print(
        f"{summary['num_finished_samples']} samples finished in {summary['wall_s']:.1f}s "
        f"({summary['compile_count']} compilations, {summary['compile_cache_hits']} from the compile cache, "
        f"{summary['compile_s']:.1f}s compiling, {summary['compile_wait_s']:.1f}s of it waited for; "
        f"{100 * summary['padding_fraction']:.0f}% of lane-steps were padding). "
        f"Results: {root / 'results.csv'}"
    )
    return summary


def check_finished_batches(root: Path, prepared: Prepared) -> None:
    """Before resuming: discard finished batches whose files changed (warning which file) so they
    run again, and restore a missing samples.csv (a learning sampler's is rewritten as it asks)."""
    for name, problem in store.discard_damaged(root).items():
        log.warning("%s: %s; discarded it, running it again", root / "samples" / name, problem)
    if not (root / "samples.csv").is_file() and not prepared.method:
        store.write_samples_csv(root / "samples.csv", prepared.samples)


def open_search(root: Path, prepared: Prepared, space: Space, metric: Mapping[str, Any]) -> Search:
    """The sweep's study in root/study.log; a learning sampler's resume needs the one it asked from."""
    journal = root / JOURNAL
    if prepared.method and not journal.is_file() and any(store.is_complete(d) for d in root.glob("samples/*_*")):
        raise SweepError(
            f"{journal} is missing: it holds the trials that {prepared.method} learned from, so the sweep cannot ask "
            "the same next samples. Restore the file, or start a new sweep under another --output-root. "
            "Nothing was deleted."
        )
    settings = prepared.settings
    return Search(journal, space, metric["goal"], prepared.method, settings.seed, settings.hparam_batch_size)


def run_sweep(
    configs: Iterable[Mapping[str, Any]],
    algo: str,
    env: str,
    output_root: str = "sweeps",
    resume: bool = False,
    **settings: Any,
) -> dict[str, Any]:
    """Train every config (a flat dict of dotted keys, or a nested dict) and return the summary.

    Config i is sample i; keys the recipe samples but a config does not set take the recipe's
    defaults. Results land in <output_root>/<algo>/<env with dots as _>/. With `resume`, a sweep
    already there is continued (its finished batches skipped) if it asks for the same samples and
    batching; without it, an existing sweep is a SweepError. `settings` are fields of
    `hyperlax.run.loop.Settings` (hparam_batch_size, seed, num_seeds, total_timesteps, ...). Unknown
    keys and bad values are ValueErrors raised before anything is compiled or written.
    """
    names = [f.name for f in dataclasses.fields(Settings)]
    unknown = [name for name in settings if name not in names]
    if unknown:
        raise ValueError(f"run_sweep: unknown setting {', '.join(map(repr, unknown))}; settings are {', '.join(names)}")
    recipe = load_recipe(algo, env)
    samples = explicit_samples(recipe, configs)
    settings = Settings(**settings)
    arguments = {"algo_and_network_config": algo, "env_config": env, **dataclasses.asdict(settings)}
    root = sweep_root(None, output_root, recipe)
    stored = store.read_sweep_record(root)["arguments"] if resume and (root / "sweep.json").is_file() else None
    source = {"kind": "explicit", "from": "python"}
    return launch(recipe, samples, settings, source, arguments, root, stored, Console(stderr=True))
