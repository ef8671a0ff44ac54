#!/usr/bin/env bash
# Create (or reuse) the virtual environment .venv inside the checkout and install the
# toolkit with its test extras and the peers (the field's optimizers, whose tests run in the
# suite). torch is pinned and installed first: an unpinned torch would pull a multi-GB CUDA
# build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[test]"
PYTHON=.venv/bin/python sh scripts/install_peers.sh >/dev/null
