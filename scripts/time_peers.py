"""Seconds per 60-trial run of each peer optimizer (and Optuna's GP and TPE for scale) on a
4-D BBOB function (f08, Rosenbrock, instance 1), one seed each:
``python scripts/time_peers.py [OPTIMIZER ...]``."""

from __future__ import annotations

import sys
import time

import ioh
from optuna.distributions import FloatDistribution

import hpo

PEERS = ("ngopt", "smac", "syne-tune-bo", "hebo")
N_TRIALS = 60


def main(names: list[str]) -> None:
    f = ioh.get_problem(8, instance=1, dimension=4)
    space = {f"x{i}": FloatDistribution(-5.0, 5.0) for i in range(4)}

    def objective(params):
        return float(f([params[f"x{i}"] for i in range(4)]))

    print(f"{'optimizer':<14} {'seconds':>8} {'best - optimum':>15}")
    for name in names or [*PEERS, "gp", "tpe"]:
        started = time.perf_counter()
        result = hpo.tune(objective, space, optimizer=name, n_trials=N_TRIALS, seed=0)
        seconds = time.perf_counter() - started
        print(f"{name:<14} {seconds:8.1f} {result.best_value - f.optimum.y:15.4g}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
