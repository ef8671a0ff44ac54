#!/usr/bin/env bash
# README command (1): set up, then tune an RBF SVC on scikit-learn's digits with TPE
# (40 trials, under a minute on 2 cores). Results: results/demo/ (CSV + PNG) and the
# SQLite study results/hpo.db (open it with optuna-dashboard).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
.venv/bin/hpo tune svc-digits --optimizer tpe --n-trials 40 --seed 0 --study-name demo --out results/demo
