"""Run benchmark jobs (problem x optimizer x seed), one result file per finished run.

A ``Job`` is one optimizer on one problem with one seed for ``n_trials`` trials. ``run_job``
runs it in whatever process it lands in and returns a JSON-ready record; it never raises
for a failure of the problem, the optimizer or the objective (the record says
``status: failed`` or ``skipped`` with the error). ``run_jobs`` sends the pending jobs to a
local process pool (default), runs them in this process (``workers=0``), or submits them
to a Dask cluster (``dask=ADDRESS`` or a ``distributed.Client``), and writes each record
atomically to ``OUT/runs/PROBLEM/OPTIMIZER/seedS.json`` as soon as it arrives. A rerun
skips jobs whose file holds a finished (``ok``) run with the same number of trials, so an
interrupted benchmark resumes where it stopped; failed and skipped runs are tried again.

Trials run through ``hpo.trials.work`` (the failure handling of ``hpo.tune``). Each trial
is timed from the end of the previous one (pop, sampling, objective, tell) and the
objective is timed inside it; the difference is the optimizer's share (the sampler's work,
plus Optuna's in-memory bookkeeping).

Determinism: the sampler's seed is derived from the run's seed and the problem name
(``benchmarks.problems.sampler_seed``) and every objective is deterministic, so a job
gives the same trials wherever it runs; only the timings differ.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hpo.cluster import completed
from hpo.errors import UserError
from hpo.io import atomic_write_text

RUNS_DIR = "runs"


@dataclass(frozen=True)
class Job:
    problem: str
    optimizer: str
    seed: int
    n_trials: int

    def path(self, out: str | Path) -> Path:
        return Path(out) / RUNS_DIR / self.problem / self.optimizer / f"seed{self.seed}.json"


@dataclass
class RunSummary:
    """What ``run_jobs`` did: counts of runs per outcome, for the caller to print."""

    skipped_finished: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def ran(self) -> int:
        return self.ok + self.failed + self.skipped


def is_finished(job: Job, out: str | Path) -> bool:
    """Whether ``out`` holds a finished run of ``job`` (status ok, same number of trials)."""
    record = read_record(job.path(out))
    return record is not None and record.get("status") == "ok" and record.get("n_trials") == job.n_trials


def read_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # absent, or unreadable: the job is simply pending
        return None


def read_records(out: str | Path) -> list[dict]:
    """Every run record under ``out`` (finished, failed and skipped), in a stable order."""
    records = []
    for path in sorted((Path(out) / RUNS_DIR).glob("*/*/seed*.json")):
        record = read_record(path)
        if record is not None:
            records.append(record)
    return records


def run_job(job: Job) -> dict[str, Any]:
    """Run one job here and return its record (never raises for the job's own failures)."""
    import optuna

    from benchmarks.problems import ProblemUnavailable, make_problem, sampler_seed
    from hpo.optimizers import make_sampler
    from hpo.threads import limit_threads
    from hpo.trials import add_budget, work

    limit_threads()  # Dask workers and pool processes: one BLAS/torch thread per job
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    record: dict[str, Any] = {**asdict(job), "status": "ok", "error": None}
    started = time.perf_counter()
    try:
        problem = make_problem(job.problem, job.seed)
        seed = sampler_seed(job.seed, job.problem)
        record.update(
            group=problem.group,
            directions=list(problem.directions),
            instance=problem.instance,
            sampler_seed=seed,
            optimum=problem.optimum,
            reference_point=list(problem.reference_point) if problem.reference_point else None,
            optimal_hypervolume=problem.optimal_hypervolume,
        )
        study = optuna.create_study(
            directions=list(problem.directions),
            sampler=make_sampler(job.optimizer, seed, problem.n_objectives, job.n_trials),
        )
        objective_seconds: list[float] = []

        def timed_objective(params):
            start = time.perf_counter()
            try:
                return problem.objective(params)
            finally:
                objective_seconds.append(time.perf_counter() - start)

        trials = []
        last_mark = time.perf_counter()

        def record_trial(frozen):
            # Called after each trial: the time since the previous one is this trial's
            # pop + sampling + objective + tell.
            nonlocal last_mark
            now = time.perf_counter()
            in_objective = objective_seconds.pop() if objective_seconds else 0.0
            trials.append({
                "number": frozen.number,
                "state": frozen.state.name,
                "values": list(frozen.values) if frozen.values is not None else None,
                "params": frozen.params,
                "objective_seconds": in_objective,
                "optimizer_seconds": max(now - last_mark - in_objective, 0.0),
                "error": frozen.user_attrs.get("error"),
            })
            last_mark = now

        add_budget(study, job.n_trials)
        work(study, timed_objective, problem.space, on_trial=record_trial)
        record["trials"] = trials
        record["test_score"] = _incumbent_test_score(problem, study)
    except ProblemUnavailable as err:
        record.update(status="skipped", error=str(err))
    except Exception as err:  # noqa: BLE001 - any failure of this job is recorded; the others go on
        record.update(
            status="failed",
            error=f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=4)}",
        )
    record["seconds"] = time.perf_counter() - started
    return _json_ready(record)


def _incumbent_test_score(problem, study) -> float | None:
    if problem.test_score is None or problem.n_objectives > 1:
        return None
    try:
        best = study.best_trial
    except ValueError:  # no completed trial
        return None
    return float(problem.test_score(best.params))


def _json_ready(value):
    """Plain JSON types (numpy scalars from objectives and tables become floats/ints;
    NaN becomes null so the files stay strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_record(out: str | Path, job: Job, record: dict) -> Path:
    # Compact: the standard suite writes thousands of these.
    return atomic_write_text(job.path(out), json.dumps(record, separators=(",", ":")) + "\n")


def run_jobs(
    jobs: Sequence[Job],
    out: str | Path,
    *,
    workers: int | None = None,
    dask: Any = None,
    progress: bool = True,
) -> RunSummary:
    """Run the jobs not finished yet under ``out``; write each record when it arrives.

    ``workers``: size of the local process pool (default: the CPU count; 0 runs the jobs in
    this process). ``dask``: a scheduler address (``"tcp://host:8786"``) or a
    ``distributed.Client``; the jobs then run on that cluster and ``workers`` is ignored.
    """
    from tqdm.auto import tqdm

    if workers is not None and workers < 0:
        raise UserError(f"workers must be >= 0, got {workers}")
    summary = RunSummary()
    pending = []
    for job in jobs:
        if is_finished(job, out):
            summary.skipped_finished += 1
        else:
            pending.append(job)
    with tqdm(
        total=len(jobs), initial=summary.skipped_finished, disable=not progress, unit="run", desc="bench"
    ) as bar:
        for job, record in completed(run_job, pending, workers=workers, dask=dask):
            write_record(out, job, record)
            status = record["status"]
            setattr(summary, status, getattr(summary, status) + 1)
            bar.update(1)
            bar.set_postfix(failed=summary.failed, skipped=summary.skipped)
    return summary
