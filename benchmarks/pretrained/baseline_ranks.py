"""Ranks of the pre-trained tuner and its ablations against the five baselines alone.

``python -m benchmarks.pretrained.baseline_ranks [--results benchmarks/results/heldout]``

The held-out report ranks all 9 optimizers of the ``heldout`` suite together, so the three
ablations (which share the pre-trained tuner's search) take rank places from the baselines
too. This script re-ranks one entry at a time against the five baselines only, from the
report's ``budgets.csv`` (the same normalized regrets), with the report's own tests: mean
rank at 25, 50 and 100% of the budget, Friedman's test, and Wilcoxon signed-rank tests with
Holm's correction for the entry against each baseline.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

BASELINES = ("random", "tpe", "cmaes", "gp", "sac-hmr")
ENTRIES = ("sac-hmr-pretrained", "sac-pretrained", "sac-hmr-pretrained-frozen", "sac-hmr-scratch")
BUDGETS = (0.25, 0.5, 1.0)


def main(argv=None) -> None:
    from benchmarks import metrics
    from benchmarks.report import focus_comparisons

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="benchmarks/results/heldout", help="a heldout results folder")
    args = parser.parse_args(argv)
    budgets = pd.read_csv(Path(args.results) / "budgets.csv")
    for entry in ENTRIES:
        subset = budgets[budgets["optimizer"].isin((entry, *BASELINES))]
        tests = [test for test in metrics.rank_tests(subset) if test.budget in BUDGETS]
        print(f"\n{entry} against {', '.join(BASELINES)} ({len(tests[0].problems)} problems)")
        print(f"{'optimizer':20s} " + " ".join(f"{f'{b:.0%}':>7s}" for b in BUDGETS))
        for optimizer in (entry, *BASELINES):
            print(f"{optimizer:20s} " + " ".join(f"{test.mean_ranks[optimizer]:7.2f}" for test in tests))
        print(
            f"{'Friedman chi2 (p)':20s} "
            + " ".join(f"{test.friedman_statistic:.1f} ({test.friedman_p:.2g})" for test in tests)
        )
        for row in focus_comparisons(tests, entry).to_dict("records"):
            print(
                f"  {row['budget']} vs {row['versus']}: {row['wins/ties/losses']}, "
                f"p_holm {row['p_holm']:.3g} ({row['verdict']})"
            )


if __name__ == "__main__":
    main()
