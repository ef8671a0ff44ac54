"""``hpo bench``: run a benchmark suite into a folder and report; ``hpo bench report DIR``
rebuilds the report from the run records; ``hpo bench pack DIR`` moves the run files into the
compressed archive DIR/runs.jsonl.xz; ``hpo bench check DIR`` finds the runs that the current
problems no longer reproduce (``--drop`` removes them, so that the benchmark's command runs them
again); ``hpo bench --list`` shows what can be chosen."""

from __future__ import annotations

from hpo.cli.args import HelpFormatter, non_negative_int, positive_int
from hpo.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="compare optimizers on a benchmark suite and write a report",
        description=(
            "Run every chosen optimizer on every chosen problem for several seeds (one job "
            "each, in a local process pool or on a Dask cluster), write each finished run to "
            "OUT/runs/, pack those files into OUT/runs.jsonl.xz, then write OUT/report.md with "
            "figures and CSVs. A rerun skips finished runs (packed or not). 'hpo bench report DIR' "
            "rebuilds the report from the run records; 'hpo bench pack DIR' packs DIR/runs/; "
            "'hpo bench check DIR' lists the runs whose last trial the current problem no longer "
            "reproduces (a rebuilt surrogate, a changed table), and with --drop removes them."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=["run", "report", "pack", "check"],
        default="run",
        help="'run' a suite (the default), rebuild the 'report' of DIR, 'pack' DIR's run files, or "
        "'check' that DIR's runs are reproduced by the current problems",
    )
    parser.add_argument("dir", nargs="?", metavar="DIR", help="results folder for 'report', 'pack' and 'check'")
    parser.add_argument("--suite", default="smoke", help="suite name (see --list)")
    parser.add_argument("--out", metavar="DIR", help="results folder (required to run)")
    parser.add_argument(
        "--problems",
        nargs="+",
        metavar="NAME",
        help="problems instead of the suite's: names, shell patterns ('bbob-*-d2') or groups",
    )
    parser.add_argument(
        "--optimizers",
        nargs="+",
        metavar="NAME",
        help="registry optimizers instead of the suite's (random search always runs: it is the baseline)",
    )
    parser.add_argument(
        "--seeds", type=positive_int, default=None, help="how many seeds: FIRST..FIRST+N-1 [default: the suite's]"
    )
    parser.add_argument(
        "--first-seed",
        type=non_negative_int,
        default=0,
        metavar="FIRST",
        help="the first seed; another one gives a replicate on new seeds",
    )
    parser.add_argument("--n-trials", type=positive_int, default=None, help="trials per run [default: the suite's]")
    parser.add_argument(
        "--workers",
        type=non_negative_int,
        default=None,
        help="local worker processes [default: CPU count]; 0 runs the jobs in this process",
    )
    parser.add_argument("--dask", metavar="ADDRESS", help="run the jobs on this Dask scheduler (tcp://host:8786)")
    parser.add_argument(
        "--focus",
        metavar="NAME",
        help="optimizer compared against every other one in the report [default: sac-hmr; for "
        "'report', the benchmark's own, from DIR/bench.json]",
    )
    parser.add_argument(
        "--raw-csv",
        action="store_true",
        help="also write trials.csv and curves.csv (one row per trial; large, and derivable from the runs)",
    )
    parser.add_argument(
        "--no-pack",
        action="store_true",
        help="keep the run files in OUT/runs/ instead of packing them",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--drop",
        action="store_true",
        help="with 'check': remove the runs found, so that rerunning the command in DIR/bench.json runs them again",
    )
    parser.add_argument("--list", action="store_true", help="list suites, problem groups and optimizers, then exit")
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.list:
        return _list()
    if args.action in ("report", "pack", "check"):
        if not args.dir:
            raise UserError(f"{args.action}: give the results folder, e.g. 'hpo bench {args.action} results/bench'")
        return {"report": _report, "pack": _pack, "check": _check}[args.action](args)
    if args.drop:
        raise UserError("--drop: only with 'hpo bench check DIR'")
    if args.dir:
        raise UserError(f"unexpected argument {args.dir!r}; to run a suite give --out DIR")
    if not args.out:
        raise UserError("--out: required, e.g. 'hpo bench --suite smoke --out results/bench-smoke'")

    import optuna

    from benchmarks.bench import run_benchmark
    from benchmarks.report import DEFAULT_FOCUS

    if not args.verbose:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    summary, report = run_benchmark(
        args.suite,
        args.out,
        problems=args.problems,
        optimizers=args.optimizers,
        seeds=args.seeds,
        n_trials=args.n_trials,
        first_seed=args.first_seed,
        workers=args.workers,
        dask=args.dask,
        progress=not args.no_progress,
        focus=args.focus or DEFAULT_FOCUS,
        command=_command_line(args),
        pack=not args.no_pack,
        raw_csv=args.raw_csv,
    )
    print(summary_line(summary, report))
    return 1 if summary.failed else 0


def summary_line(summary, report) -> str:
    """What a benchmark run did, in one line."""
    return (
        f"{summary.ran} runs done ({summary.ok} finished, {summary.failed} failed, {summary.skipped} "
        f"skipped), {summary.skipped_finished} already finished; wrote {report}"
    )


def _report(args) -> int:
    from benchmarks.bench import write_any_report

    path = write_any_report(args.dir, focus=args.focus, raw_csv=args.raw_csv)
    print(f"wrote {path}")
    return 0


def _pack(args) -> int:
    from pathlib import Path

    from benchmarks.runner import pack_records

    if not Path(args.dir).is_dir():
        raise UserError(f"pack: {args.dir!r} is not a folder")
    count, path = pack_records(args.dir)
    print(f"packed {count} runs into {path}")
    return 0


def _check(args) -> int:
    """Exit status 0 when every run is reproduced, 1 when some are not (and were kept)."""
    from collections import Counter
    from pathlib import Path

    from benchmarks.runner import drop_records, stale_records

    if not Path(args.dir).is_dir():
        raise UserError(f"check: {args.dir!r} is not a folder")
    stale = stale_records(args.dir, problems=args.problems)
    counts = Counter((record["problem"], record["optimizer"]) for record in stale)
    for (problem, optimizer), count in sorted(counts.items()):
        print(f"{problem} {optimizer}: {count} runs not reproduced")
    if not stale:
        print(f"every finished run in {args.dir} is reproduced by the current problems")
        return 0
    if args.drop:
        print(f"dropped {drop_records(args.dir, stale)} runs; rerun the command in {Path(args.dir) / 'bench.json'}")
        return 0
    print(f"{len(stale)} runs not reproduced; 'hpo bench check {args.dir} --drop' removes them")
    return 1


def _command_line(args) -> str:
    """The command, rebuilt from the parsed options, for the report's 'Produced by' line."""
    import shlex

    words = ["hpo", "bench", "--suite", args.suite, "--out", args.out]
    for option, value in (("--problems", args.problems), ("--optimizers", args.optimizers)):
        if value:
            words += [option, *value]
    for option, value in (
        ("--seeds", args.seeds),
        ("--first-seed", args.first_seed or None),
        ("--n-trials", args.n_trials),
        ("--workers", args.workers),
        ("--dask", args.dask),
        ("--focus", args.focus),
    ):
        if value is not None:
            words += [option, str(value)]
    return shlex.join(words)


def _list() -> int:
    from benchmarks.problems import GROUPS, problem_names
    from benchmarks.suites import SUITES
    from hpo.optimizers import optimizers

    print("suites:")
    for suite in SUITES.values():
        print(f"  {suite.name:10s} {suite.description}")
    print(
        f"  {'transfer':10s} leave one dataset out on HPOBench-NN, HPOLib and NAS-Bench-201 (default) or the "
        "held-out family hgb, with 100-trial source studies; --problems takes families (hpobench hpolib nb201 "
        "hgb), --optimizers entries (docs/transfer.md)"
    )
    print(
        f"  {'multi-fidelity':10s} pruners over 30 learning-curve tables (SGD and MLP on 15 datasets), 10 seeds; "
        "--problems takes tables (MODEL-DATASET, patterns, or a model), --optimizers pruner entries, --n-trials "
        "the budget in full trainings (default 20) (docs/multi_fidelity.md)"
    )
    print("problem groups (names; patterns like 'bbob-*-d2' also work):")
    for group in GROUPS:
        names = problem_names(group)
        shown = names if len(names) <= 8 else names[:3] + ["...", names[-1]]
        print(f"  {group:16s} {len(names):3d}: {', '.join(shown)}")
    print("optimizers:")
    for name, description in optimizers().items():
        print(f"  {name:10s} {description}")
    return 0
