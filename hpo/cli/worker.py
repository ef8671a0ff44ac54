"""``hpo worker``: join a study created by ``hpo tune`` and run its remaining trials."""

from __future__ import annotations

from hpo.cli.args import HelpFormatter, positive_int, seed


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="join a shared study and run trials until its budget is spent",
        description=(
            "Join a study created by 'hpo tune' (for example with --create-only) in a shared "
            "storage such as PostgreSQL, and run trials from its budget until none is left. "
            "Start as many workers as you like, on any machine that reaches the storage; "
            "together they run exactly the study's --n-trials."
        ),
        formatter_class=HelpFormatter,
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("task", nargs="?", default=None, help="the study's built-in task (see 'hpo tasks')")
    what.add_argument(
        "--objective",
        metavar="MODULE:FUNCTION",
        help="the study's objective, as given to 'hpo tune'; the worker refuses a study that names another",
    )
    parser.add_argument("--storage", required=True, help="the study's Optuna storage URL")
    parser.add_argument("--study", required=True, help="the study's name")
    parser.add_argument(
        "--n-trials",
        type=positive_int,
        default=None,
        help="run at most this many trials in this worker [default: until the budget is spent]",
    )
    parser.add_argument(
        "--seed",
        type=seed,
        default=None,
        help="this worker's sampler seed [default: derived from the study's seed, host and pid]",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    import optuna

    from hpo.trials import budget
    from hpo.worker import run_worker

    if not args.verbose:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    study, ran = run_worker(
        args.storage, args.study, task=args.task, objective=args.objective, max_trials=args.n_trials, seed=args.seed
    )
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    left = max(0, (budget(study) or 0) - len(states)) + states.count("WAITING")
    print(
        f"worker ran {ran} trials; study {args.study!r}: {states.count('COMPLETE')} complete, "
        f"{states.count('PRUNED')} pruned, {states.count('FAIL')} failed, {states.count('RUNNING')} running, "
        f"{left} left to run"
    )
    return 0
