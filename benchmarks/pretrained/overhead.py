"""Suggestion overhead of the pre-trained agent against TPE, measured in one process.

``python -m benchmarks.pretrained.overhead [--trials 100] [--last 10] [--repeats 3]``

For each space (held-out BBOB f8 in 2 and 10 dimensions, and a 20-parameter mixed space)
and each optimizer, runs ``--trials`` trials with a cheap objective and times ``study.ask``
(everything the sampler does to propose a trial, fine-tuning included). Optimizers run
interleaved, repeat by repeat, so machine load hits them alike. Prints the mean seconds per
suggestion over the last ``--last`` trials and the ratio to TPE. The grid over dimensions and
trial counts is ``benchmarks.overhead``, whose timer this uses.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from benchmarks.overhead import time_suggestions

OPTIMIZERS = ("tpe", "gp", "sac-hmr", "sac-hmr-pretrained", "sac-hmr-pretrained-frozen")


def spaces():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    from benchmarks.problems import make_problem

    mixed = {}
    for i in range(20):
        kind = i % 4
        mixed[f"p{i}"] = (
            FloatDistribution(-1, 1)
            if kind == 0
            else FloatDistribution(1e-4, 1, log=True)
            if kind == 1
            else IntDistribution(1, 64)
            if kind == 2
            else CategoricalDistribution(["a", "b", "c"])
        )

    def mixed_objective(params):
        return sum(float(v) if not isinstance(v, str) else ord(v) / 100 for v in params.values())

    f8 = [make_problem(f"bbob-f08-d{d}", 0) for d in (2, 10)]
    return [(p.name, p.space, p.objective) for p in f8] + [("mixed-20d", mixed, mixed_objective)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--last", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS))
    args = parser.parse_args(argv)

    import optuna

    from hpo.threads import limit_threads

    limit_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore")
    print(f"mean ms per suggestion over trials {args.trials - args.last + 1}-{args.trials}, {args.repeats} repeats")
    print(f"{'space':14s} " + " ".join(f"{name:>26s}" for name in args.optimizers))
    for name, space, objective in spaces():
        means = {optimizer: [] for optimizer in args.optimizers}
        for repeat in range(args.repeats):
            for optimizer in args.optimizers:
                seconds = time_suggestions(optimizer, space, objective, trials=args.trials, seed=repeat)
                means[optimizer].append(np.mean(seconds[-args.last :]))
        ms = {optimizer: 1e3 * float(np.mean(values)) for optimizer, values in means.items()}
        cells = []
        for optimizer in args.optimizers:
            ratio = f" ({ms[optimizer] / ms['tpe']:.2f}x)" if "tpe" in ms else ""
            cells.append(f"{ms[optimizer]:.1f}{ratio}")
        print(f"{name:14s} " + " ".join(f"{cell:>26s}" for cell in cells))


if __name__ == "__main__":
    main()
