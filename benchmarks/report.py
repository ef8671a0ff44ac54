"""The benchmark report: ``DIR/report.md`` with tables and PNG figures, plus summary CSVs.

``write_report(DIR)`` reads every run record of ``DIR`` (the archive ``DIR/runs.jsonl.xz``
and the run files ``DIR/runs/``, see ``benchmarks.runner``) and writes, each atomically:

* ``report.md``: runs, normalized regret per group and budget with AUC, ranks with the
  Friedman and Iman-Davenport tests, pairwise Wilcoxon/Holm and equivalence tests over
  problems, the critical-difference groups, the focus optimizer (that of ``bench.json``,
  else ``sac-hmr``) against every other optimizer at every budget (better, worse,
  equivalent within the margin, or inconclusive), hypervolumes, held-out test scores,
  suggestion overhead, failed and skipped runs;
* ``figures/curves-GROUP.png`` (median normalized regret against the fraction of the
  budget, per optimizer), ``figures/ranks.png``, ``figures/cd-SET.png`` (the
  critical-difference figure of each comparison set at 25% and 100% of the budget),
  ``figures/overhead.png``;
* ``runs.csv``, ``budgets.csv``, ``normalization.csv``, ``ranks.csv`` and ``pairwise.csv``;
  with ``raw_csv=True`` (``--raw-csv``) also ``trials.csv`` (one row per trial) and
  ``curves.csv`` (one row per trial and run): tens of MB for a large suite, and derivable
  from the records at any time, so not written by default.

The report depends only on the run records and ``DIR/bench.json`` (the command line and the
machine of the benchmark), so ``hpo bench report DIR`` rebuilds it at any time, also while a
benchmark is still running, and gives the same bytes from the archive as from the run files.
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import metrics
from benchmarks.runner import ARCHIVE, RUNS_DIR, read_records
from hpo.errors import UserError
from hpo.io import atomic_write, atomic_write_text

CONFIG_FILE = "bench.json"
FIGURES_DIR = "figures"
SIGNIFICANCE = metrics.SIGNIFICANCE
DEFAULT_FOCUS = "sac-hmr"
CD_BUDGETS = (0.25, 1.0)


@dataclass
class ReportData:
    """Everything the report shows, computed from the run records."""

    records: list[dict]
    runs: pd.DataFrame
    trials: pd.DataFrame
    curves: metrics.Curves
    budgets: pd.DataFrame
    auc: pd.DataFrame
    tests: list[metrics.RankTest]
    overhead: pd.DataFrame
    hypervolumes: pd.DataFrame
    margin: float = metrics.EQUIVALENCE_MARGIN  # of the equivalence tests, in normalized regret


def compute(out: str | Path, *, margin: float = metrics.EQUIVALENCE_MARGIN) -> ReportData:
    records = read_records(out)
    if not records:
        raise UserError(
            f"{str(out)!r} holds no benchmark runs (expected {ARCHIVE} or {RUNS_DIR}/PROBLEM/OPTIMIZER/seedS.json)"
        )
    curves = metrics.compute_curves(records)
    budgets = metrics.at_budgets(curves.curves)
    return ReportData(
        records=records,
        runs=metrics.runs_frame(records),
        trials=metrics.trials_frame(records),
        curves=curves,
        budgets=budgets,
        auc=metrics.auc(curves.curves),
        tests=metrics.rank_tests(budgets, margin=margin),
        overhead=metrics.overhead(metrics.trials_frame(records)),
        hypervolumes=metrics.final_hypervolumes(records),
        margin=margin,
    )


def write_report(
    out: str | Path,
    focus: str | None = None,
    *,
    raw_csv: bool = False,
    margin: float = metrics.EQUIVALENCE_MARGIN,
) -> Path:
    """Compute everything from the run records of ``out`` and write the report, figures and
    summary CSVs; ``raw_csv`` also writes the large ``trials.csv`` and ``curves.csv``.
    ``focus``: default, the benchmark's own (``bench.json``), else ``sac-hmr``. ``margin``:
    the equivalence margin in normalized regret (default 0.05): two optimizers are called
    equivalent when the equivalence test shows their per-problem difference within it."""
    out = Path(out)
    if not out.is_dir():
        raise UserError(f"{str(out)!r} is not a folder")
    data = compute(out, margin=margin)
    config = read_config(out)
    focus = focus or config.get("focus") or DEFAULT_FOCUS

    if raw_csv:
        _write_csv(out / "trials.csv", data.trials)
        _write_csv(out / "curves.csv", data.curves.curves)
    _write_csv(out / "runs.csv", data.runs)
    _write_csv(out / "budgets.csv", data.budgets.merge(data.auc, on=metrics.RUN_KEYS, how="left"))
    _write_csv(out / "normalization.csv", data.curves.normalization)
    _write_csv(out / "ranks.csv", _ranks_long(data.tests))
    _write_csv(out / "pairwise.csv", _pairwise_long(data.tests))

    figures = out / FIGURES_DIR
    curve_files = plot_curves(data.curves.curves, figures)
    plot_ranks(data.tests, figures / "ranks.png")
    for label, name in cd_files(data.tests).items():
        plot_cd([t for t in data.tests if t.label == label and t.budget in CD_BUDGETS], figures / name)
    plot_overhead(data.overhead, figures / "overhead.png")

    text = render(
        data, config, focus, curve_files=[p.relative_to(out).as_posix() for p in curve_files], raw_csv=raw_csv
    )
    return atomic_write_text(out / "report.md", text)


def machine_info() -> dict:
    """This machine and the versions that matter, for ``bench.json`` (the report shows the
    machine that ran the benchmark, not the one that rebuilds the report)."""
    return {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "optuna": _version("optuna"),
        "hpo": _version("hpo"),
    }


def read_config(out: Path) -> dict:
    try:
        return json.loads((out / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


# -- Markdown ------------------------------------------------------------------------------


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub Markdown table; floats with ``digits`` significant digits, NaN as '-'."""

    def cell(value) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        if isinstance(value, (float, np.floating)):
            return f"{value + 0.0:.{digits}g}"  # + 0.0 turns -0.0 into 0.0
        return str(value).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    lines = [header, rule]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)


def _budget_label(fraction: float) -> str:
    return f"{fraction:.0%}"


def render(data: ReportData, config: dict, focus: str, curve_files: Sequence[str], *, raw_csv: bool = False) -> str:
    runs = data.runs
    ok = runs[runs["status"] == "ok"]
    lines = ["# Benchmark report", ""]
    if config.get("command"):
        lines += [f"Produced by: `{config['command']}`", ""]
    machine = config.get("machine") or machine_info()  # older bench.json: no machine recorded
    lines += [
        (
            f"{len(runs)} runs: {len(ok)} finished, {int((runs['status'] == 'failed').sum())} failed, "
            f"{int((runs['status'] == 'skipped').sum())} skipped; {runs['problem'].nunique()} problems, "
            f"{runs['optimizer'].nunique()} optimizers ({', '.join(sorted(runs['optimizer'].unique()))}), "
            f"seeds {', '.join(map(str, sorted(runs['seed'].unique())))}."
        ),
        "",
        (
            f"Machine: {machine['machine']}, {machine['cpus']} CPUs, Python {machine['python']}, "
            f"optuna {machine['optuna']}, hpo {machine['hpo']}. Metrics are defined in "
            "docs/benchmarks.md: normalized regret is 0 at the best known value and 1 at the mean "
            "final result of random search on the same problem (lower is better)."
        ),
        "",
    ]
    lines += _problems_section(data)
    lines += _regret_section(data, curve_files)
    lines += _ranks_section(data)
    lines += _focus_section(data, focus)
    lines += _hypervolume_section(data)
    lines += _test_score_section(data)
    lines += _overhead_section(data)
    lines += _problems_runs_section(data)
    lines += ["## Raw results", "", _raw_results_text(raw_csv), ""]
    return "\n".join(lines)


def _raw_results_text(raw_csv: bool) -> str:
    summaries = (
        "`runs.csv` (one row per run), `budgets.csv` (normalized regret per run and budget, with AUC), "
        "`normalization.csv`, `ranks.csv`, `pairwise.csv`"
    )
    if raw_csv:
        return (
            "`trials.csv` (one row per trial), `curves.csv` (best so far, regret and normalized regret "
            f"per run and trial), {summaries}."
        )
    return (
        f"{summaries}. Every trial of every run is in the run records: `{ARCHIVE}` (one JSON record "
        f"per line; `xzcat {ARCHIVE}`) and `{RUNS_DIR}/` for runs not packed yet. "
        "`hpo bench report DIR --raw-csv` also writes `trials.csv` (one row per trial) and `curves.csv` "
        "(best so far, regret and normalized regret per run and trial) from them."
    )


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _problems_section(data: ReportData) -> list[str]:
    runs = data.runs
    normalization = data.curves.normalization.set_index("problem")
    rows = []
    for problem, group in runs.groupby("problem", sort=False):
        record = next(r for r in data.records if r["problem"] == problem)
        note = normalization["note"].get(problem, "") if problem in normalization.index else ""
        rows.append(
            {
                "problem": problem,
                "group": record.get("group") or "-",
                "objectives": len(record.get("directions") or []) or "-",
                "trials": int(group["n_trials"].max()),
                "known optimum": _optimum_label(record),
                "runs ok/failed/skipped": "/".join(
                    str(int((group["status"] == s).sum())) for s in ("ok", "failed", "skipped")
                ),
                "note": note or "",
            }
        )
    return ["## Problems", "", markdown_table(pd.DataFrame(rows)), ""]


def _optimum_label(record: dict) -> str:
    if record.get("optimum") is not None:
        return "yes" if record.get("instance") is None else "yes (instance = seed + 1)"
    if record.get("optimal_hypervolume") is not None:
        return "front"
    return "no (best found)"


def _regret_section(data: ReportData, curve_files: Sequence[str]) -> list[str]:
    lines = [
        "## Normalized regret",
        "",
        (
            "Mean over problems of the mean over seeds, after 10%, 25%, 50% and 100% of the trials; "
            "AUC is the mean normalized regret over all trials, clipped to [0, 1]."
        ),
        "",
    ]
    table = data.budgets.dropna(subset=["normalized_regret"])
    auc = data.auc.dropna(subset=["auc"])
    for group, rows in table.groupby("group", sort=False):
        per_problem = rows.groupby(["optimizer", "problem", "budget"])["normalized_regret"].mean()
        summary = per_problem.groupby(["optimizer", "budget"]).mean().unstack("budget")
        summary.columns = [_budget_label(c) for c in summary.columns]
        group_auc = (
            auc[auc["group"] == group].groupby(["optimizer", "problem"])["auc"].mean().groupby("optimizer").mean()
        )
        summary["AUC"] = group_auc
        summary["problems"] = rows.groupby("optimizer")["problem"].nunique()
        summary = summary.sort_values(summary.columns[len(metrics.BUDGETS) - 1]).reset_index()
        lines += [f"### {group}", "", markdown_table(summary), ""]
    for path in curve_files:
        lines += [f"![{Path(path).stem}]({path})", ""]
    return lines


def _ranks_section(data: ReportData) -> list[str]:
    lines = [
        "## Ranks and statistical tests",
        "",
        (
            "Per comparison set (problems run by the same optimizers), each problem ranks the "
            "optimizers by mean normalized regret over seeds (1 = best); the table gives the mean "
            "rank. The problem is the unit of every test (its mean over seeds). Friedman's test "
            "asks whether any optimizer differs: its chi2 (scipy, corrected for ties) and the "
            "Iman-Davenport F = (N - 1) chi2 / (N (k - 1) - chi2) with k - 1 and (k - 1)(N - 1) "
            "degrees of freedom, the less conservative of the two (N problems, k optimizers). The "
            "pairwise table uses Wilcoxon signed-rank tests over problems with Holm's correction "
            f"(significant: p_holm < {SIGNIFICANCE}); p_equiv_holm is the Holm-corrected p of the "
            f"equivalence test (Wilcoxon TOST) with a margin of {_margin(data)} normalized regret: "
            f"below {SIGNIFICANCE}, the two optimizers are equivalent within the margin. The "
            "critical-difference figure places the optimizers by mean rank and joins with a bar "
            "those adjacent in rank whose every pair is not significantly different (p_holm >= "
            f"{SIGNIFICANCE})."
        ),
        "",
    ]
    figure_names = cd_files(data.tests)
    for label in dict.fromkeys(t.label for t in data.tests):
        tests = [t for t in data.tests if t.label == label]
        ranks = pd.DataFrame({_budget_label(t.budget): t.mean_ranks for t in tests})
        ranks = ranks.sort_values(ranks.columns[-1]).rename_axis("optimizer").reset_index()
        friedman = pd.DataFrame(
            [
                {
                    "budget": _budget_label(t.budget),
                    "problems": len(t.problems),
                    "Friedman chi2": t.friedman_statistic,
                    "p": t.friedman_p,
                    "Iman-Davenport F": t.iman_davenport_statistic,
                    "p (F)": t.iman_davenport_p,
                }
                for t in tests
            ]
        )
        final = tests[-1]
        pairwise = final.pairwise.copy()
        pairwise.insert(
            2,
            "wins/ties/losses of a",
            [
                f"{wins}/{ties}/{losses}"
                for wins, ties, losses in zip(pairwise["wins_a"], pairwise["ties"], pairwise["wins_b"])
            ],
        )
        pairwise = pairwise.drop(columns=["wins_a", "ties", "wins_b", "p_equivalence"])
        pairwise = pairwise.rename(
            columns={"median_difference": "median(a - b)", "statistic": "W", "p_equivalence_holm": "p_equiv_holm"}
        )
        lines += [
            f"### {label}",
            "",
            "Mean rank:",
            "",
            markdown_table(ranks),
            "",
            markdown_table(friedman),
            "",
            f"Pairwise at {_budget_label(final.budget)} of the budget (all budgets in pairwise.csv):",
            "",
            markdown_table(pairwise),
            "",
        ]
        lines += _cd_lines([t for t in tests if t.budget in CD_BUDGETS], figure_names.get(label))
        lines += _ranks_per_group(final, data.budgets)
    if not data.tests:
        lines += ["Too few problems or optimizers with normalized results to rank.", ""]
    lines += ["![ranks](figures/ranks.png)", ""]
    return lines


def _margin(data: ReportData) -> str:
    return f"{data.margin:g}"


def _cd_lines(tests: Sequence[metrics.RankTest], figure: str | None) -> list[str]:
    """The critical-difference groups in words, and the figure that draws them."""
    if not tests or figure is None:
        return []
    lines = ["Critical-difference groups (optimizers adjacent in mean rank, no pair significantly different):", ""]
    for test in tests:
        groups = metrics.cd_groups(test, SIGNIFICANCE)
        grouped = {name for group in groups for name in group}
        alone = [name for name in test.mean_ranks.index if name not in grouped]
        text = "; ".join("{" + ", ".join(group) + "}" for group in groups) or "none"
        if alone:
            text += f"; alone (significantly different from its neighbours in rank): {', '.join(alone)}"
        lines.append(f"- {_budget_label(test.budget)} of the budget: {text}.")
    return lines + ["", f"![critical difference]({FIGURES_DIR}/{figure})", ""]


def _ranks_per_group(test: metrics.RankTest, budgets: pd.DataFrame) -> list[str]:
    """Mean rank per problem group at the test's budget, so that one large group (BBOB)
    does not hide how the optimizers fare on the others."""
    group_of = budgets.drop_duplicates("problem").set_index("problem")["group"]
    ranks = test.block_scores.rank(axis=1, method="average")
    groups = group_of.reindex(ranks.index)
    if groups.nunique() < 2:
        return []
    per_group = ranks.groupby(groups, sort=False).mean().T
    per_group.columns = [f"{g} ({int((groups == g).sum())})" for g in per_group.columns]
    per_group = per_group.loc[test.mean_ranks.index].rename_axis("optimizer").reset_index()
    return [
        f"Mean rank per group (number of problems) at {_budget_label(test.budget)} of the budget:",
        "",
        markdown_table(per_group),
        "",
    ]


def focus_comparisons(tests: Sequence[metrics.RankTest], focus: str) -> pd.DataFrame:
    """The focus optimizer against every other optimizer of its comparison sets, at each
    budget: mean ranks, wins/ties/losses over problems, Wilcoxon statistic, Holm p, the
    equivalence test's Holm p and the verdict: better or worse (two-sided p_holm below the
    significance level), else equivalent within the test's margin (its equivalence p_holm
    below it), else inconclusive."""
    rows = []
    for test in tests:
        if focus not in test.mean_ranks.index:
            continue
        for pair in test.pairwise.itertuples(index=False):
            if focus not in (pair.a, pair.b):
                continue
            other = pair.b if pair.a == focus else pair.a
            wins, losses = (pair.wins_a, pair.wins_b) if pair.a == focus else (pair.wins_b, pair.wins_a)
            difference = pair.median_difference if pair.a == focus else -pair.median_difference
            verdict = _verdict(focus, pair, wins > losses, margin=test.margin)
            rows.append(
                {
                    "set": test.label,
                    "budget": _budget_label(test.budget),
                    "versus": other,
                    f"rank {focus}": test.mean_ranks[focus],
                    "rank other": test.mean_ranks[other],
                    "wins/ties/losses": f"{wins}/{pair.ties}/{losses}",
                    "median difference": difference,
                    "W": pair.statistic,
                    "p_holm": pair.p_holm,
                    "p_equiv_holm": pair.p_equivalence_holm,
                    "verdict": verdict,
                }
            )
    return pd.DataFrame(rows)


def _verdict(focus: str, pair, focus_ahead: bool, *, margin: float) -> str:
    equivalent = pair.p_equivalence_holm < SIGNIFICANCE
    if pair.p_holm < SIGNIFICANCE:
        verdict = f"{focus} better" if focus_ahead else f"{focus} worse"
        return verdict + (f" (by less than {margin:g})" if equivalent else "")
    return f"equivalent within {margin:g}" if equivalent else "inconclusive"


def _focus_section(data: ReportData, focus: str) -> list[str]:
    table = focus_comparisons(data.tests, focus)
    lines = [f"## {focus} against each optimizer", ""]
    if table.empty:
        return lines + [f"No finished runs of {focus!r} to compare.", ""]
    lines += [
        (
            f"Wins/ties/losses count problems where {focus}'s mean normalized regret is lower/equal/"
            f"higher; median difference is {focus} minus the other (negative: {focus} better); W and "
            "p_holm are the Wilcoxon signed-rank statistic and its Holm-corrected p-value, "
            "p_equiv_holm the Holm-corrected p of the equivalence test (Wilcoxon TOST over problems) "
            f"with a margin of {_margin(data)} normalized regret. Verdict: better or worse where "
            f"p_holm < {SIGNIFICANCE}; else equivalent within the margin where p_equiv_holm < "
            f"{SIGNIFICANCE}; else inconclusive (neither a difference nor an equivalence shown)."
        ),
        "",
    ]
    for label, rows in table.groupby("set", sort=False):
        lines += [f"### {label}", ""]
        for budget, at_budget in rows.groupby("budget", sort=False):
            verdict = at_budget["verdict"]
            verdicts = {
                "significantly better than": at_budget.loc[verdict.str.startswith(f"{focus} better"), "versus"],
                "significantly worse than": at_budget.loc[verdict.str.startswith(f"{focus} worse"), "versus"],
                f"equivalent within {_margin(data)} to": at_budget.loc[verdict.str.startswith("equivalent"), "versus"],
                "inconclusive against": at_budget.loc[verdict == "inconclusive", "versus"],
            }
            clauses = [f"{words} {', '.join(names)}" for words, names in verdicts.items() if len(names)]
            rank = at_budget[f"rank {focus}"].iloc[0]
            lines.append(
                f"- {budget} of the budget: mean rank {rank:.2f} of {len(at_budget) + 1}; " + "; ".join(clauses) + "."
            )
        lines += ["", markdown_table(rows.drop(columns=["set"])), ""]
    return lines


def _hypervolume_section(data: ReportData) -> list[str]:
    table = data.hypervolumes
    if table.empty:
        return []
    summary = (
        table.groupby(["problem", "optimizer"])
        .agg(
            mean=("hypervolume", "mean"),
            sd=("hypervolume", "std"),
            runs=("seed", "count"),
            known_front=("optimal_hypervolume", "first"),
        )
        .reset_index()
    )
    summary = summary.rename(columns={"mean": "hypervolume (mean)", "sd": "sd", "known_front": "known front"})
    return [
        "## Hypervolume (multi-objective problems)",
        "",
        (
            "Hypervolume of each run's points in minimization form with the problem's reference point "
            "(electrode: the C/5 and 3C energies negated, the dataset's worst values as reference)."
        ),
        "",
        markdown_table(summary),
        "",
    ]


def _test_score_section(data: ReportData) -> list[str]:
    runs = data.runs[data.runs["test_score"].notna()]
    if runs.empty:
        return []
    summary = (
        runs.groupby(["problem", "optimizer"])
        .agg(
            best_cv=("best_value", "mean"),
            test=("test_score", "mean"),
            test_sd=("test_score", "std"),
            runs=("seed", "count"),
        )
        .reset_index()
    )
    summary = summary.rename(
        columns={
            "best_cv": "incumbent score (CV / validation)",
            "test": "held-out test score",
            "test_sd": "sd",
        }
    )
    return [
        "## Held-out test scores (ML tasks)",
        "",
        (
            "The incumbent of each run (best cross-validated or validation score) refit on the "
            "training split and scored on the held-out test split; mean over seeds."
        ),
        "",
        markdown_table(summary),
        "",
    ]


def _overhead_section(data: ReportData) -> list[str]:
    table = data.overhead.rename(
        columns={
            "optimizer_seconds": "optimizer s/trial",
            "objective_seconds": "objective s/trial",
            "optimizer_share": "optimizer share",
        }
    )
    return [
        "## Suggestion overhead",
        "",
        (
            "Mean seconds per trial spent in the optimizer (sampling and Optuna's bookkeeping) and in "
            "the objective, per problem group."
        ),
        "",
        markdown_table(table),
        "",
        "![overhead](figures/overhead.png)",
        "",
    ]


def _problems_runs_section(data: ReportData) -> list[str]:
    bad = data.runs[data.runs["status"] != "ok"]
    lines = ["## Failed and skipped runs", ""]
    if bad.empty:
        return lines + ["None.", ""]
    return lines + [markdown_table(bad[["problem", "optimizer", "seed", "status", "error"]]), ""]


def _ranks_long(tests: Sequence[metrics.RankTest]) -> pd.DataFrame:
    rows = []
    for test in tests:
        for optimizer, rank in test.mean_ranks.items():
            rows.append(
                {
                    "set": test.label,
                    "budget": test.budget,
                    "optimizer": optimizer,
                    "mean_rank": rank,
                    "problems": len(test.problems),
                    "friedman_statistic": test.friedman_statistic,
                    "friedman_p": test.friedman_p,
                    "iman_davenport_statistic": test.iman_davenport_statistic,
                    "iman_davenport_p": test.iman_davenport_p,
                }
            )
    return pd.DataFrame(rows)


def _pairwise_long(tests: Sequence[metrics.RankTest]) -> pd.DataFrame:
    frames = [t.pairwise.assign(set=t.label, budget=t.budget) for t in tests]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# -- figures -------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    plt = _pyplot()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
    plt.close(fig)
    return path


def _colors(optimizers: Sequence[str]) -> dict[str, str]:
    return {name: f"C{i % 10}" for i, name in enumerate(sorted(optimizers))}


def plot_curves(curves: pd.DataFrame, folder: Path) -> list[Path]:
    """One PNG per problem group: median (line) and quartiles (band) over the group's runs
    of the normalized regret against the fraction of the budget, per optimizer."""
    plt = _pyplot()
    paths = []
    scored = curves.dropna(subset=["normalized_regret"])
    colors = _colors(curves["optimizer"].unique())
    grid = np.linspace(0.0, 1.0, 41)[1:]
    for group, rows in scored.groupby("group", sort=False):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for optimizer, runs in rows.groupby("optimizer"):
            samples = []
            for _, run in runs.groupby(["problem", "seed"]):
                n_trials = int(run["n_trials"].iloc[0])
                values = run.set_index("trial")["normalized_regret"]
                samples.append([values.get(metrics.budget_trials(n_trials, f), np.nan) for f in grid])
            samples = np.asarray(samples, dtype=float)
            median = np.nanmedian(samples, axis=0)
            low, high = np.nanpercentile(samples, [25, 75], axis=0)
            ax.plot(grid, median, label=optimizer, color=colors[optimizer])
            ax.fill_between(grid, low, high, color=colors[optimizer], alpha=0.15)
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.axhline(1.0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("fraction of the trial budget")
        ax.set_ylabel("normalized regret (median, quartiles)")
        ax.set_title(f"{group}: {rows['problem'].nunique()} problems")
        ax.legend(fontsize=8)
        paths.append(_save(fig, folder / f"curves-{_slug(group)}.png"))
    return paths


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


def plot_ranks(tests: Sequence[metrics.RankTest], path: Path) -> Path:
    """Mean rank against the budget, one panel per comparison set."""
    plt = _pyplot()
    labels = list(dict.fromkeys(t.label for t in tests)) or ["no ranked comparison"]
    fig, axes = plt.subplots(1, len(labels), figsize=(5.2 * len(labels), 4.0), squeeze=False)
    colors = _colors({o for t in tests for o in t.mean_ranks.index})
    for ax, label in zip(axes[0], labels):
        chosen = [t for t in tests if t.label == label]
        optimizers = sorted({o for t in chosen for o in t.mean_ranks.index})
        for optimizer in optimizers:
            ax.plot(
                [t.budget for t in chosen],
                [t.mean_ranks.get(optimizer, np.nan) for t in chosen],
                marker="o",
                label=optimizer,
                color=colors[optimizer],
            )
        ax.set_xscale("log")
        ax.set_xticks(list(metrics.BUDGETS), [_budget_label(b) for b in metrics.BUDGETS])
        ax.invert_yaxis()
        ax.set_xlabel("fraction of the trial budget")
        ax.set_ylabel("mean rank (1 = best)")
        ax.set_title(label if len(label) < 60 else label[:57] + "...", fontsize=9)
        if optimizers:
            ax.legend(fontsize=8)
    return _save(fig, path)


def cd_files(tests: Sequence[metrics.RankTest]) -> dict[str, str]:
    """The critical-difference figure's file name of each comparison set that has a test at
    one of ``CD_BUDGETS``: ``cd-Nproblems-Koptimizers.png``."""
    names: dict[str, str] = {}
    for label in dict.fromkeys(t.label for t in tests if t.budget in CD_BUDGETS):
        test = next(t for t in tests if t.label == label)
        stem = f"cd-{len(test.problems)}problems-{len(test.mean_ranks)}optimizers"
        name, suffix = f"{stem}.png", 2
        while name in names.values():
            name, suffix = f"{stem}-{suffix}.png", suffix + 1
        names[label] = name
    return names


def plot_cd(tests: Sequence[metrics.RankTest], path: Path, alpha: float = SIGNIFICANCE) -> Path:
    """The critical-difference figure of one comparison set, one panel per budget: the
    optimizers on an axis of mean rank (1 = best, on the left), thick bars joining the
    groups of ``metrics.cd_groups`` (no pair significantly different, Holm-corrected Wilcoxon
    at ``alpha``)."""
    plt = _pyplot()
    heights = [_cd_height(t) for t in tests]
    fig, axes = plt.subplots(len(tests), 1, figsize=(7.5, sum(heights)), squeeze=False, height_ratios=heights)
    for ax, test in zip(axes[:, 0], tests):
        _draw_cd(ax, test, alpha)
    return _save(fig, path)


def _cd_layout(test: metrics.RankTest) -> tuple[int, float, float]:
    """Optimizers on the left half, the y of the first label, the y spacing of the labels."""
    k = len(test.mean_ranks)
    groups = len(metrics.cd_groups(test))
    return (k + 1) // 2, 0.35 + 0.18 * groups + 0.2, 0.3


def _cd_height(test: metrics.RankTest) -> float:
    left, first, step = _cd_layout(test)
    return 0.6 + 1.1 * (first + step * left)


def _draw_cd(ax, test: metrics.RankTest, alpha: float) -> None:
    ranks = test.mean_ranks.sort_values(kind="stable")
    k = len(ranks)
    left, first, step = _cd_layout(test)
    ax.hlines(0.0, 1, k, color="black", lw=1.2)
    for tick in range(1, k + 1):
        ax.vlines(tick, -0.06, 0.0, color="black", lw=1.0)
        ax.text(tick, -0.1, str(tick), ha="center", va="bottom", fontsize=9)
    for i, (name, rank) in enumerate(ranks.items()):
        on_left = i < left
        y = first + step * (i if on_left else k - 1 - i)
        edge = 0.6 if on_left else k + 0.4
        ax.plot([rank, rank, edge], [0.0, y, y], color="black", lw=0.8)
        ax.text(
            edge - 0.05 if on_left else edge + 0.05,
            y,
            f"{name} ({rank:.2f})",
            ha="right" if on_left else "left",
            va="center",
            fontsize=9,
        )
    for j, group in enumerate(metrics.cd_groups(test, alpha)):
        y = 0.35 + 0.18 * j
        ax.hlines(y, ranks[group[0]] - 0.04, ranks[group[-1]] + 0.04, color="black", lw=4.0)
    ax.set_xlim(-1.2, k + 2.2)
    ax.set_ylim(first + step * left, -0.45)
    ax.axis("off")
    ax.set_title(
        f"{_budget_label(test.budget)} of the budget, {len(test.problems)} problems: mean rank; bars join "
        f"optimizers not significantly different (Wilcoxon, Holm, p >= {alpha:g})",
        fontsize=8.5,
    )


def plot_overhead(overhead: pd.DataFrame, path: Path) -> Path:
    """Seconds per trial in the optimizer and in the objective, per optimizer (log scale)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    if not overhead.empty:
        per_optimizer = overhead.groupby("optimizer")[["optimizer_seconds", "objective_seconds"]].mean()
        per_optimizer = per_optimizer.sort_values("optimizer_seconds")
        x = np.arange(len(per_optimizer))
        ax.bar(x - 0.2, per_optimizer["optimizer_seconds"], width=0.4, label="optimizer")
        ax.bar(x + 0.2, per_optimizer["objective_seconds"], width=0.4, label="objective")
        ax.set_xticks(x, per_optimizer.index, rotation=30, ha="right")
        ax.set_yscale("log")
        ax.legend()
    ax.set_ylabel("seconds per trial (mean over groups)")
    ax.set_title("suggestion overhead")
    return _save(fig, path)
