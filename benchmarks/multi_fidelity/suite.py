"""``hpo bench --suite multi-fidelity``: every entry of ``benchmarks.multi_fidelity.run`` on
every learning-curve table (``benchmarks.multi_fidelity.curve_tables``: 2 models x 15
datasets) and seed.

A problem is a table, ``MODEL-DATASET`` (``--problems`` takes names, shell patterns such as
``'mlp-*'``, or a model); ``--optimizers`` takes entries; ``--n-trials`` is the budget of a
run in full trainings (default 20, of a pool of 64 configurations). Every job writes one
record through the benchmark runner (``benchmarks.runner.run_jobs``: resumable, packed into
``runs.jsonl.xz``); ``benchmarks.multi_fidelity.report`` writes the report.

The shipped scheduler entries never saw the tables: they were pre-trained on synthetic curves
only. ``sac-hmr-lodo`` is the SAC-HMR scheduler meta-trained on the tables of every dataset
but the run's (``benchmarks.multi_fidelity.meta``, made by ``prepare``).
"""

from __future__ import annotations

import fnmatch
import json
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict
from functools import partial
from typing import Any

import numpy as np

from benchmarks.multi_fidelity import meta
from benchmarks.multi_fidelity.curve_tables import MODELS, load_curves
from benchmarks.multi_fidelity.run import DEFAULT_TRAININGS, ENTRIES, LEFT_OUT_ENTRY, RESUME, run
from benchmarks.runner import Job
from hpo.errors import UserError
from hpo.validation import check_int

SUITE = "multi-fidelity"
DEFAULT_SEEDS = 10
# The quality to reach: the best final error of the first REFERENCE_TRAININGS configurations
# of a run's order, which training every trial to the end reaches within that many trainings.
REFERENCE_TRAININGS = 10


def tables() -> list[str]:
    from benchmarks.transfer.hgb_tables import DATASETS

    return [f"{model}-{dataset}" for model in MODELS for dataset in DATASETS]


def parse_table(problem: str) -> tuple[str, str]:
    model, _, dataset = problem.partition("-")
    return model, dataset


def select_tables(patterns: Sequence[str] | None) -> list[str]:
    names = tables()
    if not patterns:
        return names
    chosen = []
    for pattern in patterns:
        matched = [n for n in names if fnmatch.fnmatchcase(n, pattern) or n.startswith(f"{pattern}-")]
        if not matched:
            raise UserError(f"--problems {pattern!r} matches no learning-curve table; allowed: {', '.join(names)}")
        chosen += [n for n in matched if n not in chosen]
    return chosen


def make_jobs(
    problems: Sequence[str] | None = None,
    entries: Sequence[str] | None = None,
    *,
    seeds: int = DEFAULT_SEEDS,
    trainings: int = DEFAULT_TRAININGS,
    first_seed: int = 0,
) -> list[Job]:
    """Every entry (default: all) on every table of ``problems`` for seeds ``first_seed`` ..
    ``first_seed + seeds - 1``, seed-major."""
    check_int("seeds", seeds, 1)
    check_int("first_seed", first_seed, 0)
    check_int("n_trials", trainings, REFERENCE_TRAININGS)
    chosen = list(entries or ENTRIES)
    unknown = [e for e in chosen if e not in ENTRIES]
    if unknown:
        raise UserError(
            f"--optimizers {unknown} are not entries of the multi-fidelity suite; allowed: {', '.join(ENTRIES)}"
        )
    return [
        Job(t, e, s, trainings)
        for s in range(first_seed, first_seed + seeds)
        for t in select_tables(problems)
        for e in chosen
    ]


def oracle_epochs(finals: np.ndarray, epochs: int) -> int:
    """The fewest epochs in which any pruner reaches the quality on configurations whose final
    errors are ``finals``, in order: one epoch for each configuration before the first that
    reaches it (a stop cannot come sooner), then that configuration's whole training."""
    reference = finals[:REFERENCE_TRAININGS].min()
    return int(np.flatnonzero(finals <= reference)[0]) + epochs


def prepare(out, jobs: Sequence[Job]):
    """Meta-train the ``sac-hmr-lodo`` agents the jobs need, once per left-out dataset (in
    ``OUT/agents/``, on a process pool; an existing one is kept); returns the function that
    runs one job (for ``benchmarks.runner.run_jobs``)."""
    from hpo.cluster import completed

    datasets = sorted({parse_table(j.problem)[1] for j in jobs if _left_out(j.optimizer)})
    missing = [d for d in datasets if not meta.agent_path(out, d).exists()]
    for _ in completed(partial(meta.train_left_out, out, tables=tuple(tables())), missing):
        pass
    return partial(run_job, out=str(out))


def _left_out(entry: str) -> bool:
    return entry.removesuffix(RESUME) == LEFT_OUT_ENTRY


def run_job(job: Job, out: str | None = None) -> dict[str, Any]:
    """Run one job; its record, in the runner's format (never raises for the run's own failures)."""
    import optuna

    from hpo.threads import limit_threads

    limit_threads()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    record: dict[str, Any] = {**asdict(job), "status": "ok", "error": None}
    started = time.perf_counter()
    try:
        model, dataset = parse_table(job.problem)
        _, curves = load_curves(model, dataset)
        finals = curves[:, -1]
        order = np.random.default_rng(job.seed).permutation(len(curves))
        agent = str(meta.agent_path(out, dataset)) if _left_out(job.optimizer) else None
        result = run(job.optimizer, model=model, dataset=dataset, seed=job.seed, trainings=job.n_trials, agent=agent)
        record.update(
            group=SUITE,
            model=model,
            dataset=dataset,
            epochs=result.epochs,
            budget=result.budget,
            spent=result.spent,
            completed=result.completed,
            pruned=result.pruned,
            resumed=result.resumed,
            decisions=result.decisions,
            decision_seconds=result.decision_seconds,
            best=float(finals.min()),
            median=float(np.median(finals)),
            reference=float(finals[order[:REFERENCE_TRAININGS]].min()),
            oracle_epochs=oracle_epochs(finals[order], curves.shape[1]),
        )
    except Exception as err:  # noqa: BLE001 - a failed run is recorded; the others go on
        record.update(status="failed", error=f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=4)}")
    record["seconds"] = time.perf_counter() - started
    return json.loads(json.dumps(record, default=float))
