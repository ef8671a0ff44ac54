#!/usr/bin/env bash
# README command (2): set up, then run the test suite single-threaded (BLAS/OpenMP pools
# oversubscribe 2-core machines badly).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
# MKL picks its kernels by CPU: held to SSE4.2, float32 results move less between machines
# (the pinned suggestions: 1.3e-7 relative on an AVX-512 CPU instead of 3.1e-5).
export MKL_ENABLE_INSTRUCTIONS=SSE4_2
.venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "$@"
