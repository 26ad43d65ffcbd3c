"""The persistent compilation cache: a resumed sweep loads its programs from it, `--compile-cache off`
compiles afresh, a sweep uses the directory it asks for whatever this process cached before, and the
default is a user cache directory (in the tests, the one conftest names)."""

import json
from pathlib import Path

import jax
import pytest

from hyperlax.cli import main
from hyperlax.run import compile_cache
from hyperlax.run.loop import Settings
from tests.conftest import write_recipe


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def steps(names: set[str]) -> set[str]:
    """The executor's compiled programs among cache entries (the others: small programs jax runs eagerly)."""
    return {name for name in names if name.startswith(("jit_start-", "jit_advance-"))}


def test_a_resumed_sweep_loads_its_program_from_the_cache_and_off_compiles_afresh(tmp_path):
    recipe = write_recipe(tmp_path)
    cache, elsewhere = tmp_path / "cache", tmp_path / "elsewhere"
    compile_cache.use(str(elsewhere))  # jax's cache set up on another directory first, in this process
    jax.jit(lambda x: x + 1).lower(1.0).compile()
    assert files(elsewhere)

    root = tmp_path / "out" / "tiny_ppo" / "gymnax_cartpole"
    args = ["sweep-hp-samples", "--algo-and-network-config", str(recipe), "--env-config", "gymnax.cartpole",
            "--num-samples", "4", "--hparam-batch-size", "2", "--total-timesteps", "256", "--num-evaluations", "1",
            "--output-root", str(tmp_path / "out"), "--compile-cache", str(cache), "--log-level", "WARNING"]
    assert main(args) == 0
    first = json.loads((root / "summary.json").read_text())
    assert first["compile_count"] == 1 and first["compile_cache_hits"] == 0
    record = json.loads((root / "sweep.json").read_text())
    assert record["settings"]["compile_cache"] == record["arguments"]["compile_cache"] == str(cache)
    cached = files(cache)
    assert len(steps(cached)) == 2 and not steps(files(elsewhere))  # start and advance

    def resume(*options: str) -> dict:
        (root / "samples" / "batch_00001" / "success.txt").unlink()  # as if killed in the last batch
        assert main(["sweep-hp-samples", "--resume-from", str(root), "--log-level", "WARNING", *options]) == 0
        summary = json.loads((root / "summary.json").read_text())
        assert summary["batches_skipped_on_resume"] == 1 and summary["num_finished_samples"] == 4
        return summary

    off = resume("--compile-cache", "off")  # not in the fingerprint: a resume may change it
    assert off["compile_count"] == 1 and off["compile_cache_hits"] == 0
    assert files(cache) == cached and not steps(files(elsewhere))
    again = resume()  # the recorded cache
    assert again["compile_count"] == 1 and again["compile_cache_hits"] == 1


def test_the_default_cache_is_a_user_cache_directory_and_the_tests_use_their_own(monkeypatch, tmp_path):
    assert Path(Settings().compile_cache) == Path(__file__).parent.parent / ".pytest_cache" / "jax"
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compile_cache.default_dir() == str(tmp_path / "xdg" / "hyperlax" / "jax")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert compile_cache.default_dir() == str(tmp_path / ".cache" / "hyperlax" / "jax")


@pytest.mark.parametrize("given", ["~/somewhere/cache", "relative/cache"])
def test_a_cache_directory_is_recorded_as_an_absolute_path(given, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    resolved = compile_cache.resolve(given)
    assert Path(resolved).is_absolute() and Path(resolved).is_dir() and Path(resolved).is_relative_to(tmp_path)
    assert compile_cache.resolve("off") == "off"
