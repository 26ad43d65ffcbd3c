"""A corpus of malformed inputs run through the real command line (`hyperlax.cli.main`, in process).

Each must exit with code 2 and a message naming the bad item, print no traceback, and leave the
folder exactly as it was (nothing written, nothing deleted): every error comes before any work.
"""

import json
import os
import re
import socket
import textwrap
from pathlib import Path

import pytest

from hyperlax.cli import main
from tests.conftest import TINY_RECIPE

CONFIGS = Path(__file__).parent.parent / "configs" / "algo"
TINY = textwrap.dedent(TINY_RECIPE).replace("EXTRA", "")
HP = "algorithm.hyperparam."
SWEEP = "out/tiny/gymnax_cartpole"  # where a new sweep of tiny.py on CartPole lands
ARGUMENTS = {  # sweep.json arguments of a 2-sample sweep of tiny.py
    "algo_and_network_config": "{d}/tiny.py", "env_config": "gymnax.cartpole", "num_samples": 2,
    "sampling_method": "qmc_sobol", "set": None, "hparam_batch_size": 2, "group_by_structural_hparams": False,
    "sequential": False, "seed": 0, "num_seeds": 1, "num_evaluations": 1, "total_timesteps": 256,
}
SWEEP_JSON = json.dumps({"arguments": ARGUMENTS, "fingerprint": "0" * 16})
LOCK_JSON = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": "2026-01-01T00:00:00"})


def edited(text, old, new=""):
    assert old in text, old
    return text.replace(old, new, 1)


def without_line(path, fragment):
    lines = path.read_text().splitlines(keepends=True)
    assert any(fragment in line for line in lines), fragment
    return "".join(line for line in lines if fragment not in line)


def recipe(text, fragment, env="gymnax.cartpole"):
    """A case for the algorithm recipe file bad.py holding `text`."""
    return (["sweep-hp-samples", "--algo-and-network-config", "{d}/bad.py", "--env-config", env], fragment,
            {"bad.py": text})


def sampled(*options, fragment, files=None):
    """A case for sweep-hp-samples of tiny.py on CartPole with extra options."""
    argv = ["sweep-hp-samples", "--algo-and-network-config", "{d}/tiny.py", "--env-config", "gymnax.cartpole",
            "--num-samples", "2", "--total-timesteps", "256", "--num-evaluations", "1", *options]
    return argv, fragment, files or {}


def from_file(body, fragment, *options, name="sweep.yaml"):
    """A case for `sweep --config FILE` with FILE holding `body`."""
    argv = ["sweep", "--config", f"{{d}}/{name}", "--algo-and-network-config", "{d}/tiny.py",
            "--env-config", "gymnax.cartpole", *options]
    return argv, fragment, {name: textwrap.dedent(body)}


def resume(fragment, files, *options):
    return ["sweep-hp-samples", "--resume-from", f"{{d}}/{SWEEP}", *options], fragment, files


GRID = "method: grid\nparameters: {algorithm.hyperparam.actor_lr: {values: [0.001]}}\n"

CASES = {
    # recipe files
    "syntax error": recipe(TINY.replace("def get_base_config():", "def get_base_config(:"), "bad.py, line 4: syntax error"),
    "import raises": recipe("import math\nx = 1 / 0\n", "bad.py, line 2: importing the recipe raised ZeroDivisionError"),
    "config raises": recipe(
        edited(TINY, "    return {\n        \"algorithm\"", "    raise RuntimeError('boom')\n    return {\n        \"algorithm\""),
        "bad.py, line 5: get_base_config() raised RuntimeError: boom",
    ),
    "no distributions": recipe(edited(TINY, "def get_base_hyperparam_distributions", "def other"), "defines no get_base_hyperparam_distributions()"),
    "config not a dict": recipe("def get_base_config():\n    return []\n", "get_base_config() must return a dict, got list"),
    "algorithm not a section": recipe(
        edited(TINY, "    return {\n        \"algorithm\": {", "    return {\"algorithm\": \"ppo\"}\n    return {\n        \"algorithm\": {"),
        "bad.py: algorithm must be a section (a dict of keys), got 'ppo'",
    ),
    "hyperparam not a section": recipe(
        edited(TINY, '"hyperparam": {', '"hyperparam": 3, "unused": {'), "bad.py: algorithm.hyperparam must be a section (a dict of keys), got 3"
    ),
    "missing anneal_lr": recipe(edited(TINY, '"anneal_lr": False,'), f"no key '{HP}anneal_lr', which ppo reads"),
    "missing vf_coef": recipe(edited(TINY, '"vf_coef": 0.5,'), f"no key '{HP}vf_coef'"),
    "missing num_minibatches": recipe(edited(TINY, '"num_minibatches": 2,'), f"no key '{HP}num_minibatches'"),
    "missing activation": recipe(edited(TINY, ', "activation": "tanh"'), "'algorithm.network.actor_network.pre_torso.activation'"),
    "DQN missing target_update_interval": recipe(
        without_line(CONFIGS / "dqn_mlp.py", '"target_update_interval"'), f"no key '{HP}target_update_interval', which dqn reads"
    ),
    "DQN missing learning_starts": recipe(without_line(CONFIGS / "dqn_mlp.py", '"learning_starts"'), f"'{HP}learning_starts'"),
    "SAC missing autotune_alpha": recipe(
        without_line(CONFIGS / "sac_mlp.py", '"autotune_alpha"'), f"'{HP}autotune_alpha', which sac reads", env="gymnax.pendulum"
    ),
    "sample lacks a conv key": recipe(
        edited((CONFIGS / "dqn_mlp.py").read_text(), "    return {\n        \"algorithm.hyperparam.lr\"",
               "    return {\n        \"algorithm.network.q_network.pre_torso.kind\": Categorical(values=[\"mlp\", \"conv\"]),\n"
               "        \"algorithm.hyperparam.lr\""),
        "algorithm.network.q_network.pre_torso.channels must be a non-empty list", env="minatar.breakout",
    ),
    "reversed domain": recipe(
        edited(TINY, "Uniform(domain=(0.9, 0.99))", "Uniform(domain=(0.99, 0.9))"), f"'{HP}gamma': domain needs low < high"
    ),
    "unknown search key": recipe(edited(TINY, '"algorithm.hyperparam.gamma"', '"algorithm.hyperparam.gama"'), f"'{HP}gama' is not a field"),
    "not a distribution": recipe(edited(TINY, "Uniform(domain=(0.9, 0.99))", "0.95"), f"'{HP}gamma' must map to a distribution"),
    "distribution arguments": recipe(
        edited(TINY, "LogUniform(domain=(1e-4, 1e-2))", "LogUniform(bounds=(1e-4, 1e-2))"), "get_base_hyperparam_distributions() raised TypeError"
    ),
    "empty categorical": recipe(edited(TINY, "Uniform(domain=(0.9, 0.99))", "Categorical(values=[])"), "Categorical needs a non-empty"),
    "unknown algorithm": recipe(edited(TINY, '"name": "ppo"', '"name": "ppox"'), "algorithm.name 'ppox' is not one of"),
    "non-numeric default": recipe(edited(TINY, '"clip_eps": 0.2', '"clip_eps": "wide"'), f"{HP}clip_eps must be a finite number"),
    # recipe names, paths and pairs
    "unknown recipe name": (["sweep-hp-samples", "--algo-and-network-config", "ppo_nope", "--env-config", "gymnax.cartpole"], "available: ", {}),
    "missing recipe file": (["sweep-hp-samples", "--algo-and-network-config", "{d}/nope.py", "--env-config", "gymnax.cartpole"], "nope.py' does not exist", {}),
    "unknown env": (["sweep-hp-samples", "--algo-and-network-config", "ppo_mlp", "--env-config", "gymnax.nope"], "unknown --env-config 'gymnax.nope'", {}),
    "env recipe without env": (
        ["sweep-hp-samples", "--algo-and-network-config", "ppo_mlp", "--env-config", "{d}/env.py"], "needs an 'env' section",
        {"env.py": "def get_base_config():\n    return {'training': {}}\n"},
    ),
    "env not a section": (
        ["sweep-hp-samples", "--algo-and-network-config", "ppo_mlp", "--env-config", "{d}/env.py"], "env.py: env must be a section",
        {"env.py": "def get_base_config():\n    return {'env': 'cartpole'}\n"},
    ),
    "action space": (["sweep-hp-samples", "--algo-and-network-config", "dqn_mlp", "--env-config", "gymnax.pendulum"], "is continuous", {}),
    # command-line values
    "zero samples": sampled("--num-samples", "0", fragment="--num-samples must be at least 1"),
    "zero seeds": sampled("--num-seeds", "0", fragment="--num-seeds must be at least 1"),
    "zero batch size": sampled("--hparam-batch-size", "0", fragment="hparam_batch_size must be at least 1"),
    "word batch size": sampled("--hparam-batch-size", "many", fragment="--hparam-batch-size"),
    "bad boolean": sampled("--sequential=maybe", fragment="--sequential takes True or False, got 'maybe'"),
    "bad sampling method": sampled("--sampling-method", "sobol", fragment="--sampling-method"),
    "more devices than there are": sampled("--devices", "4096", fragment="--devices 4096: this machine has"),
    "zero devices": sampled("--devices", "0", fragment="--devices must be 'all' or a positive integer, got 0"),
    "zero GPUs with ray": sampled("--ray", "auto", "--devices", "0", fragment="--devices with --ray is the number of GPUs"),
    "zero budget": sampled("--total-timesteps", "0", fragment="training.total_timesteps must be a positive integer, got 0"),
    "budget below one update": sampled("--total-timesteps", "10", fragment="training.total_timesteps=10 is less than one update"),
    "zero evaluations": sampled("--num-evaluations", "0", fragment="training.num_evaluations must be a positive integer, got 0"),
    "no env recipe": (["sweep-hp-samples", "--algo-and-network-config", "{d}/tiny.py"], "--env-config required", {}),
    # --set value strings
    "set without =": sampled("--set", HP + "actor_lr", fragment="expected KEY=VALUE-STRING"),
    "set unknown key": sampled("--set", HP + "actor_lrr=1e-3", fragment=f"did you mean '{HP}actor_lr'"),
    "set bad value string": sampled("--set", HP + "actor_lr=[1e-3, 1e-4", fragment="bad value string"),
    "set a call": sampled("--set", HP + "actor_lr=__import__('os').system('x')", fragment="not an allowed function"),
    "set a per-sweep key": sampled("--set", "env.name=[a, b]", fragment="is set once per sweep"),
    "set a word": sampled("--set", HP + "actor_lr=fast", fragment=f"{HP}actor_lr must be a finite number"),
    "set zero envs": sampled("--set", HP + "num_envs=[0, 4]", fragment="num_envs"),
    # sweep files
    "no such sweep file": (["sweep", "--config", "{d}/nope.yaml"], "nope.yaml: no such file", {}),
    "bad YAML": from_file("method: random\nparameters: {x: {values: [1}\n", "not valid YAML"),
    "bayes": from_file(GRID.replace("grid", "bayes"), "method 'bayes'"),
    "unknown metric": from_file(GRID + "metric: {name: loss, goal: minimize}\n", "metric 'loss' is not recorded"),
    "file unknown key": from_file(GRID.replace("actor_lr", "actor_lrr"), f"did you mean '{HP}actor_lr'"),
    "unknown distribution": from_file(
        "method: random\nparameters: {algorithm.hyperparam.actor_lr: {distribution: zipf, min: 1, max: 2}}\n", "unknown distribution 'zipf'"
    ),
    "empty parameters": from_file("method: grid\nparameters: {}\n", "'parameters' must be a non-empty mapping"),
    "bad JSONL line": from_file('{"algorithm.hyperparam.actor_lr": 0.001}\n{"algorithm.hyperparam.actor_lr":\n', ":2: not valid JSON", name="c.jsonl"),
    "file and set": from_file(GRID, "give either --config FILE or --set", "--set", HP + "gamma=0.9"),
    "strategy with file": from_file(GRID, "--strategy and --num-trials go with --set", "--strategy", "grid"),
    # sweep directories
    "resume without sweep.json": resume("no sweep.json there", {f"{SWEEP}/samples.csv": "sample_id\n"}),
    "truncated sweep.json": resume("sweep.json is truncated or not valid JSON", {f"{SWEEP}/sweep.json": SWEEP_JSON[:40]}),
    "sweep.json not a record": resume("sweep.json lacks 'arguments' and 'fingerprint'", {f"{SWEEP}/sweep.json": "[]"}),
    "sweep.json not text": resume("sweep.json cannot be read", {f"{SWEEP}/sweep.json": b"\xff\xfe\x00"}),
    "changed samples": resume("refusing to resume", {"tiny.py": TINY, f"{SWEEP}/sweep.json": SWEEP_JSON}),
    "changed option": resume("--seed: sweep has 0, asked 1", {"tiny.py": TINY, f"{SWEEP}/sweep.json": SWEEP_JSON}, "--seed", "1"),
    "held lock on resume": resume(
        f"another hyperlax command is running this sweep (pid {os.getpid()} on {socket.gethostname()} since 2026-01-01",
        {"tiny.py": TINY, f"{SWEEP}/sweep.json": SWEEP_JSON, f"{SWEEP}/sweep.lock": LOCK_JSON},
    ),
    "held lock on a new sweep": sampled(fragment=f"(pid {os.getpid()} on", files={f"{SWEEP}/sweep.lock": LOCK_JSON}),
    "compile cache under a file": sampled(
        "--compile-cache", "{d}/tiny.py/cache", fragment="--compile-cache {d}/tiny.py/cache: cannot use it as a directory"
    ),
    "output root under a file": sampled("--output-root", "{d}/tiny.py/out", fragment="cannot write the sweep directory {d}/tiny.py/out"),
    "sweep already there": sampled(fragment="already holds a sweep; continue it with --resume-from", files={f"{SWEEP}/sweep.json": SWEEP_JSON}),
}


def snapshot(folder):
    """Every path under `folder` (bytecode caches aside) with its contents."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
        if "__pycache__" not in p.parts
    }


@pytest.mark.parametrize("name", CASES)
def test_a_bad_input_exits_2_naming_it_and_writes_nothing(name, tmp_path, capsys):
    argv, fragment, files = CASES[name]
    files = {"tiny.py": TINY, **files}
    for relative, content in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{d}", str(tmp_path)))
    argv = [arg.replace("{d}", str(tmp_path)) for arg in argv]
    if not any(arg.startswith("--output-root") for arg in argv):
        argv += ["--output-root", str(tmp_path / "out")]
    before = snapshot(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exit_:  # the argument parser's own refusals
        code = exit_.code
    out = capsys.readouterr()
    text = re.sub(r"\s+", " ", out.err + out.out)
    assert code == 2, text[-2000:]
    assert "Traceback" not in text
    assert fragment.replace("{d}", str(tmp_path)) in text, text[-2000:]
    assert snapshot(tmp_path) == before
