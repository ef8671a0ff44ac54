"""How long ``timeout=`` takes to stop a run with a huge budget on SQLite, against plain Optuna.

    python -m benchmarks.reliability.timeout --timeout 2 --n-trials 100000

Each run uses a new SQLite file in a temporary folder (schema creation included, as for a
user's first run), a random sampler and an objective that returns at once. Printed per run:
the seconds the call took, the trials in the study by state. A run should end within the
timeout plus one trial and the storage's setup, with no WAITING trial left.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path


def run_hpo(url: str, n_trials: int, timeout: float) -> tuple[float, Counter]:
    from optuna.distributions import FloatDistribution

    from hpo.tuning import tune

    start = time.perf_counter()
    result = tune(
        lambda p: p["x"],
        {"x": FloatDistribution(0, 1)},
        n_trials=n_trials,
        timeout=timeout,
        optimizer="random",
        seed=0,
        storage=url,
        study_name="timeout",
    )
    return time.perf_counter() - start, Counter(t.state.name for t in result.study.trials)


def run_optuna(url: str, n_trials: int, timeout: float) -> tuple[float, Counter]:
    import optuna

    start = time.perf_counter()
    study = optuna.create_study(storage=url, study_name="timeout", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=n_trials, timeout=timeout)
    return time.perf_counter() - start, Counter(t.state.name for t in study.trials)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds given to each run (default: 2)")
    parser.add_argument("--n-trials", type=int, default=100_000, help="the budget of each run (default: 100000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each tool (default: 3)")
    args = parser.parse_args(argv)

    import optuna

    import hpo.tuning  # noqa: F401  (imported before the clocks start)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            for name, run in (("hpo.tune", run_hpo), ("optuna", run_optuna)):
                url = f"sqlite:///{Path(folder) / f'{name}-{repeat}.db'}"
                seconds, states = run(url, args.n_trials, args.timeout)
                counts = ", ".join(f"{state} {count}" for state, count in sorted(states.items()))
                print(f"{name:9s} timeout {args.timeout:g} s, n_trials {args.n_trials}: {seconds:.2f} s; {counts}")


if __name__ == "__main__":
    main()
