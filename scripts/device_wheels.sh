#!/usr/bin/env bash
# Wheels for a GPU machine without network access: hyperlax itself and the packages it needs that
# such a machine's image lacks, downloaded here into .whl/ (git-ignored) for Python 3.12 on x86-64
# Linux. The list fits the device tool's nvidia-h200 image, which has jax 0.11 with CUDA, flax,
# optax, numpy, scipy, matplotlib, seaborn, pandas, scikit-learn, rich, pyyaml and tqdm.
#
#     bash scripts/device_wheels.sh
#
# There, carry .whl and install them beside the image's packages, then take issue 14's figures:
#
#     python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
#     PYTHON=python3 bash scripts/bench_device.sh $OUT 480
#
# hyperlax installs without its own requirements (--no-deps), so the image's jax is used even
# where hyperlax's version range stops short of it. Run `python3 -m hyperlax.cli` there from outside
# the checkout: its ./hyperlax would shadow the wheel's, which holds the recipes (hyperlax.configs).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir .whl
python3 -m pip wheel --quiet --no-deps --wheel-dir .whl .
platforms=()
for tag in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
    platforms+=(--platform "$tag")
done
# what hyperlax needs that the image lacks, with pyproject.toml's version ranges
readarray -t lacking < <(python3 -c '
import re, tomllib
lacking = {"gymnax", "optuna", "tyro", "salib", "cmaes"}
for spec in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    if re.match(r"[\w.-]+", spec)[0].lower() in lacking:
        print(spec)
')
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" --dest .whl "${lacking[@]}" \
    "gymnasium>=1,<2" "farama-notifications" "cloudpickle" \
    "alembic" "mako" "sqlalchemy>=2,<3" "greenlet" "colorlog" \
    "docstring-parser" "typeguard" "multiprocess" "dill"  # and what those need in turn
ls .whl
du -sh .whl
