"""Benchmark metrics from run records: curves, normalized regret, ranks and tests, overhead.

Conventions (docs/benchmarks.md explains them for readers of the report):

* **Score per trial.** Single objective: the best value so far, turned into a loss (the
  value when minimizing, its negative when maximizing); FAIL trials do not improve it.
  Multi-objective: the hypervolume (pymoo) of the points so far, in minimization form,
  with the problem's reference point; points outside the reference box add nothing.
* **Regret.** Single objective: loss minus the best known loss of the problem (instance),
  the better of the known optimum and the best value any run found. Multi-objective:
  best known hypervolume (known front, or all runs' points together) minus hypervolume.
* **Normalized regret** = regret / (mean final regret of random search on the problem):
  0 is the best known value, 1 is what random search reaches with the full budget, so
  problems of any scale can be averaged. Problems where random search already reaches the
  best known value have no scale and are left out of the normalized tables.
* **Median-scaled regret** (tables whose every configuration is known, the transfer
  benchmark): ``(s* - s) / (s* - s_med)`` for a score ``s`` (larger is better), the table's
  best score ``s*`` and its median score ``s_med``: 0 is the optimum, 1 a median
  configuration. Needs no baseline runs.
* **Budgets**: normalized regret after 10%, 25%, 50% and 100% of a run's trials.
* **AUC**: mean over all trials of the normalized regret clipped to [0, 1] (time spent
  worse than random search's final result counts as 1), so 0 is best.
* **Ranks**: per problem, optimizers ranked by their mean normalized regret over seeds
  (ties share the mean rank); averaged over problems. The problem is the unit of every
  test: Friedman's test over problems with the Iman-Davenport F; pairwise Wilcoxon
  signed-rank tests over problems with Holm's correction for the number of pairs; the
  critical-difference groups: optimizers adjacent in mean rank whose every pair is not
  significantly different (Holm-corrected Wilcoxon, Benavoli et al., 2016).
* **Equivalence**: a Wilcoxon two one-sided tests procedure (TOST) on the per-problem
  differences: ``d + margin`` shifted above zero and ``d - margin`` below it, each a
  one-sided signed-rank test; its p-value is the larger of the two, Holm-corrected like
  the difference tests. "No difference" is only claimed within the margin
  (``EQUIVALENCE_MARGIN``, 0.05 normalized regret by default) and with this test.
* **Overhead**: seconds per trial in the optimizer (sampling and Optuna's bookkeeping)
  versus in the objective.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

BUDGETS = (0.1, 0.25, 0.5, 1.0)
BASELINE = "random"
SIGNIFICANCE = 0.05
EQUIVALENCE_MARGIN = 0.05  # in the units of the compared scores: normalized regret
RUN_KEYS = ["problem", "group", "optimizer", "seed"]


# -- flat tables -----------------------------------------------------------------------------


def runs_frame(records: Sequence[dict]) -> pd.DataFrame:
    """One row per run record: identity, status, error, trial counts, test score, times."""
    rows = []
    for record in records:
        trials = record.get("trials") or []
        values = [t["values"][0] for t in trials if t["state"] == "COMPLETE" and t["values"]]
        single = len(record.get("directions") or []) == 1
        best_value = None
        if single and values:
            best_value = min(values) if record["directions"][0] == "minimize" else max(values)
        rows.append(
            {
                "problem": record["problem"],
                "group": record.get("group"),
                "optimizer": record["optimizer"],
                "seed": record["seed"],
                "instance": record.get("instance"),
                "n_trials": record["n_trials"],
                "status": record["status"],
                "error": (record.get("error") or "").splitlines()[0] if record.get("error") else None,
                "n_complete": sum(t["state"] == "COMPLETE" for t in trials),
                "n_failed": sum(t["state"] == "FAIL" for t in trials),
                "best_value": best_value,
                "test_score": record.get("test_score"),
                "seconds": record.get("seconds"),
                "objective_seconds": sum(t["objective_seconds"] for t in trials),
                "optimizer_seconds": sum(t["optimizer_seconds"] for t in trials),
            }
        )
    return pd.DataFrame(rows)


def trials_frame(records: Sequence[dict]) -> pd.DataFrame:
    """One row per trial of the finished runs (the raw results)."""
    rows = []
    for record in _ok(records):
        for trial in record["trials"]:
            row = {key: record.get(key) for key in RUN_KEYS}
            row.update(
                instance=record.get("instance"),
                trial=trial["number"],
                state=trial["state"],
                objective_seconds=trial["objective_seconds"],
                optimizer_seconds=trial["optimizer_seconds"],
                error=trial.get("error"),
            )
            for index, value in enumerate(trial["values"] or [None] * len(record["directions"])):
                row[f"value_{index}"] = value
            rows.append(row)
    return pd.DataFrame(rows)


def _ok(records: Sequence[dict]) -> list[dict]:
    return [r for r in records if r.get("status") == "ok" and r.get("trials") is not None]


# -- scores and regret -----------------------------------------------------------------------


def _losses(record: dict) -> np.ndarray:
    """(n_trials, n_objectives) losses (minimization form); NaN for trials that failed."""
    signs = np.array([1.0 if d == "minimize" else -1.0 for d in record["directions"]])
    losses = np.full((len(record["trials"]), len(signs)), np.nan)
    for i, trial in enumerate(record["trials"]):
        if trial["state"] == "COMPLETE" and trial["values"] is not None:
            losses[i] = signs * np.asarray(trial["values"], dtype=float)
    return losses


def hypervolume(losses: np.ndarray, reference: Sequence[float]) -> float:
    """Hypervolume (pymoo) of the finite rows of ``losses`` that dominate ``reference``."""
    from pymoo.indicators.hv import HV

    reference = np.asarray(reference, dtype=float)
    inside = losses[np.all(np.isfinite(losses), axis=1) & np.all(losses < reference, axis=1)]
    if len(inside) == 0:
        return 0.0
    return float(HV(ref_point=reference)(inside))


def _score_curve(record: dict) -> np.ndarray:
    """Per trial: best loss so far (single objective) or minus the hypervolume so far
    (multi-objective), so that lower is better in both cases; NaN before any success."""
    losses = _losses(record)
    if losses.shape[1] == 1:
        return np.fmin.accumulate(losses[:, 0])  # fmin skips NaN: a failure keeps the best
    reference = record["reference_point"]
    curve = np.full(len(losses), np.nan)
    current, last_hv = None, 0.0
    for t in range(len(losses)):
        if np.all(np.isfinite(losses[t])):
            current = losses[: t + 1]
            last_hv = hypervolume(current, reference)
        curve[t] = -last_hv if current is not None else np.nan
    return curve


def _in_problem_terms(record: dict, score: np.ndarray) -> np.ndarray:
    """The score as a reader expects it: the best value in the problem's own direction
    (single objective), or the hypervolume (multi-objective)."""
    if len(record["directions"]) > 1:
        return -score
    return score if record["directions"][0] == "minimize" else -score


@dataclass
class Curves:
    """Per-run score and regret curves plus the per-problem normalization."""

    # RUN_KEYS + trial (1-based count), score (lower is better), best_so_far (problem's terms),
    # regret, normalized_regret
    curves: pd.DataFrame
    normalization: pd.DataFrame  # problem, random_final_regret, note


def compute_curves(records: Sequence[dict]) -> Curves:
    ok = _ok(records)
    frames, scores = [], {}
    for record in ok:
        scores[_key(record)] = _score_curve(record)

    # Best known value per problem (and BBOB instance): the known optimum or the best of
    # any run, whichever is better (lower in the minimization form of the score).
    best_known: dict[tuple, float] = {}
    for record in ok:
        target = _target_key(record)
        candidates = [np.nanmin(scores[_key(record)])] if np.any(np.isfinite(scores[_key(record)])) else []
        if record["optimum"] is not None and len(record["directions"]) == 1:
            sign = 1.0 if record["directions"][0] == "minimize" else -1.0
            candidates.append(sign * record["optimum"])
        if record.get("optimal_hypervolume") is not None:
            candidates.append(-record["optimal_hypervolume"])
        best_known[target] = min([best_known.get(target, math.inf)] + candidates)
    _union_fronts(ok, best_known)

    for record in ok:
        curve = scores[_key(record)]
        regret = curve - best_known[_target_key(record)]
        frame = pd.DataFrame(
            {
                "trial": np.arange(1, len(curve) + 1),
                "score": curve,
                "best_so_far": _in_problem_terms(record, curve),
                "regret": np.maximum(regret, 0.0),
            }
        )
        for key in RUN_KEYS:
            frame[key] = record[key] if key != "group" else record.get("group")
        frame["n_trials"] = record["n_trials"]
        frames.append(frame)
    curves = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=RUN_KEYS + ["trial", "score", "best_so_far", "regret", "n_trials"])
    )

    normalization_rows = []
    for problem, rows in curves.groupby("problem", sort=False):
        finals = rows[(rows["optimizer"] == BASELINE) & (rows["trial"] == rows["n_trials"])]["regret"]
        scale = float(finals.mean()) if len(finals) else math.nan
        note = ""
        if not len(finals):
            note = "no random-search run: not normalized"
        elif not scale > 0:
            note = "random search reached the best known value: not normalized"
            scale = math.nan
        normalization_rows.append(
            {
                "problem": problem,
                "random_final_regret": scale,
                "note": note,
            }
        )
    normalization = pd.DataFrame(normalization_rows, columns=["problem", "random_final_regret", "note"])
    scale = curves["problem"].map(normalization.set_index("problem")["random_final_regret"])
    curves["normalized_regret"] = curves["regret"] / scale
    return Curves(curves, normalization)


def _union_fronts(ok: list[dict], best_known: dict[tuple, float]) -> None:
    """Multi-objective problems: the hypervolume of all runs' points together is a best
    known value too (the only one where the front is unknown)."""
    by_problem: dict[tuple, list[np.ndarray]] = {}
    for record in ok:
        if len(record["directions"]) > 1:
            by_problem.setdefault(_target_key(record), []).append(_losses(record))
    for target, losses in by_problem.items():
        reference = next(r["reference_point"] for r in ok if _target_key(r) == target)
        union = -hypervolume(np.vstack(losses), reference)
        best_known[target] = min(best_known.get(target, math.inf), union)


def _key(record: dict) -> tuple:
    return tuple(record[k] for k in ("problem", "optimizer", "seed"))


def _target_key(record: dict) -> tuple:
    return (record["problem"], record.get("instance"))


def median_scaled_regret(score: float, best: float, median: float) -> float:
    """``(best - score) / (best - median)`` (see the module docstring)."""
    return (best - score) / (best - median)


# -- budgets, AUC ----------------------------------------------------------------------------


def budget_trials(n_trials: int, fraction: float) -> int:
    return max(1, math.ceil(fraction * n_trials - 1e-9))


def at_budgets(curves: pd.DataFrame, budgets: Sequence[float] = BUDGETS) -> pd.DataFrame:
    """Per run and budget: normalized regret after that fraction of the run's trials."""
    rows = []
    for key, run in curves.groupby(RUN_KEYS, sort=False):
        run = run.set_index("trial")
        n_trials = int(run["n_trials"].iloc[0])
        for fraction in budgets:
            rows.append(
                dict(
                    zip(RUN_KEYS, key),
                    budget=fraction,
                    normalized_regret=float(run.loc[budget_trials(n_trials, fraction), "normalized_regret"]),
                )
            )
    return pd.DataFrame(rows, columns=RUN_KEYS + ["budget", "normalized_regret"])


def auc(curves: pd.DataFrame) -> pd.DataFrame:
    """Per run: mean over trials of the normalized regret clipped to [0, 1] (NaN before
    the first success counts as 1)."""
    clipped = curves["normalized_regret"].clip(0.0, 1.0)
    clipped = clipped.where(curves["score"].notna(), 1.0)
    frame = curves.assign(clipped=clipped)
    # A problem without normalization has no AUC either.
    frame.loc[curves["normalized_regret"].isna() & curves["score"].notna(), "clipped"] = np.nan
    return frame.groupby(RUN_KEYS, sort=False)["clipped"].mean(skipna=False).rename("auc").reset_index()


# -- ranks and tests -------------------------------------------------------------------------


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of p-values (NaN entries stay NaN)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    order = valid[np.argsort(p[valid])]
    m = len(order)
    running = 0.0
    for i, index in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[index]))
        adjusted[index] = running
    return adjusted


def paired_test(a: Sequence[float], b: Sequence[float], *, margin: float = EQUIVALENCE_MARGIN) -> dict:
    """Paired comparison of ``a`` and ``b`` (one value per unit, lower is better): wins of a,
    ties, wins of b, median of ``a - b``, the two-sided Wilcoxon signed-rank statistic and p
    (zero differences dropped, exact or normal as scipy chooses; p = 1 when all differences
    are zero), the one-sided p that ``a`` is lower (``p_less``) and the equivalence p of the
    Wilcoxon TOST within ``margin`` (``p_equivalence``: small when the location of ``a - b``
    is surely inside ``(-margin, margin)``)."""
    difference = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    statistic = p_value = p_less = math.nan
    if np.any(difference != 0):
        statistic, p_value = _signed_rank(difference, "two-sided")
        _, p_less = _signed_rank(difference, "less")
    elif len(difference):
        p_value = p_less = 1.0  # identical on every unit
    return {
        "wins_a": int(np.sum(difference < 0)),
        "ties": int(np.sum(difference == 0)),
        "wins_b": int(np.sum(difference > 0)),
        "median_difference": float(np.median(difference)) if len(difference) else math.nan,
        "statistic": statistic,
        "p": p_value,
        "p_less": p_less,
        "p_equivalence": equivalence_p(difference, margin=margin),
    }


def equivalence_p(differences: Sequence[float], *, margin: float = EQUIVALENCE_MARGIN) -> float:
    """Wilcoxon TOST: the larger p of the one-sided signed-rank tests of ``d + margin > 0``
    (rejects a location at or below ``-margin``) and ``d - margin < 0`` (rejects one at or
    above ``+margin``); the location is that of the signed-rank test (the pseudo-median of
    the differences). Equivalent within the margin where it is below the significance level."""
    d = np.asarray(differences, dtype=float)
    if not len(d):
        return math.nan
    lower = d + margin
    upper = d - margin
    p_lower = _signed_rank(lower, "greater")[1] if np.any(lower != 0) else 1.0
    p_upper = _signed_rank(upper, "less")[1] if np.any(upper != 0) else 1.0
    return float(max(p_lower, p_upper))


def _signed_rank(differences: np.ndarray, alternative: str) -> tuple[float, float]:
    from scipy import stats

    result = stats.wilcoxon(differences, zero_method="wilcox", alternative=alternative)
    return float(result.statistic), float(result.pvalue)


def iman_davenport(chi2: float, n_blocks: int, n_treatments: int) -> tuple[float, float]:
    """The Iman-Davenport F of a Friedman chi2 over ``n_blocks`` problems and
    ``n_treatments`` optimizers, ``(N - 1) chi2 / (N (k - 1) - chi2)``, and its p-value
    with ``k - 1`` and ``(k - 1)(N - 1)`` degrees of freedom (less conservative than the
    chi2 approximation; Demsar, 2006)."""
    from scipy import stats

    n, k = n_blocks, n_treatments
    if not math.isfinite(chi2) or n < 2 or k < 2:
        return math.nan, math.nan
    denominator = n * (k - 1) - chi2
    if denominator <= 0:  # every problem ranks the optimizers alike
        return math.inf, 0.0
    statistic = (n - 1) * chi2 / denominator
    return float(statistic), float(stats.f.sf(statistic, k - 1, (k - 1) * (n - 1)))


@dataclass
class RankTest:
    """Ranks and tests of one comparison set (problems run by the same optimizers) at one budget."""

    label: str
    budget: float
    problems: list[str]
    mean_ranks: pd.Series  # optimizer -> mean rank (1 = best)
    block_scores: pd.DataFrame  # problems x optimizers: mean normalized regret over seeds
    friedman_statistic: float
    friedman_p: float
    # a, b, wins_a, ties, wins_b, median_difference, statistic, p, p_holm, p_equivalence,
    # p_equivalence_holm
    pairwise: pd.DataFrame
    iman_davenport_statistic: float = math.nan
    iman_davenport_p: float = math.nan
    margin: float = EQUIVALENCE_MARGIN  # of the equivalence tests in ``pairwise``


def comparison_sets(budget_frame: pd.DataFrame) -> dict[str, list[str]]:
    """Problems grouped by the set of optimizers that have finished runs on them, so that
    ranks compare complete blocks (single-objective and multi-objective problems, say)."""
    sets: dict[tuple, list[str]] = {}
    scored = budget_frame.dropna(subset=["normalized_regret"])
    for problem, rows in scored.groupby("problem", sort=False):
        sets.setdefault(tuple(sorted(rows["optimizer"].unique())), []).append(problem)
    labelled = {}
    for optimizers, problems in sets.items():
        kind = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}, {len(optimizers)} optimizers"
        labelled[kind + f" ({', '.join(optimizers)})"] = problems
    return labelled


def rank_tests(budget_frame: pd.DataFrame, *, margin: float = EQUIVALENCE_MARGIN) -> list[RankTest]:
    """Ranks, Friedman (with Iman-Davenport) and pairwise Wilcoxon/Holm with the equivalence
    tests within ``margin`` for every comparison set and budget; the problem is the unit
    (its mean over seeds)."""
    from scipy import stats

    results = []
    for label, problems in comparison_sets(budget_frame).items():
        subset = budget_frame[budget_frame["problem"].isin(problems)]
        for fraction, rows in subset.groupby("budget", sort=True):
            blocks = rows.pivot_table(
                index="problem", columns="optimizer", values="normalized_regret", aggfunc="mean"
            ).dropna()
            if blocks.shape[1] < 2 or blocks.empty:
                continue
            ranks = blocks.rank(axis=1, method="average")
            statistic = p_value = math.nan
            if blocks.shape[1] >= 3 and blocks.shape[0] >= 2:
                statistic, p_value = stats.friedmanchisquare(*[blocks[c].to_numpy() for c in blocks.columns])
            f_statistic, f_p = iman_davenport(float(statistic), *blocks.shape)
            results.append(
                RankTest(
                    label=label,
                    budget=float(fraction),
                    problems=list(blocks.index),
                    mean_ranks=ranks.mean().sort_values(),
                    block_scores=blocks,
                    friedman_statistic=float(statistic),
                    friedman_p=float(p_value),
                    pairwise=_pairwise_wilcoxon(blocks, margin),
                    iman_davenport_statistic=f_statistic,
                    iman_davenport_p=f_p,
                    margin=margin,
                )
            )
    return results


def _pairwise_wilcoxon(blocks: pd.DataFrame, margin: float) -> pd.DataFrame:
    rows = []
    names = list(blocks.columns)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            result = paired_test(blocks[a], blocks[b], margin=margin)
            del result["p_less"]
            rows.append({"a": a, "b": b, **result})
    columns = ["a", "b", "wins_a", "ties", "wins_b", "median_difference", "statistic", "p", "p_equivalence"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.insert(len(columns) - 1, "p_holm", holm(frame["p"].to_numpy()) if len(frame) else [])
    frame["p_equivalence_holm"] = holm(frame["p_equivalence"].to_numpy()) if len(frame) else []
    return frame


def cd_groups(test: RankTest, alpha: float = SIGNIFICANCE) -> list[list[str]]:
    """The critical-difference groups of a rank test: maximal runs of optimizers adjacent in
    mean rank whose every pair has a Holm-corrected Wilcoxon p of at least ``alpha`` (not
    significantly different), best first; an optimizer different from both neighbours is in
    no group. These are the bars of the critical-difference figure."""
    names = list(test.mean_ranks.sort_values(kind="stable").index)
    different = {
        frozenset((a, b))
        for a, b, p in test.pairwise[["a", "b", "p_holm"]].itertuples(index=False)
        if p < alpha  # NaN (no test) is not a difference
    }
    spans: list[tuple[int, int]] = []
    for start in range(len(names)):
        end = start
        while end + 1 < len(names) and all(
            frozenset((names[m], names[end + 1])) not in different for m in range(start, end + 1)
        ):
            end += 1
        if end > start and not any(s <= start and end <= e for s, e in spans):
            spans.append((start, end))
    return [names[s : e + 1] for s, e in spans]


# -- overhead, test scores, hypervolume ------------------------------------------------------


def overhead(trials: pd.DataFrame) -> pd.DataFrame:
    """Per optimizer and problem group: mean seconds per trial in the optimizer and in the
    objective, and the optimizer's share of the total."""
    if trials.empty:
        return pd.DataFrame(columns=["optimizer", "group", "optimizer_seconds", "objective_seconds", "optimizer_share"])
    table = trials.groupby(["optimizer", "group"], sort=True)[["optimizer_seconds", "objective_seconds"]].mean()
    table["optimizer_share"] = table["optimizer_seconds"] / (table["optimizer_seconds"] + table["objective_seconds"])
    return table.reset_index()


def final_hypervolumes(records: Sequence[dict]) -> pd.DataFrame:
    """Multi-objective runs: hypervolume of all points of the run, with the reference point
    and the known front's hypervolume where there is one."""
    rows = []
    for record in _ok(records):
        if len(record["directions"]) > 1:
            rows.append(
                {
                    "problem": record["problem"],
                    "optimizer": record["optimizer"],
                    "seed": record["seed"],
                    "hypervolume": hypervolume(_losses(record), record["reference_point"]),
                    "optimal_hypervolume": record.get("optimal_hypervolume"),
                }
            )
    return pd.DataFrame(rows, columns=["problem", "optimizer", "seed", "hypervolume", "optimal_hypervolume"])
