#!/usr/bin/env bash
# README command (2): set up, then run the test suite single-threaded (BLAS/OpenMP pools
# oversubscribe 2-core machines badly).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
.venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "$@"
