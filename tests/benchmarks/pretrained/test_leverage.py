"""``benchmarks.pretrained.leverage``: the oracle is scored on runs it did not choose with."""

from __future__ import annotations

import pytest


def test_leverage_oracle_is_scored_on_runs_it_did_not_choose_with():
    import pandas as pd

    from benchmarks.pretrained.leverage import GRID, constant_name, summarize

    lucky, steady = constant_name(GRID[0]), constant_name(GRID[1])
    rows = []
    for function in range(2):
        for seed in range(4):
            for entry in ["uniform", "agent", "gp", "tpe"] + [constant_name(a) for a in GRID]:
                regret = 0.5
                if entry == lucky:  # best of all on the first two runs, worst on the last two
                    regret = 0.0 if seed < 2 else 1.0
                elif entry == steady:
                    regret = 0.2
                rows.append({"entry": entry, "function": function, "seed": seed, "regret_25": regret})
    summary = summarize(pd.DataFrame(rows), 25)
    # chosen on runs 0-1 it scores 1.0 on runs 2-3; chosen on runs 2-3 (steady) it scores 0.2
    assert summary.loc["oracle", "mean regret"] == pytest.approx(0.6)
    assert summary.attrs["best constants"] == [lucky, steady]
    assert summary.loc["uniform", "mean regret"] == pytest.approx(0.5)
    # ranks among the six entries: 5.5 (last two of six, tied) on one split, 1.5 on the other
    assert summary.loc["oracle", "mean rank"] == pytest.approx(3.5)
