"""``benchmarks.metrics``: normalized regret, hypervolume regret, Holm's adjustment, ranks,
Friedman (with Iman-Davenport) and pairwise Wilcoxon tests, the critical-difference groups and
the equivalence test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks import metrics
from benchmarks.report import focus_comparisons


def record(problem, optimizer, seed, values, *, direction="minimize", optimum=None, states=None):
    """A run record as ``benchmarks.runner.run_job`` writes it (single objective)."""
    states = states or ["COMPLETE"] * len(values)
    return {
        "problem": problem,
        "group": "g",
        "optimizer": optimizer,
        "seed": seed,
        "n_trials": len(values),
        "status": "ok",
        "error": None,
        "directions": [direction],
        "instance": None,
        "optimum": optimum,
        "reference_point": None,
        "optimal_hypervolume": None,
        "trials": [
            {
                "number": i,
                "state": s,
                "values": [v] if s == "COMPLETE" else None,
                "params": {},
                "objective_seconds": 0.5,
                "optimizer_seconds": 0.1,
                "error": None,
            }
            for i, (v, s) in enumerate(zip(values, states))
        ],
    }


def _budget_frame(scores: dict[str, list[float]], budget=1.0) -> pd.DataFrame:
    rows = []
    for optimizer, values in scores.items():
        for i, value in enumerate(values):
            rows.append(
                {
                    "problem": f"p{i}",
                    "group": "g",
                    "optimizer": optimizer,
                    "seed": 0,
                    "budget": budget,
                    "normalized_regret": value,
                }
            )
    return pd.DataFrame(rows)


def test_normalized_regret_is_zero_at_the_optimum_and_one_at_random_search():
    records = [
        # random search ends with regrets 2 and 4: the scale is 3
        record("p", "random", 0, values=[9.0, 5.0, 2.0, 3.0], optimum=0.0),
        record("p", "random", 1, values=[8.0, 4.0, 6.0, 7.0], optimum=0.0),
        # the other optimizer fails its first and last trials and reaches regret 1.5
        record(
            "p",
            "other",
            0,
            values=[np.nan, 6.0, 1.5, np.nan],
            optimum=0.0,
            states=["FAIL", "COMPLETE", "COMPLETE", "FAIL"],
        ),
    ]
    curves = metrics.compute_curves(records)
    assert curves.normalization.set_index("problem").loc["p", "random_final_regret"] == pytest.approx(3.0)
    other = curves.curves[curves.curves["optimizer"] == "other"].set_index("trial")
    assert np.isnan(other.loc[1, "normalized_regret"])  # nothing succeeded yet
    assert other.loc[2, "normalized_regret"] == pytest.approx(2.0)
    assert other.loc[4, "normalized_regret"] == pytest.approx(0.5)

    budgets = metrics.at_budgets(curves.curves).set_index(["optimizer", "seed", "budget"])
    assert budgets.loc[("other", 0, 0.5), "normalized_regret"] == pytest.approx(2.0)  # trial 2 of 4
    assert budgets.loc[("other", 0, 1.0), "normalized_regret"] == pytest.approx(0.5)
    finals = budgets.xs(1.0, level="budget").xs("random", level="optimizer")["normalized_regret"]
    assert finals.mean() == pytest.approx(1.0)

    # AUC: clipped to [0, 1], a trial before the first success counts as 1.
    auc = metrics.auc(curves.curves).set_index("optimizer")
    assert auc.loc["other", "auc"] == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)


def test_maximized_problem_without_known_optimum_uses_the_best_value_found():
    records = [
        record("acc", "random", 0, values=[0.5, 0.7], direction="maximize"),
        record("acc", "tpe", 0, values=[0.6, 0.9], direction="maximize"),
    ]
    curves = metrics.compute_curves(records).curves
    final = curves[curves["trial"] == 2].set_index("optimizer")
    assert final.loc["tpe", "best_so_far"] == pytest.approx(0.9)  # in the problem's own terms
    assert final.loc["tpe", "regret"] == pytest.approx(0.0)
    assert final.loc["random", "regret"] == pytest.approx(0.2)
    assert final.loc["random", "normalized_regret"] == pytest.approx(1.0)


def test_problem_solved_by_random_search_is_not_normalized():
    records = [
        record("easy", "random", 0, values=[0.0], optimum=0.0),
        record("easy", "tpe", 0, values=[1.0], optimum=0.0),
    ]
    curves = metrics.compute_curves(records)
    assert "random search reached the best known value" in curves.normalization["note"].iloc[0]
    assert curves.curves["normalized_regret"].isna().all()


def test_hypervolume_counts_only_points_inside_the_reference_box():
    assert metrics.hypervolume(np.array([[0.0, 0.0]]), [1.0, 1.0]) == pytest.approx(1.0)
    assert metrics.hypervolume(np.array([[0.5, 0.0], [0.0, 0.5], [2.0, -5.0]]), [1.0, 1.0]) == pytest.approx(0.75)
    assert metrics.hypervolume(np.array([[np.nan, 0.0]]), [1.0, 1.0]) == 0.0


def test_multi_objective_regret_is_the_hypervolume_gap_to_the_known_front():
    def mo_record(optimizer, points):
        return {
            "problem": "mo",
            "group": "g",
            "optimizer": optimizer,
            "seed": 0,
            "n_trials": len(points),
            "status": "ok",
            "directions": ["minimize", "minimize"],
            "instance": None,
            "optimum": None,
            "reference_point": [1.0, 1.0],
            "optimal_hypervolume": 1.0,
            "trials": [
                {
                    "number": i,
                    "state": "COMPLETE",
                    "values": list(p),
                    "params": {},
                    "objective_seconds": 0.0,
                    "optimizer_seconds": 0.0,
                }
                for i, p in enumerate(points)
            ],
        }

    curves = metrics.compute_curves(
        [
            mo_record("random", [(0.5, 0.5), (0.9, 0.9)]),  # hypervolume 0.25 throughout
            mo_record("nsga2", [(2.0, 2.0), (0.5, 0.0)]),  # outside the box, then 0.5
        ]
    ).curves.set_index(["optimizer", "trial"])
    assert curves.loc[("random", 2), "regret"] == pytest.approx(0.75)
    assert curves.loc[("random", 2), "best_so_far"] == pytest.approx(0.25)  # the hypervolume
    assert curves.loc[("nsga2", 1), "regret"] == pytest.approx(1.0)
    assert curves.loc[("nsga2", 2), "normalized_regret"] == pytest.approx(0.5 / 0.75)


def test_holm_adjustment_matches_the_textbook_example():
    # p = (0.01, 0.04, 0.03) with m = 3: sorted 0.01*3, 0.03*2, max(0.06, 0.04*1)
    assert metrics.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    adjusted = metrics.holm([0.5, np.nan])
    assert adjusted[0] == pytest.approx(0.5) and np.isnan(adjusted[1])


def test_ranks_friedman_and_pairwise_wilcoxon_with_holm():
    frame = _budget_frame(
        {
            "best": [0.1, 0.2, 0.1, 0.3, 0.2, 0.1, 0.2, 0.1],
            "middle": [0.5, 0.6, 0.4, 0.5, 0.7, 0.5, 0.6, 0.4],
            "worst": [1.0, 1.1, 0.9, 1.2, 1.0, 0.8, 1.3, 1.0],
        }
    )
    (test,) = metrics.rank_tests(frame)
    assert test.mean_ranks.to_dict() == {"best": 1.0, "middle": 2.0, "worst": 3.0}
    assert test.friedman_statistic == pytest.approx(16.0)  # 12/(n k (k+1)) sum R^2 - 3 n (k+1)
    assert test.friedman_p < 0.001
    pair = test.pairwise.set_index(["a", "b"]).loc[("best", "worst")]
    assert (pair["wins_a"], pair["ties"], pair["wins_b"]) == (8, 0, 0)
    assert pair["p"] == pytest.approx(2 / 2**8)  # exact two-sided: all 8 differences negative
    assert pair["p_holm"] == pytest.approx(3 * 2 / 2**8)

    table = focus_comparisons([test], "middle").set_index("versus")
    assert table.loc["best", "verdict"] == "middle worse"
    assert table.loc["worst", "verdict"] == "middle better"
    assert table.loc["worst", "wins/ties/losses"] == "8/0/0"


def test_no_significant_difference_when_optimizers_trade_wins():
    frame = _budget_frame({"a": [0.1, 0.9, 0.2, 0.8], "b": [0.9, 0.1, 0.8, 0.2]})
    (test,) = metrics.rank_tests(frame)
    assert np.isnan(test.friedman_p)  # Friedman needs three optimizers
    assert focus_comparisons([test], "a")["verdict"].tolist() == ["inconclusive"]  # nor equivalent within 0.05


def test_iman_davenport_f_from_the_friedman_chi2():
    from scipy import stats

    # (N - 1) chi2 / (N (k - 1) - chi2) = 9 * 10 / (30 - 10), with 3 and 27 degrees of freedom
    statistic, p_value = metrics.iman_davenport(10.0, 10, 4)
    assert statistic == pytest.approx(4.5)
    assert p_value == pytest.approx(stats.f.sf(4.5, 3, 27))
    # Every problem ranks the optimizers alike: chi2 = N (k - 1), F is infinite.
    assert metrics.iman_davenport(16.0, 8, 3) == (np.inf, 0.0)
    (test,) = metrics.rank_tests(_budget_frame({"a": [0.1, 0.4, 0.2], "b": [0.3, 0.2, 0.5], "c": [0.9, 0.8, 0.7]}))
    assert (test.iman_davenport_statistic, test.iman_davenport_p) == pytest.approx(
        metrics.iman_davenport(test.friedman_statistic, 3, 3)
    )


def test_cd_groups_join_the_tied_optimizers_and_leave_the_clear_winner_alone():
    rng = np.random.default_rng(0)
    b = rng.uniform(0.4, 0.6, 12)
    # c trades small wins and losses with b; a is far ahead of both on all 12 problems.
    c = b + np.array([1, -1] * 6) * np.linspace(0.01, 0.02, 12)
    a = rng.uniform(0.0, 0.1, 12)
    (test,) = metrics.rank_tests(_budget_frame({"a": a, "b": b, "c": c}))
    assert test.mean_ranks.index[0] == "a"
    pairs = test.pairwise.set_index(["a", "b"])
    assert pairs.loc[("a", "b"), "p_holm"] < 0.05 and pairs.loc[("a", "c"), "p_holm"] < 0.05
    assert pairs.loc[("b", "c"), "p_holm"] >= 0.05
    assert [set(group) for group in metrics.cd_groups(test)] == [{"b", "c"}]
    # With no significant pair every optimizer is in one group; a group inside another is not repeated.
    few = metrics.rank_tests(_budget_frame({"a": a[:3], "b": b[:3], "c": c[:3]}))[0]
    assert [set(group) for group in metrics.cd_groups(few)] == [{"a", "b", "c"}]


def test_equivalence_test_within_the_margin():
    from scipy import stats

    rng = np.random.default_rng(1)
    small = rng.uniform(-0.02, 0.02, 12)  # distinct, every |d| below the margin 0.05
    # Both one-sided tests see 12 differences of one sign and distinct sizes: exact p = 2^-12 each.
    assert metrics.equivalence_p(small, margin=0.05) == pytest.approx(2.0**-12)
    shifted = small + 0.2
    assert metrics.equivalence_p(shifted, margin=0.05) > 0.5
    mixed = rng.normal(0.03, 0.04, 12)
    by_hand = max(
        stats.wilcoxon(mixed + 0.05, alternative="greater").pvalue,
        stats.wilcoxon(mixed - 0.05, alternative="less").pvalue,
    )
    assert metrics.equivalence_p(mixed, margin=0.05) == pytest.approx(by_hand)
    # Identical results are equivalent at any margin; the margin is a parameter.
    assert metrics.equivalence_p(np.zeros(12), margin=0.05) < 1e-3
    assert metrics.equivalence_p(small, margin=0.001) > 0.05

    base = rng.uniform(0.3, 0.7, 12)
    frame = _budget_frame({"x": base, "same": base + small, "worse": base + 0.2 + small})
    (test,) = metrics.rank_tests(frame)
    pairs = test.pairwise.set_index(["a", "b"])
    assert pairs.loc[("same", "x"), "p_equivalence"] == pytest.approx(2.0**-12)
    assert pairs.loc[("same", "x"), "p_equivalence_holm"] < 0.05  # Holm over the 3 pairs
    assert pairs.loc[("worse", "x"), "p_equivalence_holm"] == pytest.approx(1.0)
    assert metrics.paired_test(base, base + 0.2, margin=0.05)["p_less"] == pytest.approx(2.0**-12)
