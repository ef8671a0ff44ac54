"""``benchmarks.multi_fidelity``: a run's accounting of epochs, the suite's jobs and records,
and the report's epochs to quality, end to end through ``hpo bench --suite multi-fidelity``."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.multi_fidelity import report, suite
from benchmarks.multi_fidelity.curve_tables import load_curves
from benchmarks.multi_fidelity.run import run
from benchmarks.runner import read_records
from hpo.errors import UserError
from tests.benchmarks.helpers import bench


def test_without_pruning_a_run_trains_its_budget_of_whole_trainings_in_the_seeds_order():
    _, curves = load_curves("sgd", "iris")
    result = run("none", model="sgd", dataset="iris", seed=3, trainings=5)
    order = np.random.default_rng(3).permutation(len(curves))
    assert result.spent == result.budget == 5 * curves.shape[1] and result.pruned == 0
    assert [spent for spent, _ in result.completed] == [k * curves.shape[1] for k in range(1, 6)]
    assert np.allclose([value for _, value in result.completed], curves[order[:5], -1])


def test_a_pruner_stops_trials_early_and_never_spends_beyond_the_budget():
    result = run("extrapolation", model="mlp", dataset="digits_parity", seed=0, trainings=10)
    assert result.pruned > 0 and result.spent <= result.budget
    spent = [spent for spent, _ in result.completed]
    assert np.all(np.diff([0, *spent]) >= result.epochs)  # a completed trial trained every epoch
    # stopped trials trained fewer: more trials started than the budget's 10 trainings
    assert len(result.completed) + result.pruned > 10 and result.decisions >= result.pruned


def test_a_hyperband_run_repeats_with_its_seed():
    # Hyperband draws a trial's bracket from the study's name: a random name made runs differ
    first, second = (run("hyperband", model="sgd", dataset="wine", seed=2) for _ in range(2))
    assert first.completed == second.completed and first.pruned == second.pruned


def test_a_resume_entry_resumes_paused_trials_once_the_table_is_exhausted():
    plain = run("extrapolation", model="sgd", dataset="iris", seed=0)
    resumed = run("extrapolation-resume", model="sgd", dataset="iris", seed=0)
    # the table (64 configurations) runs out before the budget: the plain run stops there
    assert plain.spent < plain.budget and plain.resumed == 0
    # the same decisions until then, then resumptions spend the rest of the budget
    assert resumed.completed[: len(plain.completed)] == plain.completed
    assert resumed.resumed > 0 and resumed.spent == resumed.budget
    assert len(resumed.completed) > len(plain.completed)
    assert all(spent > plain.spent for spent, _ in resumed.completed[len(plain.completed) :])


def test_jobs_select_tables_by_name_pattern_or_model_and_refuse_unknown_ones():
    jobs = suite.make_jobs(["sgd", "mlp-iris"], ["none", "sac-hmr"], seeds=2)
    assert {j.problem for j in jobs} == {*(t for t in suite.tables() if t.startswith("sgd-")), "mlp-iris"}
    assert len(jobs) == 16 * 2 * 2 and jobs[0].seed == 0 and jobs[-1].seed == 1
    with pytest.raises(UserError, match="matches no learning-curve table"):
        suite.make_jobs(["xgb"])
    with pytest.raises(UserError, match="not entries of the multi-fidelity suite"):
        suite.make_jobs(None, ["tpe"])
    with pytest.raises(UserError, match="n_trials must be an integer >= 10"):
        suite.make_jobs(None, None, trainings=5)


def test_the_suite_runs_end_to_end_and_reports_epochs_to_quality(tmp_path, monkeypatch):
    out = tmp_path / "mf"
    argv = ("--suite", "multi-fidelity", "--problems", "sgd-iris", "mlp-wine", "--seeds", "2")
    entries = ("--optimizers", "none", "hyperband", "extrapolation")
    assert bench(monkeypatch, *argv, *entries, "--workers", "0", "--no-progress", "--out", str(out)) == 0
    records = read_records(out)
    assert len(records) == 2 * 2 * 3 and all(r["status"] == "ok" for r in records)
    frame = report.runs(out)
    for record in records:
        if record["optimizer"] != "none":
            continue
        # training everything reaches the best of the first 10 when that configuration completes
        _, curves = load_curves(record["model"], record["dataset"])
        order = np.random.default_rng(record["seed"]).permutation(len(curves))
        first_best = int(np.argmin(curves[order[:10], -1]))
        row = frame[(frame.entry == "none") & (frame.dataset == record["dataset"]) & (frame.seed == record["seed"])]
        assert row["epochs_to_quality"].item() == (first_best + 1) * curves.shape[1]
    text = (out / "report.md").read_text()
    assert "## Entries, fewest epochs to quality first" in text and "hyperband" in text
    assert "Against the best Optuna pruner (`hyperband`)" in text
    assert (out / "figures" / "epochs_to_quality.png").stat().st_size > 1000
    # a rerun finds every run finished
    assert bench(monkeypatch, *argv, *entries, "--workers", "0", "--no-progress", "--out", str(out)) == 0
    assert len(read_records(out)) == 12


def test_the_oracle_bound_stops_every_configuration_before_the_first_that_reaches_the_quality():
    finals = np.array([0.5, 0.4, 0.3, 0.45, 0.35, 0.6, 0.7, 0.8, 0.9, 0.31, 0.1])
    # the quality: 0.3, the best of the first 10; reached first by the third configuration
    assert suite.oracle_epochs(finals, 30) == 2 + 30
    assert suite.oracle_epochs(finals[::-1], 30) == 0 + 30


def test_a_report_without_the_schedulers_has_no_comparison_with_them(tmp_path, monkeypatch):
    out = tmp_path / "optuna-only"
    argv = ("--suite", "multi-fidelity", "--problems", "sgd-iris", "--seeds", "1", "--optimizers", "none", "median")
    assert bench(monkeypatch, *argv, "--workers", "0", "--no-progress", "--out", str(out)) == 0
    text = (out / "report.md").read_text()
    assert "## Entries, fewest epochs to quality first" in text and "Regret at fixed budgets" not in text
