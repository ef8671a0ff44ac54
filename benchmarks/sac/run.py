"""Benchmark: sac-hmr, sac, random and tpe on the problems of ``problems.py``.

    python -m benchmarks.sac.run                       # the full grid, resumable
    python -m benchmarks.sac.run --summary             # only print the table of finished runs
    python -m benchmarks.sac.run --optimizers sac-hmr --variant g5 --option gradient_steps=5

Every run (problem, optimizer, seed) is written to its own JSON file as soon as it ends, so
an interrupted benchmark resumes where it stopped. Seeds are the outer loop, so a partial
benchmark covers every problem and optimizer with fewer seeds. The table gives, per
problem and optimizer, the median over seeds of the best value after 25, 50 and 100 trials,
and the median over seeds of the time ``study.ask`` took (the sampler's suggestion) averaged
over trials 46-50 and 96-100, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

from hpo.io import atomic_write_text

DEFAULT_OPTIMIZERS = ("sac-hmr", "sac", "random", "tpe")
RESULTS = Path(__file__).parent / "results" / "runs"
CHECKPOINTS = (25, 50, 100)


def _parse_option(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--option wants key=value, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


def make_sampler(optimizer: str, seed: int, options: dict):
    import hpo

    if options:
        if optimizer not in ("sac", "sac-hmr"):
            raise SystemExit(f"--option applies to sac and sac-hmr only, not {optimizer!r}")
        return hpo.SACHMRSampler(seed=seed, hmr=optimizer == "sac-hmr", **options)
    return hpo.make_sampler(optimizer, seed=seed)


def run_one(problem, optimizer: str, seed: int, n_trials: int, options: dict) -> dict:
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction=problem.direction, sampler=make_sampler(optimizer, seed, options))
    maximize = problem.direction == "maximize"
    best, curve, ask_ms, failures = None, [], [], 0
    started = time.perf_counter()
    for _ in range(n_trials):
        tick = time.perf_counter()
        trial = study.ask(fixed_distributions=dict(problem.space))
        ask_ms.append(1000.0 * (time.perf_counter() - tick))
        try:
            value = float(problem.objective(dict(trial.params)))
            if not math.isfinite(value):
                raise ValueError(f"objective returned {value}")
        except Exception as err:  # counted, recorded as FAIL, the run goes on
            trial.set_user_attr("error", f"{type(err).__name__}: {err}")
            study.tell(trial, state=TrialState.FAIL)
            failures += 1
            curve.append(best)
            continue
        study.tell(trial, value)
        if best is None or (value > best if maximize else value < best):
            best = value
        curve.append(best)
    return {
        "problem": problem.name,
        "optimizer": optimizer,
        "seed": seed,
        "n_trials": n_trials,
        "best_curve": curve,
        "ask_ms": ask_ms,
        "failures": failures,
        "seconds": time.perf_counter() - started,
    }


def run_path(results: Path, problem: str, label: str, seed: int) -> Path:
    return results / f"{problem}__{label}__seed{seed}.json"


def load_runs(results: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(results.glob("*.json"))]


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def summarize(runs: list[dict], labels: list[str], problems: list[str]) -> str:
    from benchmarks.sac.problems import PROBLEMS

    lines = [
        "| problem | optimizer | seeds | best@25 | best@50 | best@100 | ms/ask @50 | ms/ask @100 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    medians: dict[tuple[str, str], float] = {}
    for problem in problems:
        for label in labels:
            chosen = [r for r in runs if r["problem"] == problem and r["label"] == label]
            if not chosen:
                continue
            cells = []
            for k in CHECKPOINTS:
                cells.append(_median([r["best_curve"][k - 1] for r in chosen if len(r["best_curve"]) >= k]))
            medians[(problem, label)] = cells[-1]
            timing = [
                _median([statistics.fmean(r["ask_ms"][k - 5 : k]) for r in chosen if len(r["ask_ms"]) >= k])
                for k in (50, 100)
            ]
            lines.append(
                f"| {problem} | {label} | {len(chosen)} | "
                + " | ".join(f"{c:.5g}" for c in cells)
                + f" | {timing[0]:.1f} | {timing[1]:.1f} |"
            )
    lines.append("")
    # Head-to-head counts on the median best@100: each optimizer against random, and the
    # first optimizer (sac-hmr by default) against each other one.
    pairs = [(label, "random") for label in labels if label != "random"]
    pairs += [(labels[0], other) for other in labels[1:] if other != "random"]
    for mine_label, other_label in pairs:
        wins, compared = 0, 0
        for problem in problems:
            mine, other = medians.get((problem, mine_label)), medians.get((problem, other_label))
            if mine is None or other is None:
                continue
            compared += 1
            maximize = PROBLEMS[problem].direction == "maximize"
            wins += (mine > other) if maximize else (mine < other)
        if compared:
            lines.append(f"{mine_label}: median best@100 better than {other_label} on {wins}/{compared} problems")
    return "\n".join(lines)


def main(argv=None) -> int:
    from benchmarks.sac.problems import PROBLEMS

    parser = argparse.ArgumentParser(prog="python -m benchmarks.sac.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--optimizers", default=",".join(DEFAULT_OPTIMIZERS))
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--variant", default="", help="suffix of the label of runs with --option")
    parser.add_argument("--option", type=_parse_option, action="append", default=[], help="sampler option key=value")
    parser.add_argument("--summary", action="store_true", help="print the table of finished runs and exit")
    args = parser.parse_args(argv)

    optimizers = [name for name in args.optimizers.split(",") if name]
    problems = [name for name in args.problems.split(",") if name]
    unknown = [name for name in problems if name not in PROBLEMS]
    if unknown:
        parser.error(f"--problems: unknown {unknown}; allowed: {', '.join(PROBLEMS)}")
    options = dict(args.option)
    if options and not args.variant:
        parser.error("--option needs --variant NAME, so that its runs are stored apart")
    labels = [f"{name}[{args.variant}]" if args.variant else name for name in optimizers]

    if not args.summary:
        from hpo.threads import limit_threads

        limit_threads(1)
        args.results.mkdir(parents=True, exist_ok=True)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for problem in problems:
                for optimizer, label in zip(optimizers, labels):
                    path = run_path(args.results, problem, label, seed)
                    if path.exists():
                        continue
                    record = run_one(PROBLEMS[problem], optimizer, seed, args.trials, options)
                    record["label"], record["options"] = label, options
                    atomic_write_text(path, json.dumps(record))  # a run file is complete or absent
                    print(
                        f"{problem} {label} seed {seed}: best {record['best_curve'][-1]} "
                        f"in {record['seconds']:.1f} s",
                        flush=True,
                    )
    runs = load_runs(args.results) if args.results.exists() else []
    print(summarize(runs, labels, problems))
    return 0


if __name__ == "__main__":
    sys.exit(main())
