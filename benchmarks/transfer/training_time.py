"""How long ``sac-hmr-transfer`` meta-trains on ``n_sources`` source studies of
``SOURCE_TRIALS`` trials (HPOBench-NN: the 7 other datasets' studies of target kc1, repeated
with other TPE seeds up to ``n_sources``), with a progress bar; prints one JSON line.

    python -m benchmarks.transfer.training_time --out DIR  # DIR: the benchmark's, for its sources
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import optuna

from benchmarks.problems import table_key
from benchmarks.transfer.entries import make_entry
from benchmarks.transfer.targets import Target, source_frame, table
from hpo.transfer import DEFAULT_PORTFOLIO_SIZE, load_sources


def measure_training(out: str | Path, n_sources: int = 10, seed: int = 0) -> dict[str, float]:
    """The sources, their trials and the meta-training seconds of the first agent suggestion."""
    target = Target("hpobench", "kc1")
    space, means, _ = table(target.table)
    frames = [source_frame(Path(out), "hpobench", d) for d in target.others]
    frames = (frames * (n_sources // len(frames) + 1))[:n_sources]
    sources = load_sources(frames, space, "maximize", directions="maximize")
    sampler = make_entry("sac-hmr-transfer", sources, space, seed=seed, n_trials=100, direction="maximize")
    sampler.sampler.progress = True
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for _ in range(DEFAULT_PORTFOLIO_SIZE + 1):  # the first agent suggestion meta-trains
        trial = study.ask(space)
        study.tell(trial, means[table_key(space, trial.params)])
    return {
        "sources": len(sources),
        "trials": sum(len(s) for s in sources),
        "training_seconds": sampler.sampler.training_seconds,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.transfer.training_time", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", required=True, help="the transfer benchmark's folder (its source studies)")
    parser.add_argument("--sources", type=int, default=10, help="how many source studies [default: 10]")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(json.dumps(measure_training(args.out, args.sources)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
