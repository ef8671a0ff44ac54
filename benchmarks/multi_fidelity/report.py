"""The multi-fidelity benchmark's report (``report.md`` and ``figures/`` in OUT).

Measures, per run (``benchmarks.multi_fidelity.suite``):

* **epochs to quality**: the epochs spent when the run first completes a trial at least as
  good as the reference (the best final error of the first ``REFERENCE_TRAININGS``
  configurations of the run's order, which training every trial to the end reaches within
  that many trainings); a run that never does counts its whole budget (censored: the true
  number is larger), and the share of runs that reached it is reported;
* **regret** at 5, 10 and 20 trainings' worth of epochs: the incumbent's median-scaled
  regret ``(incumbent - best) / (median - best)`` over the table's final errors (0: the
  table's best configuration; ``REGRET_CAP`` while nothing completed).

The dataset is the unit of every statistic: an entry's value on a dataset is the mean over
its models' tables and the seeds (``log2`` epochs for epochs to quality: a geometric mean).
Tests pair the datasets: each entry against the best Optuna pruner and against the
extrapolation rule, and each pausing entry (``-resume``) against the same pruner without
pause and resume (one-sided and two-sided Wilcoxon signed-rank, Holm-corrected over the
entries compared with the same reference; ``benchmarks.metrics.paired_test``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.metrics import SIGNIFICANCE, holm, paired_test
from benchmarks.multi_fidelity.curve_tables import DATA_DIR, MANIFEST
from benchmarks.multi_fidelity.run import OPTUNA_ENTRIES, RESUME
from benchmarks.multi_fidelity.suite import REFERENCE_TRAININGS
from benchmarks.report import markdown_table, read_config
from benchmarks.runner import read_records
from hpo.io import atomic_write, atomic_write_text

REGRET_CAP = 2.0
REGRET_TRAININGS = (5, 10, 20)
FOCUS = "sac-hmr"
AGENTS = (FOCUS, "sac-hmr-lodo")  # the shipped agent and the one meta-trained with the dataset left out
NO_HMR = "sac-no-hmr"
RULE = "extrapolation"
TARGET_SPEEDUP = 1.5


def incumbent_after(completed: list, epochs: int) -> float | None:
    values = [value for spent, value in completed if spent <= epochs]
    return min(values) if values else None


def runs(out: str | Path) -> pd.DataFrame:
    """One row per finished run: its table, entry, seed, epochs to quality (and whether the
    reference was reached), regrets, decisions and their seconds."""
    rows = []
    for record in read_records(out):
        if record.get("status") != "ok" or "completed" not in record:
            continue
        completed, spread = record["completed"], record["median"] - record["best"]
        reached = [spent for spent, value in completed if value <= record["reference"]]
        row = dict(
            model=record["model"],
            dataset=record["dataset"],
            entry=record["optimizer"],
            seed=record["seed"],
            epochs_to_quality=reached[0] if reached else record["budget"],
            reached=bool(reached),
            oracle_epochs=record["oracle_epochs"],
            decisions=record["decisions"],
            decision_seconds=record["decision_seconds"],
            resumed=record.get("resumed", 0),
        )
        for trainings in REGRET_TRAININGS:
            incumbent = incumbent_after(completed, trainings * record["epochs"])
            regret = REGRET_CAP if incumbent is None else (incumbent - record["best"]) / spread if spread > 0 else 0.0
            row[f"regret_{trainings}"] = float(np.clip(regret, 0.0, REGRET_CAP))
        rows.append(row)
    return pd.DataFrame(rows)


def per_dataset(frame: pd.DataFrame) -> pd.DataFrame:
    """Each entry's value per dataset: ``log2`` epochs to quality and regrets, means over the
    dataset's tables and seeds."""
    frame = frame.assign(log2_epochs=np.log2(frame["epochs_to_quality"]), log2_oracle=np.log2(frame["oracle_epochs"]))
    columns = ["log2_epochs", "log2_oracle", *(f"regret_{t}" for t in REGRET_TRAININGS)]
    return frame.groupby(["dataset", "entry"])[columns].mean().reset_index()


def summary(frame: pd.DataFrame, datasets: pd.DataFrame) -> pd.DataFrame:
    """One row per entry, best first: geometric-mean epochs to quality (over datasets), its
    ratio to no pruning's, the share of runs that reached the reference, mean regrets, mean
    rank of epochs to quality over datasets, and milliseconds per decision."""
    epochs = datasets.pivot(index="dataset", columns="entry", values="log2_epochs")
    table = pd.DataFrame(
        {
            "epochs_to_quality": 2 ** epochs.mean(),
            "speedup_vs_none": 2 ** (epochs["none"].mean() - epochs.mean()) if "none" in epochs else np.nan,
            "rank": epochs.rank(axis=1).mean(),
            "reached": frame.groupby("entry")["reached"].mean(),
            **{f"regret_{t}": datasets.groupby("entry")[f"regret_{t}"].mean() for t in REGRET_TRAININGS},
            "ms_per_decision": 1e3
            * frame.groupby("entry")["decision_seconds"].sum()
            / frame.groupby("entry")["decisions"].sum().clip(lower=1),
        }
    )
    return table.sort_values("epochs_to_quality").rename_axis("entry").reset_index()


def best_optuna(datasets: pd.DataFrame, column: str = "log2_epochs") -> str | None:
    """The Optuna pruner (not ``none``) with the lowest mean of ``column`` over datasets."""
    means = datasets[datasets["entry"].isin(OPTUNA_ENTRIES) & (datasets["entry"] != "none")]
    if means.empty:
        return None
    return str(means.groupby("entry")[column].mean().idxmin())


def tests(datasets: pd.DataFrame, reference: str, column: str = "log2_epochs") -> pd.DataFrame:
    """Every other entry against ``reference`` on ``column`` over datasets (lower is better):
    for ``log2`` epochs the speedup (``2 ** mean`` of the reference's minus the entry's), for a
    regret the mean difference (entry minus reference); wins/ties/losses, the one-sided p that
    the entry is lower and the two-sided p, Holm-corrected over the entries."""
    values = datasets.pivot(index="dataset", columns="entry", values=column)
    if reference not in values:
        return pd.DataFrame()
    rows = []
    for entry in values.columns:
        if entry == reference:
            continue
        pair = values[[entry, reference]].dropna()
        test = paired_test(pair[entry], pair[reference])
        difference = (pair[reference] - pair[entry]).mean()
        effect = {"speedup": float(2**difference)} if column == "log2_epochs" else {"difference": -float(difference)}
        rows.append(
            dict(
                entry=entry,
                against=reference,
                datasets=len(pair),
                **effect,
                wins=test["wins_a"],
                ties=test["ties"],
                losses=test["wins_b"],
                p_less=test["p_less"],
                p=test["p"],
            )
        )
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows)
    table["p_less_holm"] = holm(table["p_less"])
    table["p_holm"] = holm(table["p"])
    return table


def regret_tests(datasets: pd.DataFrame, entries) -> pd.DataFrame:
    """``entries`` against no pruning, the best Optuna pruner at each budget of
    ``REGRET_TRAININGS`` and the hand-set rule, on the regret there (Holm over the rows of one
    budget)."""
    tables = []
    for trainings in REGRET_TRAININGS:
        column = f"regret_{trainings}"
        for reference in dict.fromkeys(["none", best_optuna(datasets, column), RULE]):
            if reference is None or reference not in set(datasets.entry):
                continue
            compared = [e for e in entries if e != reference]
            table = tests(datasets[datasets.entry.isin([*compared, reference])], reference, column)
            if not table.empty:
                tables.append(table.assign(trainings=trainings))
    if not tables:
        return pd.DataFrame()
    frame = pd.concat(tables, ignore_index=True)
    frame["p_less_holm"] = frame.groupby("trainings")["p_less"].transform(lambda p: holm(p))
    frame["p_holm"] = frame.groupby("trainings")["p"].transform(lambda p: holm(p))
    return frame[["trainings", *(c for c in frame.columns if c != "trainings")]]


def resume_tests(frame: pd.DataFrame, datasets: pd.DataFrame) -> pd.DataFrame:
    """Each ``-resume`` entry against its pruner without pause and resume, on epochs to
    quality and the regrets, with its resumptions per run."""
    present = set(datasets.entry)
    tables = []
    for entry in sorted(e for e in present if e.endswith(RESUME) and e.removesuffix(RESUME) in present):
        base = entry.removesuffix(RESUME)
        pair = datasets[datasets.entry.isin([entry, base])]
        runs_of = frame[frame.entry == entry]
        for column in ("log2_epochs", *(f"regret_{t}" for t in REGRET_TRAININGS)):
            table = tests(pair, base, column)
            if "speedup" in table:
                table = table.rename(columns={"speedup": "effect"})
            else:
                table = table.rename(columns={"difference": "effect"})
            tables.append(
                table.assign(
                    measure=column, resumed=runs_of["resumed"].mean(), runs_resuming=(runs_of["resumed"] > 0).mean()
                )
            )
    if not tables:
        return pd.DataFrame()
    table = pd.concat(tables, ignore_index=True).drop(columns=["p_less_holm", "p_holm"])
    first = ["entry", "against", "measure", "effect", "resumed", "runs_resuming"]
    return table[[*first, *(c for c in table.columns if c not in first)]]


def cheapest_epoch_ms(directory: Path = DATA_DIR) -> tuple[str, float]:
    """The table whose model trains fastest per epoch, and its milliseconds per epoch (build
    seconds over configurations x epochs, from the tables' manifest)."""
    import json

    manifest = json.loads((directory / MANIFEST).read_text())
    per_epoch = {name: 1e3 * e["seconds"] / (e["configs"] * e["epochs"]) for name, e in manifest.items()}
    name = min(per_epoch, key=per_epoch.get)
    return name, per_epoch[name]


def write_report(out: str | Path) -> Path:
    """The report of the multi-fidelity benchmark in ``out`` (``report.md`` and
    ``figures/epochs_to_quality.png``; see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    frame = runs(out)
    if frame.empty:
        return atomic_write_text(out / "report.md", "# Multi-fidelity benchmark\n\nNo finished run yet.\n")
    datasets = per_dataset(frame)
    table = summary(frame, datasets)
    optuna_best = best_optuna(datasets)
    # a pausing entry is compared with its own pruner (resume_tests), outside these families
    single = datasets[~datasets.entry.str.endswith(RESUME)]
    against_optuna = tests(single, optuna_best) if optuna_best else pd.DataFrame()
    against_rule = tests(single, RULE)
    cheapest, epoch_ms = cheapest_epoch_ms()
    oracle = datasets.groupby("dataset")["log2_oracle"].first().mean()
    no_pruning = datasets[datasets.entry == "none"]["log2_epochs"].mean()
    config = read_config(out)
    seeds = sorted(int(s) for s in frame["seed"].unique())
    lines = [
        "# Multi-fidelity benchmark: when to stop a trial",
        "",
        f"Produced by: `{config.get('command', 'hpo bench --suite multi-fidelity')}`",
        "",
        f"Runs: {len(frame)} on {frame.groupby(['model', 'dataset']).ngroups} learning-curve tables "
        f"({frame['dataset'].nunique()} datasets x models {sorted(frame['model'].unique())}); seeds {seeds}. "
        "Each run trains the table's configurations in an order drawn from its seed, epoch by epoch, "
        "with the entry's pruner, until its budget of epochs is spent or the table is exhausted.",
        "",
        f"Epochs to quality: the epochs spent until a completed trial is at least as good as the best of the "
        f"first {REFERENCE_TRAININGS} configurations (what training every trial to the end reaches within "
        f"{REFERENCE_TRAININGS} trainings); a run that never gets there counts its whole budget (`reached` is "
        "the share of runs that did). Regret: median-scaled, 0 = the table's best final error, 1 = its "
        f"median, {REGRET_CAP:g} while nothing completed; `regret_N`: after N trainings' worth of epochs.",
        "",
        "The dataset is the unit: an entry's value on a dataset is the mean over its models' tables and seeds "
        "(of log2 epochs: geometric means). `rank`: mean rank of epochs to quality over datasets (1 = fewest).",
        "",
        "## Entries, fewest epochs to quality first",
        "",
        markdown_table(table),
        "",
        "The bound: no pruner can need fewer than one epoch for each configuration before the first "
        "that reaches the quality, plus that configuration's whole training: "
        f"{2**oracle:.3g} epochs (geometric mean over datasets), {2 ** (no_pruning - oracle):.3g}x fewer than no "
        "pruning.",
        "",
    ]
    if optuna_best:
        for agent in AGENTS:
            focus = against_optuna[against_optuna["entry"] == agent] if not against_optuna.empty else pd.DataFrame()
            if focus.empty:
                continue
            row = focus.iloc[0]
            verdict = "met" if row["speedup"] >= TARGET_SPEEDUP and row["p_less_holm"] < SIGNIFICANCE else "not met"
            lines += [
                f"**Target** ({agent} reaches the quality with at least {TARGET_SPEEDUP}x fewer epochs than the best "
                f"Optuna pruner, Holm p < {SIGNIFICANCE}): {verdict}. Best Optuna pruner: `{optuna_best}`; "
                f"{agent} needs {1 / row['speedup']:.3g}x its epochs (speedup {row['speedup']:.3g}), "
                f"{row['wins']}/{row['ties']}/{row['losses']} datasets, one-sided p_holm {row['p_less_holm']:.3g}.",
                "",
            ]
        lines += [
            f"## Against the best Optuna pruner (`{optuna_best}`), over datasets",
            "",
            "speedup: the reference's geometric-mean epochs to quality over the entry's (above 1: the entry "
            "needs fewer); wins/ties/losses: datasets where the entry needs fewer/as many/more; p_less: "
            "one-sided Wilcoxon signed-rank test that it needs fewer, p: two-sided; Holm-corrected over the "
            "entries.",
            "",
            markdown_table(against_optuna),
            "",
        ]
    if not against_rule.empty:
        lines += [
            f"## Against the hand-set rule on the same observation (`{RULE}`)",
            "",
            markdown_table(against_rule),
            "",
        ]
    if {FOCUS, NO_HMR} <= set(datasets.entry):
        pair = datasets[datasets.entry.isin([FOCUS, NO_HMR])]
        hmr = pd.concat(
            [
                tests(pair, NO_HMR, column).assign(measure=column)
                for column in ("log2_epochs", *(f"regret_{t}" for t in REGRET_TRAININGS))
            ],
            ignore_index=True,
        )
        lines += [
            f"## HMR against no HMR (`{FOCUS}` against `{NO_HMR}`, the same training without HMR)",
            "",
            "Per measure, over datasets; speedup for epochs to quality, difference (the entry's minus the "
            "reference's) for regret; not corrected across measures.",
            "",
            markdown_table(hmr[["measure", *(c for c in hmr.columns if c != "measure")]]),
            "",
        ]
    resume = resume_tests(frame, datasets)
    if not resume.empty:
        lines += [
            "## Pause and resume: each `-resume` entry against the same pruner without",
            "",
            "A `-resume` entry pauses what its pruner stops and, once the table is exhausted, spends the rest of "
            "the budget resuming the paused trials its pruner ranks first (`hpo.checkpoints`). `resumed`: mean "
            "resumptions per run; `runs_resuming`: the share of runs that resumed any; effect: the speedup for "
            "epochs to quality (above 1: fewer epochs with pause and resume), the difference of the mean regret "
            "(below 0: lower with pause and resume). Per measure, over datasets; not corrected across measures.",
            "",
            markdown_table(resume),
            "",
        ]
    ours = [e for e in (*AGENTS, NO_HMR, RULE) if e in set(datasets.entry)]
    regrets = regret_tests(datasets, ours)
    if not regrets.empty:
        lines += [
            "## Regret at fixed budgets: the schedulers against no pruning, the best Optuna pruner there and the rule",
            "",
            "Per budget (trainings' worth of epochs), the references are `none`, the Optuna pruner with the "
            f"lowest mean regret at that budget and the hand-set rule `{RULE}`; difference: the entry's mean "
            "regret minus the reference's (below 0: lower regret); Holm-corrected over the rows of one budget.",
            "",
            markdown_table(regrets),
            "",
        ]
    lines += [
        "## Decision overhead",
        "",
        f"`ms_per_decision` above is the pruner's time per `should_prune` call, on this machine. The cheapest "
        f"table model trains one epoch in {epoch_ms:.2g} ms ({cheapest}, from the tables' build times): 10 % of "
        f"it is {epoch_ms / 10:.2g} ms.",
        "",
        "## Per model: geometric-mean epochs to quality over datasets",
        "",
        markdown_table(
            frame.assign(log2=np.log2(frame["epochs_to_quality"]))
            .groupby(["model", "entry"])["log2"]
            .mean()
            .pipe(lambda s: 2**s)
            .unstack("model")
            .reset_index()
        ),
        "",
        "## Figure",
        "",
        "![epochs to quality](figures/epochs_to_quality.png)",
        "",
    ]
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    epochs = 2 ** datasets.pivot(index="dataset", columns="entry", values="log2_epochs")
    order = list(table["entry"])
    fig, ax = plt.subplots(figsize=(8, 5.2))
    ax.boxplot([epochs[e].dropna() for e in order], orientation="horizontal", tick_labels=order)
    ax.axvline(2**oracle, color="grey", linestyle="--", label=f"bound: {2**oracle:.3g} epochs (geometric mean)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    ax.set_xscale("log", base=2)
    ax.invert_yaxis()
    ax.set_xlabel("epochs to reach no pruning's quality at 10 trainings (geometric mean per dataset)")
    ax.set_title("Multi-fidelity benchmark: one point per dataset, fewest epochs first")
    fig.tight_layout()
    atomic_write(figures / "epochs_to_quality.png", lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return atomic_write_text(out / "report.md", "\n".join(lines))
