"""The pruners' decision overhead, alone in one process: milliseconds per ``should_prune``
call (rung decisions and the free steps between them together) on one learning-curve table,
against 10 % of one epoch of that table's model (build seconds over configurations x
epochs, from the tables' manifest).

    python -m benchmarks.multi_fidelity.overhead [--table sgd-circles] [--seeds 10]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from benchmarks.multi_fidelity.curve_tables import DATA_DIR, MANIFEST
from benchmarks.multi_fidelity.run import OPTUNA_ENTRIES, SCHEDULER_ENTRIES, run
from benchmarks.multi_fidelity.suite import parse_table


def decision_ms(entry: str, table: str, seeds: int) -> float:
    model, dataset = parse_table(table)
    results = [run(entry, model=model, dataset=dataset, seed=seed) for seed in range(seeds)]
    return 1e3 * sum(r.decision_seconds for r in results) / max(1, sum(r.decisions for r in results))


def main(argv: Sequence[str] | None = None) -> None:
    import optuna

    from hpo.threads import limit_threads

    limit_threads()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="sgd-circles", help="MODEL-DATASET (default: the cheapest epoch)")
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args(argv)
    model, dataset = parse_table(args.table)
    built = json.loads((DATA_DIR / MANIFEST).read_text())[f"{model}/{dataset}"]
    epoch_ms = 1e3 * built["seconds"] / (built["configs"] * built["epochs"])
    print(f"{args.table}: one epoch {epoch_ms:.3g} ms, 10 % of it {epoch_ms / 10:.3g} ms")
    for entry in (*(e for e in OPTUNA_ENTRIES if e != "wilcoxon"), *SCHEDULER_ENTRIES):
        ms = decision_ms(entry, args.table, args.seeds)
        print(f"{entry:20s} {ms:.4f} ms a decision, {100 * ms / epoch_ms:.1f} % of an epoch")


if __name__ == "__main__":
    main()
