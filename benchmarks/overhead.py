"""Seconds per suggestion of the optimizers, by number of trials and dimension, in one process.

``python -m benchmarks.overhead [--dims 2 5 10 20] [--marks 10 50 100 200] [--repeats 2]
[--optimizers tpe gp gp-search sac-hmr-pretrained] [--out DIR]``

For each dimension, each optimizer runs ``max(--marks)`` trials of the Rosenbrock function on
``[-5, 5]^d`` (a cheap objective, any dimension) and every ``study.ask`` is timed: all the
sampler does to propose a trial, the model fit and an agent's fine-tuning included. A mark's figure is the mean over the
``--window`` suggestions up to that trial (trials 6-10 for mark 10) and over ``--repeats``
seeds. Optimizers run interleaved, repeat by repeat, so machine load hits them alike. Prints
one table per dimension with the ratio to TPE; with ``--out``, writes ``overhead.csv`` (one
row per dimension, mark, optimizer and repeat) and ``report.md`` (the tables and the
command).
"""

from __future__ import annotations

import argparse
import csv
import io
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

OPTIMIZERS = ("tpe", "gp", "gp-search", "sac-hmr-pretrained")
DIMS = (2, 5, 10, 20)
MARKS = (10, 50, 100, 200)


def time_suggestions(optimizer: str, space, objective, *, trials: int, seed: int) -> list[float]:
    """Seconds of each of ``trials`` suggestions (``study.ask``) of ``optimizer`` on ``space``,
    each told ``objective(params)``."""
    import optuna

    from hpo.optimizers import make_sampler

    study = optuna.create_study(sampler=make_sampler(optimizer, seed=seed, n_trials=trials))
    seconds = []
    for _ in range(trials):
        start = time.perf_counter()
        trial = study.ask(space)
        seconds.append(time.perf_counter() - start)
        study.tell(trial, objective(trial.params))
    return seconds


def rosenbrock(dim: int):
    """The search space and objective of the Rosenbrock function in ``dim`` dimensions."""
    from optuna.distributions import FloatDistribution

    names = [f"x{i}" for i in range(dim)]

    def objective(params) -> float:
        x = np.array([params[name] for name in names])
        return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))

    return {name: FloatDistribution(-5.0, 5.0) for name in names}, objective


def measure(optimizers, dims, marks, *, repeats: int, window: int, progress=print) -> list[dict]:
    rows = []
    for dim in dims:
        for repeat in range(repeats):
            for optimizer in optimizers:
                space, objective = rosenbrock(dim)
                seconds = time_suggestions(optimizer, space, objective, trials=max(marks), seed=repeat)
                for mark in marks:
                    part = seconds[max(mark - window, 0) : mark]
                    rows.append(
                        dict(dim=dim, mark=mark, optimizer=optimizer, repeat=repeat, seconds=float(np.mean(part)))
                    )
                progress(f"d={dim} repeat {repeat} {optimizer}: {sum(seconds):.1f} s for {max(marks)} suggestions")
    return rows


def tables(rows: list[dict], optimizers, dims, *, marks) -> str:
    """Markdown tables, one per dimension: ms per suggestion (ratio to TPE)."""
    out = io.StringIO()
    for dim in dims:
        out.write(f"\n{dim} dimensions: ms per suggestion (ratio to tpe)\n\n")
        out.write("| trials | " + " | ".join(optimizers) + " |\n|---|" + "---|" * len(optimizers) + "\n")
        for mark in marks:
            ms = {
                o: 1e3
                * np.mean([r["seconds"] for r in rows if (r["dim"], r["mark"], r["optimizer"]) == (dim, mark, o)])
                for o in optimizers
            }
            cells = [
                f"{ms[o]:.1f}" + (f" ({ms[o] / ms['tpe']:.1f}x)" if "tpe" in ms and o != "tpe" else "")
                for o in optimizers
            ]
            out.write(f"| {mark} | " + " | ".join(cells) + " |\n")
    return out.getvalue()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=list(DIMS))
    parser.add_argument("--marks", type=int, nargs="+", default=list(MARKS), help="trial counts to report")
    parser.add_argument("--window", type=int, default=5, help="suggestions averaged up to each mark")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS))
    parser.add_argument("--out", type=Path, help="write overhead.csv and report.md here")
    args = parser.parse_args(argv)
    if min(args.marks) < 1 or min(args.dims) < 2 or args.repeats < 1 or args.window < 1:
        parser.error("--marks, --window and --repeats must be >= 1, --dims >= 2")

    import optuna

    from hpo.io import atomic_write_text
    from hpo.threads import limit_threads

    limit_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore")
    rows = measure(args.optimizers, args.dims, sorted(args.marks), repeats=args.repeats, window=args.window)
    text = tables(rows, args.optimizers, args.dims, marks=sorted(args.marks))
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(args.out / "overhead.csv", buffer.getvalue())
        command = "python -m benchmarks.overhead " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
        header = (
            "# Seconds per suggestion\n\n"
            f"Produced by: `{command}`\n\n"
            f"Mean over the {args.window} suggestions up to each trial count and {args.repeats} seeds, "
            "Rosenbrock on [-5, 5]^d, one process, one thread (benchmarks/overhead.py).\n"
        )
        atomic_write_text(args.out / "report.md", header + text)


if __name__ == "__main__":
    main()
