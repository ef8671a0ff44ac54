"""Run benchmark jobs (problem x optimizer x seed), one result file per finished run.

A ``Job`` is one optimizer on one problem with one seed for ``n_trials`` trials. ``run_job``
runs it in whatever process it lands in and returns a JSON-ready record; it never raises
for a failure of the problem, the optimizer or the objective (the record says
``status: failed`` or ``skipped`` with the error). ``run_jobs`` sends the pending jobs to a
local process pool (default), runs them in this process (``workers=0``), or submits them
to a Dask cluster (``dask=ADDRESS`` or a ``distributed.Client``), and writes each record
atomically to ``OUT/runs/PROBLEM/OPTIMIZER/seedS.json`` as soon as it arrives. A rerun
skips jobs with a finished (``ok``) run with the same number of trials, in a run file or in
the archive (below), so an interrupted benchmark resumes where it stopped; failed and
skipped runs are tried again.

Trials run through ``hpo.trials.work`` (the failure handling of ``hpo.tune``). Each trial
is timed from the end of the previous one (pop, sampling, objective, tell) and the
objective is timed inside it; the difference is the optimizer's share (the sampler's work,
plus Optuna's in-memory bookkeeping).

Archive: ``pack_records(OUT)`` (``hpo bench pack OUT``, and ``hpo bench`` at the end of a
benchmark) moves the run files into one compressed file, ``OUT/runs.jsonl.xz``: one record
per line, exactly as in its run file, in the order of the run files' paths, compressed with
the standard library's ``lzma``. ``read_records`` reads the archive and the run files
together (a run file replaces the archived record of the same job, so a rerun of a failed
job wins), and a rerun skips jobs finished in either, so packing does not break resuming.
Read the archive by hand with ``xzcat OUT/runs.jsonl.xz``.

Determinism: the sampler's seed is derived from the run's seed and the problem name
(``benchmarks.problems.sampler_seed``) and every objective is deterministic, so a job
gives the same trials wherever it runs; only the timings differ.
"""

from __future__ import annotations

import json
import lzma
import math
import os
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpo.cluster import completed
from hpo.errors import UserError
from hpo.io import atomic_write, atomic_write_text

RUNS_DIR = "runs"
ARCHIVE = "runs.jsonl.xz"


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


def _finished(job: Job, record: dict | None) -> bool:
    """Whether ``record`` is a finished run of ``job`` (status ok, same number of trials)."""
    return record is not None and record.get("status") == "ok" and record.get("n_trials") == job.n_trials


def read_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # absent, or unreadable: the job is simply pending
        return None


def read_records(out: str | Path) -> list[dict]:
    """Every run record under ``out`` (finished, failed and skipped), from the archive and
    the run files, in a stable order: that of the run files' paths."""
    by_job = _records_by_job(out)
    return [by_job[key] for key in sorted(by_job, key=_path_order)]


def _records_by_job(out: str | Path) -> dict[tuple, dict]:
    """Records keyed by job identity; a run file replaces the archived record of its job."""
    records = {_record_key(r): r for r in read_archive(out)}
    for path in _run_files(out):
        record = read_record(path)
        if record is not None:
            records[_record_key(record)] = record
    return records


def _run_files(out: str | Path) -> list[Path]:
    return sorted((Path(out) / RUNS_DIR).glob("*/*/seed*.json"))


def _job_key(job: Job) -> tuple:
    return (job.problem, job.optimizer, job.seed)


def _record_key(record: dict) -> tuple:
    return (record["problem"], record["optimizer"], record["seed"])


def _path_order(key: tuple) -> tuple:
    # The order reports have always read records in (sorted run file paths: "seed10.json"
    # before "seed2.json"); float sums in the report depend on it, so it must not change.
    problem, optimizer, seed = key
    return (problem, optimizer, f"seed{seed}.json")


def read_archive(out: str | Path) -> list[dict]:
    """The records in ``out/runs.jsonl.xz`` (none if it does not exist)."""
    path = Path(out) / ARCHIVE
    try:
        with lzma.open(path, "rt", encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]
    except FileNotFoundError:
        return []
    except (OSError, EOFError, lzma.LZMAError, ValueError) as err:
        # Not "pending": these runs would silently be run again, or vanish from the report.
        raise UserError(
            f"{str(path)!r}: not a readable run archive ({err}); restore it from git or remove it"
        ) from None


def pack_records(out: str | Path) -> tuple[int, Path]:
    """Write every record under ``out`` (archive and run files) into ``out/runs.jsonl.xz``,
    then delete the run files it now holds. Returns the number of records and the path.

    The archive is written atomically before any run file is deleted, and a run file that
    changed meanwhile (a benchmark still writing into ``out``) is kept, so nothing is lost.
    The same records always give the same bytes (xz stores no timestamp).
    """
    out = Path(out)
    records = read_records(out)
    if not records:
        raise UserError(
            f"{str(out)!r} holds no benchmark runs to pack (expected {RUNS_DIR}/PROBLEM/OPTIMIZER/seedS.json)"
        )
    text = "".join(_line(record) for record in records)
    path = atomic_write(out / ARCHIVE, lambda tmp: tmp.write_bytes(lzma.compress(text.encode("utf-8"))))
    packed = {_record_key(record): record for record in records}
    for run_file in _run_files(out):
        record = read_record(run_file)
        if record is not None and packed.get(_record_key(record)) == record:
            run_file.unlink()
    _remove_empty_dirs(out / RUNS_DIR)
    return len(records), path


def stale_records(out: str | Path, problems: Sequence[str] | None = None) -> list[dict]:
    """The finished records under ``out`` that the current problems no longer reproduce: the
    last complete trial's parameters, evaluated again on ``make_problem(problem, seed)``, give
    other values (relative tolerance 1e-6), or the problem no longer has those parameters (it
    gained or lost one). A problem whose data or model changed since its
    runs (a rebuilt surrogate, a new table) makes its old records incomparable with new runs
    of the same name. ``problems``: only these (names, patterns or groups); a problem that is
    not available here (``ProblemUnavailable``) is skipped."""
    from benchmarks.problems import ProblemUnavailable, make_problem, select_problems

    chosen = None if problems is None else set(select_problems(problems))
    stale, built = [], {}
    for record in read_records(out):
        if record.get("status") != "ok" or (chosen is not None and record["problem"] not in chosen):
            continue
        complete = [t for t in record.get("trials") or [] if t["state"] == "COMPLETE" and t["values"] is not None]
        if not complete:
            continue
        key = (record["problem"], record["seed"])
        if key not in built:
            try:
                built[key] = make_problem(*key)
            except ProblemUnavailable:
                built[key] = None
        if built[key] is None:
            continue
        params = complete[-1]["params"]
        if set(params) != set(built[key].space):  # the problem gained or lost a parameter
            stale.append(record)
            continue
        values = np.atleast_1d(np.asarray(built[key].objective(params), dtype=np.float64))
        if values.shape != (len(complete[-1]["values"]),) or not np.allclose(
            values, complete[-1]["values"], rtol=1e-6, atol=1e-12
        ):
            stale.append(record)
    return stale


def drop_records(out: str | Path, records: Sequence[dict]) -> int:
    """Remove these jobs' records from ``out`` (the archive, rewritten atomically, and their
    run files), so that rerunning the benchmark's command runs them again. Returns how many."""
    out = Path(out)
    keys = {_record_key(record) for record in records}
    archived = read_archive(out)
    kept = [record for record in archived if _record_key(record) not in keys]
    if len(kept) != len(archived):
        text = "".join(_line(record) for record in kept)
        atomic_write(out / ARCHIVE, lambda tmp: tmp.write_bytes(lzma.compress(text.encode("utf-8"))))
    for run_file in _run_files(out):
        record = read_record(run_file)
        if record is not None and _record_key(record) in keys:
            run_file.unlink()
    _remove_empty_dirs(out / RUNS_DIR)
    return len(keys)


def _line(record: dict) -> str:
    # The run files' own format, so that a packed record reads back as the same dict.
    return json.dumps(record, separators=(",", ":")) + "\n"


def _remove_empty_dirs(root: Path) -> None:
    for folder, _, _ in os.walk(root, topdown=False):
        try:
            Path(folder).rmdir()
        except OSError:  # not empty (a run file kept, or a temporary file being written)
            pass


def run_job(job: Job) -> dict[str, Any]:
    """Run one job here and return its record (never raises for the job's own failures)."""
    import optuna

    from benchmarks.problems import ProblemUnavailable, make_problem, problem_group, sampler_seed
    from hpo.optimizers import make_sampler
    from hpo.threads import limit_threads
    from hpo.trials import set_budget, work

    limit_threads()  # Dask workers and pool processes: one BLAS/torch thread per job
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    record: dict[str, Any] = {**asdict(job), "status": "ok", "error": None}
    started = time.perf_counter()
    try:
        problem = make_problem(job.problem, job.seed)
        seed = sampler_seed(job.seed, job.problem)
        record.update(
            group=problem_group(job.problem),
            directions=list(problem.directions),
            instance=problem.instance,
            sampler_seed=seed,
            optimum=problem.optimum,
            reference_point=list(problem.reference_point) if problem.reference_point else None,
            optimal_hypervolume=problem.optimal_hypervolume,
        )
        study = optuna.create_study(
            directions=list(problem.directions),
            sampler=make_sampler(job.optimizer, seed=seed, n_objectives=problem.n_objectives, n_trials=job.n_trials),
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
            trials.append(
                {
                    "number": frozen.number,
                    "state": frozen.state.name,
                    "values": list(frozen.values) if frozen.values is not None else None,
                    "params": frozen.params,
                    "objective_seconds": in_objective,
                    "optimizer_seconds": max(now - last_mark - in_objective, 0.0),
                    "error": frozen.user_attrs.get("error"),
                }
            )
            last_mark = now

        set_budget(study, job.n_trials)
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
    if problem.n_objectives > 1:
        return None
    try:
        best = study.best_trial
    except ValueError:  # no completed trial
        return None
    return problem.test_score(best.params)


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
    return atomic_write_text(job.path(out), _line(record))


def run_jobs(
    jobs: Sequence[Job],
    out: str | Path,
    *,
    run: Callable[[Job], dict[str, Any]] = run_job,
    workers: int | None = None,
    dask: Any = None,
    progress: bool = True,
) -> RunSummary:
    """Run the jobs not finished yet under ``out``; write each record when it arrives.

    ``run``: what runs one job and returns its record, never raising for the job's own
    failures (``run_job``; a module-level function or a ``functools.partial`` of one, so
    that it reaches other processes). ``workers``: size of the local process pool (default:
    the CPU count; 0 runs the jobs in this process). ``dask``: a scheduler address (``"tcp://host:8786"``) or a
    ``distributed.Client``; the jobs then run on that cluster and ``workers`` is ignored.
    """
    from tqdm.auto import tqdm

    if workers is not None and workers < 0:
        raise UserError(f"workers must be >= 0, got {workers}")
    summary = RunSummary()
    pending = []
    done = _records_by_job(out)  # read once: the archive can hold thousands of runs
    for job in jobs:
        if _finished(job, done.get(_job_key(job))):
            summary.skipped_finished += 1
        else:
            pending.append(job)
    # closing(): on Ctrl-C the pool (or the Dask futures) is shut down here and now, not
    # whenever the interrupted generator happens to be collected.
    with (
        closing(completed(run, pending, workers=workers, dask=dask)) as results,
        tqdm(total=len(jobs), initial=summary.skipped_finished, disable=not progress, unit="run", desc="bench") as bar,
    ):
        for job, record in results:
            write_record(out, job, record)
            status = record["status"]
            setattr(summary, status, getattr(summary, status) + 1)
            bar.update(1)
            bar.set_postfix(failed=summary.failed, skipped=summary.skipped)
    return summary
