"""Shared test setup: single-threaded numerical libraries (2-core CI machines suffer
badly from oversubscribed BLAS/OpenMP pools), quiet Optuna logs."""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import optuna  # noqa: E402

from hpo.threads import limit_threads  # noqa: E402

limit_threads(1)
optuna.logging.set_verbosity(optuna.logging.WARNING)

from tests.postgres import postgres_url  # noqa: E402,F401  (a session fixture)
