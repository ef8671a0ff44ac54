"""``benchmarks.runner``: jobs run and resume where they stopped, failures are recorded, the
archive and the run files read back together, a Dask cluster gives the local pool's results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.problems import ProblemUnavailable
from benchmarks.report import write_report
from benchmarks.runner import ARCHIVE, RUNS_DIR, pack_records, read_records, run_jobs
from benchmarks.suites import make_jobs
from hpo.errors import UserError
from tests.benchmarks.helpers import Interrupt, markdown_section_table, quadratic_jobs, quadratic_task, register_problem


def _trajectories(out: Path) -> dict:
    return {
        (r["problem"], r["optimizer"], r["seed"]): [(t["state"], t["values"], t["params"]) for t in r["trials"]]
        for r in read_records(out)
    }


def test_interrupted_run_resumes_without_rerunning_finished_jobs(tmp_path, monkeypatch):
    """Ctrl-C in the middle of the 3rd job; the rerun runs only what is missing."""
    interrupt = Interrupt(at=2 * 5 + 3)  # 5 trials per job: the 3rd job's 3rd trial
    register_problem(monkeypatch, "test-quadratic", lambda seed: quadratic_task("test-quadratic", interrupt))
    jobs = make_jobs("smoke", problems=["test-quadratic"], optimizers=["random", "tpe"], seeds=2, n_trials=5)
    assert len(jobs) == 4

    with pytest.raises(KeyboardInterrupt):
        run_jobs(jobs, tmp_path, workers=0, progress=False)
    finished = [job for job in jobs if job.path(tmp_path).exists()]
    assert finished == jobs[:2]
    stamps = {job: job.path(tmp_path).stat().st_mtime_ns for job in finished}
    contents = {job: job.path(tmp_path).read_text() for job in finished}

    interrupt.at = None
    calls_before = interrupt.calls
    summary = run_jobs(jobs, tmp_path, workers=0, progress=False)
    assert (summary.skipped_finished, summary.ok) == (2, 2)
    assert interrupt.calls - calls_before == 2 * 5  # only the two missing jobs ran
    for job in finished:
        assert job.path(tmp_path).stat().st_mtime_ns == stamps[job]
        assert job.path(tmp_path).read_text() == contents[job]
    assert all(record["status"] == "ok" for record in read_records(tmp_path))
    assert not list(tmp_path.rglob(".seed*"))  # no temporary file of an atomic write left

    # A rerun with a larger budget is not "finished": those runs are redone.
    bigger = make_jobs("smoke", problems=["test-quadratic"], optimizers=["random"], seeds=1, n_trials=6)
    assert run_jobs(bigger, tmp_path, workers=0, progress=False).ok == 1


def test_failures_are_recorded_and_do_not_stop_other_runs(tmp_path, monkeypatch):
    def broken_build(seed):
        raise RuntimeError("cannot build this problem")

    def unavailable_build(seed):
        raise ProblemUnavailable("optional data not installed")

    def failing_objective(params):
        raise ValueError("objective exploded")

    register_problem(monkeypatch, "test-broken", broken_build)
    register_problem(monkeypatch, "test-unavailable", unavailable_build)
    register_problem(monkeypatch, "test-failing", lambda seed: quadratic_task("test-failing", failing_objective))
    register_problem(monkeypatch, "test-fine", lambda seed: quadratic_task("test-fine", Interrupt(None)))
    jobs = make_jobs("smoke", problems=["test-*"], optimizers=["random"], seeds=1, n_trials=3)

    summary = run_jobs(jobs, tmp_path, workers=0, progress=False)
    assert (summary.ok, summary.failed, summary.skipped) == (2, 1, 1)
    records = {r["problem"]: r for r in read_records(tmp_path)}
    assert records["test-broken"]["status"] == "failed"
    assert "RuntimeError: cannot build this problem" in records["test-broken"]["error"]
    assert records["test-unavailable"]["status"] == "skipped"
    assert records["test-unavailable"]["error"] == "optional data not installed"
    assert {t["state"] for t in records["test-failing"]["trials"]} == {"FAIL"}
    assert records["test-failing"]["trials"][0]["error"] == "ValueError: objective exploded"
    assert records["test-fine"]["status"] == "ok"

    # Failed and skipped runs are tried again on a rerun; finished ones are not.
    again = run_jobs(jobs, tmp_path, workers=0, progress=False)
    assert (again.skipped_finished, again.failed, again.skipped) == (2, 1, 1)

    text = write_report(tmp_path).read_text()
    failed_table = markdown_section_table(text, "## Failed and skipped runs")
    assert set(failed_table["problem"]) == {"test-broken", "test-unavailable"}
    assert set(failed_table["status"]) == {"failed", "skipped"}


def test_resumed_run_skips_archived_jobs_and_run_files_win(tmp_path, monkeypatch):
    objective = Interrupt(None)
    jobs = quadratic_jobs(monkeypatch, objective)
    run_jobs(jobs[:3], tmp_path, workers=0, progress=False)
    pack_records(tmp_path)
    calls = objective.calls
    summary = run_jobs(jobs, tmp_path, workers=0, progress=False)
    assert (summary.skipped_finished, summary.ok) == (3, len(jobs) - 3)
    assert objective.calls - calls == (len(jobs) - 3) * 4  # the archived jobs did not run again

    # A run file replaces the archived record of its job: here a failed rerun of jobs[0],
    # which a rerun then tries again, and the next pack keeps only the new record.
    failed = {**read_records(tmp_path)[0], "status": "failed", "error": "lost"}
    failed_job = next(
        j for j in jobs if (j.problem, j.optimizer, j.seed) == (failed["problem"], failed["optimizer"], failed["seed"])
    )
    failed_job.path(tmp_path).parent.mkdir(parents=True, exist_ok=True)
    failed_job.path(tmp_path).write_text(json.dumps(failed))
    pack_records(tmp_path)
    assert read_records(tmp_path)[0]["status"] == "failed"
    again = run_jobs(jobs, tmp_path, workers=0, progress=False)
    assert (again.skipped_finished, again.ok) == (len(jobs) - 1, 1)
    pack_records(tmp_path)
    records = read_records(tmp_path)
    assert len(records) == len(jobs) and {r["status"] for r in records} == {"ok"}
    assert not (tmp_path / RUNS_DIR).exists()


def test_unreadable_archive_is_an_error_not_pending_runs(tmp_path):
    (tmp_path / ARCHIVE).write_bytes(b"not xz")
    with pytest.raises(UserError, match="not a readable run archive"):
        read_records(tmp_path)


def test_dask_local_cluster_gives_the_same_results_as_the_local_pool(tmp_path):
    """The smoke suite on a real scheduler with worker processes gives the same
    trials as the local process pool for the same seeds."""
    distributed = pytest.importorskip("distributed")
    jobs = make_jobs("smoke")
    run_jobs(jobs, tmp_path / "pool", workers=2, progress=False)
    with (
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        # By address (run_jobs opens its own client), then resumed with a client object.
        first = run_jobs(jobs[:6], tmp_path / "dask", dask=cluster.scheduler_address, progress=False)
        rest = run_jobs(jobs, tmp_path / "dask", dask=client, progress=False)
    assert (first.ok, rest.skipped_finished, rest.ok) == (6, 6, len(jobs) - 6)
    pool, dask = _trajectories(tmp_path / "pool"), _trajectories(tmp_path / "dask")
    assert len(pool) == len(jobs)
    assert pool == dask
