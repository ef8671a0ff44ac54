"""Batch work on a local process pool or a Dask cluster, behind one call.

``completed(fn, jobs, workers=..., dask=...)`` runs ``fn(job)`` for every job and yields
``(job, result)`` pairs as they finish: in this process (``workers=0``), in a local pool of
spawned processes (default), or on a Dask cluster (``dask`` = a scheduler address such as
``"tcp://host:8786"`` or a ``distributed.Client``). The benchmark runner and the electrode
dataset generator both use it, so ``--dask ADDRESS`` means the same everywhere. Results
depend only on the jobs (each carries its own seed), never on where they ran.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from hpo.errors import UserError

Job = TypeVar("Job")


def completed(
    fn: Callable[[Job], Any],
    jobs: Sequence[Job],
    *,
    workers: int | None = None,
    dask: Any = None,
) -> Iterator[tuple[Job, Any]]:
    """Yield ``(job, fn(job))`` in completion order (see the module docstring).

    ``workers``: local processes (``None``: one per core; ``0``: run here). An exception in
    ``fn`` propagates; make ``fn`` record its own failures when one job must not stop the
    others. Interrupting the iteration cancels the jobs not yet started.
    """
    jobs = list(jobs)
    if not jobs:
        return
    if dask is not None:
        yield from _on_dask(fn, jobs, dask)
    elif workers == 0:
        for job in jobs:
            yield job, fn(job)
    else:
        yield from _on_pool(fn, jobs, workers or os.cpu_count() or 1)


def _on_pool(fn, jobs, workers: int):
    # spawn, not fork: a forked child inherits torch's and BLAS's thread pools in whatever
    # state the parent left them, which can deadlock.
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {pool.submit(fn, job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:
        # A terminal's Ctrl-C reaches the workers too; a SIGTERM to this process does not:
        # stop their jobs, or the shutdown below waits for them (minutes for a slow job).
        for process in list((pool._processes or {}).values()):
            process.terminate()
        raise
    finally:
        # On an interrupt or an error, drop the queued jobs instead of running them all.
        pool.shutdown(wait=True, cancel_futures=True)


def _on_dask(fn, jobs, dask):
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise UserError("--dask needs the 'distributed' package (pip install 'dask[distributed]')") from None
    own_client = not isinstance(dask, Client)
    try:
        client = Client(dask) if own_client else dask
    except (OSError, TimeoutError, ValueError) as err:
        raise UserError(f"--dask {dask!r}: cannot connect to the scheduler ({err})") from None
    try:
        # pure=False: the same job submitted twice (a rerun) must run again, not be cached.
        futures = {client.submit(fn, job, pure=False): job for job in jobs}
        try:
            for future in dask_completed(list(futures)):
                yield futures[future], future.result()
        finally:
            client.cancel(list(futures))
    finally:
        if own_client:
            client.close()
