"""``benchmarks.report``: the report of a benchmark folder, rebuilt identically from the archive,
with its machine and focus from ``bench.json``, its critical-difference figures and the focus
optimizer's verdicts."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from benchmarks import metrics
from benchmarks.report import _cd_lines, focus_comparisons, markdown_table, plot_cd, write_report
from benchmarks.runner import ARCHIVE, RUNS_DIR, pack_records, read_records, run_jobs
from tests.benchmarks.helpers import Interrupt, bench, markdown_section_table, quadratic_jobs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

SMOKE_PROBLEMS = ("bbob-f01-d2", "bbob-f08-d2", "nb201-cifar10", "zdt1")


def test_smoke_suite_report(tmp_path, monkeypatch):
    """The smoke suite runs through the CLI and its report holds the tables,
    figures and numbers that the raw results imply."""
    out = tmp_path / "smoke"
    argv = ("--suite", "smoke", "--out", str(out), "--workers", "2", "--no-progress", "--raw-csv")
    assert bench(monkeypatch, *argv) == 0
    text = (out / "report.md").read_text()
    # The run files were packed into the archive at the end.
    assert (out / ARCHIVE).is_file() and not (out / RUNS_DIR).exists()
    assert f"Produced by: `hpo bench --suite smoke --out {out} --workers 2`" in text

    for heading in (
        "## Problems",
        "## Normalized regret",
        "## Ranks and statistical tests",
        "## Hypervolume (multi-objective problems)",
        "## Suggestion overhead",
        "## Failed and skipped runs",
    ):
        assert heading in text
    problems_table = markdown_section_table(text, "## Problems")
    assert list(problems_table["problem"]) == list(SMOKE_PROBLEMS)
    assert set(problems_table["runs ok/failed/skipped"]) == {"4/0/0"}  # 2 optimizers x 2 seeds

    # Every figure the report shows exists and is a PNG; the four kinds are there.
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert {"figures/curves-bbob.png", "figures/ranks.png", "figures/overhead.png"} <= set(figures)
    assert any(figure.startswith("figures/cd-") for figure in figures)
    for figure in figures:
        assert (out / figure).read_bytes()[:8] == PNG_MAGIC

    # Raw results: one row per trial and per run.
    trials = pd.read_csv(out / "trials.csv")
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 16 and set(runs["status"]) == {"ok"}
    assert len(trials) == 16 * 16
    assert set(runs["optimizer"]) == {"random", "tpe", "motpe"}

    # The BBOB table's normalized regret at 100%, recomputed here from trials.csv and the
    # optima in the run files: regret = best - f_opt, divided by random search's mean.
    optimum = {(r["problem"], r["seed"]): r["optimum"] for r in read_records(out)}
    finals = (
        trials[trials["problem"].str.startswith("bbob")]
        .groupby(["problem", "optimizer", "seed"])["value_0"]
        .min()
        .reset_index()
    )
    finals["regret"] = finals["value_0"] - [optimum[(p, s)] for p, s in zip(finals["problem"], finals["seed"])]
    scale = finals[finals["optimizer"] == "random"].groupby("problem")["regret"].mean()
    finals["normalized"] = finals["regret"] / finals["problem"].map(scale)
    expected = finals.groupby(["optimizer", "problem"])["normalized"].mean().groupby("optimizer").mean()
    bbob_table = markdown_section_table(text, "### bbob").set_index("optimizer")
    for optimizer in ("random", "tpe"):
        assert float(bbob_table.loc[optimizer, "100%"]) == pytest.approx(expected[optimizer], rel=2e-3)
    assert float(bbob_table.loc["random", "100%"]) == pytest.approx(1.0)

    # curves.csv: the last best-so-far value of each run is its best trial value.
    curves = pd.read_csv(out / "curves.csv")
    last = curves[curves["trial"] == curves["n_trials"]].set_index(["problem", "optimizer", "seed"])
    for row in finals.itertuples():
        assert last.loc[(row.problem, row.optimizer, row.seed), "best_so_far"] == pytest.approx(row.value_0)

    # Ranks at 100% agree with the pairwise wins in the report's own tables.
    pairwise = pd.read_csv(out / "pairwise.csv")
    final = pairwise[(pairwise["budget"] == 1.0) & (pairwise["a"] == "random") & (pairwise["b"] == "tpe")]
    assert len(final) == 1
    ranks = pd.read_csv(out / "ranks.csv")
    final_ranks = ranks[(ranks["budget"] == 1.0) & ranks["optimizer"].isin(["random", "tpe"])]
    random_rank = float(final_ranks.loc[final_ranks["optimizer"] == "random", "mean_rank"].iloc[0])
    tpe_rank = float(final_ranks.loc[final_ranks["optimizer"] == "tpe", "mean_rank"].iloc[0])
    wins_random, wins_tpe = int(final["wins_a"].iloc[0]), int(final["wins_b"].iloc[0])
    n_problems = wins_random + wins_tpe + int(final["ties"].iloc[0])
    assert random_rank - tpe_rank == pytest.approx((wins_tpe - wins_random) / n_problems)

    per_group = markdown_section_table(text, "Mean rank per group").set_index("optimizer")
    assert list(per_group.columns) == ["bbob (2)", "tabular (1)"]
    assert float(per_group.loc["random", "tabular (1)"]) + float(per_group.loc["tpe", "tabular (1)"]) == 3.0

    # The report can be rebuilt from the archive alone, identically.
    (out / "report.md").unlink()
    assert bench(monkeypatch, "report", str(out), "--raw-csv") == 0
    assert (out / "report.md").read_text() == text


def test_packed_records_read_back_and_report_identically(tmp_path, monkeypatch):
    jobs = quadratic_jobs(monkeypatch, Interrupt(None))
    run_jobs(jobs, tmp_path, workers=0, progress=False)
    from_files = read_records(tmp_path)
    assert len(from_files) == len(jobs)
    report = write_report(tmp_path).read_text()
    figures = {p.name: p.read_bytes() for p in (tmp_path / "figures").iterdir()}
    assert not (tmp_path / "trials.csv").exists() and not (tmp_path / "curves.csv").exists()

    assert pack_records(tmp_path) == (len(jobs), tmp_path / ARCHIVE)
    assert not (tmp_path / RUNS_DIR).exists()  # run files and their folders removed
    assert read_records(tmp_path) == from_files  # same records, same order
    packed = (tmp_path / ARCHIVE).read_bytes()
    (tmp_path / "report.md").unlink()
    assert write_report(tmp_path).read_text() == report
    assert {p.name: p.read_bytes() for p in (tmp_path / "figures").iterdir()} == figures

    # Packing again (nothing new) gives the same bytes: the archive can be committed.
    pack_records(tmp_path)
    assert (tmp_path / ARCHIVE).read_bytes() == packed

    # --raw-csv writes the per-trial tables from the archive.
    write_report(tmp_path, raw_csv=True)
    trials = pd.read_csv(tmp_path / "trials.csv")
    assert len(trials) == len(jobs) * 4
    assert len(pd.read_csv(tmp_path / "curves.csv")) == len(jobs) * 4


def test_report_takes_machine_and_focus_from_bench_json(tmp_path, monkeypatch):
    """A report rebuilt elsewhere shows the machine that ran the benchmark, and its focus."""
    run_jobs(quadratic_jobs(monkeypatch, Interrupt(None))[:4], tmp_path, workers=0, progress=False)
    machine = {"machine": "m68k", "cpus": 3, "python": "3.0.1", "optuna": "0.1", "hpo": "9"}
    (tmp_path / "bench.json").write_text(json.dumps({"command": "hpo bench x", "focus": "tpe", "machine": machine}))
    text = write_report(tmp_path).read_text()
    assert "Machine: m68k, 3 CPUs, Python 3.0.1, optuna 0.1, hpo 9." in text
    assert "## tpe against each optimizer" in text
    assert "## random against each optimizer" in write_report(tmp_path, focus="random").read_text()


def test_report_of_a_folder_without_runs_is_an_error(monkeypatch, capsys, tmp_path):
    assert bench(monkeypatch, "report", str(tmp_path)) == 2
    assert "holds no benchmark runs" in capsys.readouterr().err


def test_markdown_table_formats_numbers_and_escapes_pipes():
    text = markdown_table(pd.DataFrame({"name": ["a|b"], "value": [1234.5678], "missing": [np.nan]}))
    assert text.splitlines() == ["| name | value | missing |", "|---|---|---|", "| a\\|b | 1.23e+03 | - |"]


def _scores(scores: dict[str, np.ndarray]) -> pd.DataFrame:
    """A budgets table: one seed, budgets 25% and 100% with the same scores."""
    rows = [
        dict(problem=f"p{i}", group="g", optimizer=name, seed=0, budget=budget, normalized_regret=value)
        for budget in (0.25, 1.0)
        for name, values in scores.items()
        for i, value in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_critical_difference_groups_in_words_and_figure(tmp_path):
    rng = np.random.default_rng(2)
    b = rng.uniform(0.4, 0.6, 12)
    c = b + np.array([1, -1] * 6) * np.linspace(0.01, 0.02, 12)
    tests = metrics.rank_tests(_scores({"a": rng.uniform(0.0, 0.1, 12), "b": b, "c": c}))
    lines = _cd_lines(tests, "cd.png")
    bullets = [line for line in lines if line.startswith("- ")]
    assert len(bullets) == 2 and all(("{b, c}" in line or "{c, b}" in line) for line in bullets)
    assert all(line.endswith("alone (significantly different from its neighbours in rank): a.") for line in bullets)
    assert "![critical difference](figures/cd.png)" in lines
    assert plot_cd(tests, tmp_path / "cd.png").read_bytes()[:8] == PNG_MAGIC


def test_focus_verdicts_better_worse_equivalent_inconclusive():
    rng = np.random.default_rng(3)
    base = rng.uniform(0.3, 0.7, 12)
    small = rng.uniform(-0.02, 0.02, 12)
    swings = np.array([1, -1] * 6) * rng.uniform(0.2, 0.4, 12)
    scores = {
        "focus": base,
        "behind": base + 0.3 + small,  # focus better
        "ahead": base - 0.25 + small,  # focus worse
        "same": base + small,  # within 0.05: equivalent
        "swings": base + swings,  # neither
    }
    (test,) = [t for t in metrics.rank_tests(_scores(scores)) if t.budget == 1.0]
    verdicts = focus_comparisons([test], "focus").set_index("versus")["verdict"].to_dict()
    assert verdicts == {
        "ahead": "focus worse",
        "behind": "focus better",
        "same": "equivalent within 0.05",
        "swings": "inconclusive",
    }
    # A smaller margin turns the equivalence into an open question.
    (strict,) = [t for t in metrics.rank_tests(_scores(scores), margin=0.001) if t.budget == 1.0]
    assert focus_comparisons([strict], "focus").set_index("versus").loc["same", "verdict"] == "inconclusive"


def test_report_states_the_margin_and_links_the_cd_figure(tmp_path, monkeypatch):
    run_jobs(quadratic_jobs(monkeypatch, Interrupt(None)), tmp_path, workers=0, progress=False)
    text = write_report(tmp_path, focus="tpe", margin=0.1).read_text()
    assert "with a margin of 0.1 normalized regret" in text
    assert "| budget | problems | Friedman chi2 | p | Iman-Davenport F | p (F) |" in text
    (figure,) = re.findall(r"!\[critical difference\]\(([^)]+)\)", text)
    assert (tmp_path / figure).read_bytes()[:8] == PNG_MAGIC
