#!/usr/bin/env bash
# README command (1): set up, then show the toolkit's three jobs in a few minutes on 2 cores:
# the RL tuner, TPE and GP tuning an SVC side by side, the electrode energy-rate Pareto fronts,
# and a small benchmark with its rank table. It prints where each file is (results/demo/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
.venv/bin/hpo demo --out results/demo
