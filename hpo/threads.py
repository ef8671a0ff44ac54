"""Thread limits for numerical libraries.

On small machines BLAS/OpenMP pools oversubscribe the cores badly (a scikit-learn
cross-validation ran 100x slower with default pools beside another job), so the
command line runs everything single-threaded unless the user sets the usual
environment variables themselves.
"""

from __future__ import annotations

import os
import sys

_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads(n: int | None = None) -> int:
    """Limit BLAS, OpenMP and torch intra-op threads; returns the limit applied.

    ``n`` defaults to ``OMP_NUM_THREADS`` when set, else 1.
    """
    if n is None:
        n = int(os.environ.get("OMP_NUM_THREADS", "1"))
    for var in _ENV_VARS:
        os.environ.setdefault(var, str(n))  # inherited by worker processes
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    if "torch" in sys.modules:  # else torch reads OMP_NUM_THREADS when it is imported
        sys.modules["torch"].set_num_threads(n)
    return n
