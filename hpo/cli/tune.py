"""``hpo tune``: tune a built-in task or a user's objective; store, print, save CSV and PNG."""

from __future__ import annotations

import sys
from pathlib import Path

from hpo.cli.args import HelpFormatter, int_in, non_negative_int, positive_float, positive_int, seed
from hpo.errors import UserError
from hpo.validation import MAX_TRIALS

DEFAULT_STORAGE = "sqlite:///results/hpo.db"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "tune",
        help="tune a built-in task or your own objective",
        description=(
            "Run (or resume) an Optuna study. Give a built-in TASK (see 'hpo tasks'), or your "
            "own objective with --objective and --space. Prints the best result and writes "
            "OUT/history.csv and OUT/convergence.png (OUT/pareto.png with several objectives). "
            "A rerun with the same study name and storage resumes up to --n-trials; it refuses "
            "when the search changed (space, objective, directions, optimizer) unless "
            "--allow-changed-space is given."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("task", nargs="?", help="built-in task name (see 'hpo tasks')")
    parser.add_argument(
        "--objective",
        metavar="MODULE:FUNCTION",
        help="your objective: a function taking a dict of parameters and returning a float "
        "(or a list of floats with --directions); MODULE is an importable module or a .py path",
    )
    parser.add_argument("--space", metavar="FILE", help="search-space file (.json, .yaml) for --objective")
    parser.add_argument(
        "--direction",
        choices=["minimize", "maximize"],
        default=None,
        help="direction for --objective (a built-in task has its own) [default: minimize]",
    )
    parser.add_argument(
        "--directions",
        nargs="+",
        choices=["minimize", "maximize"],
        default=None,
        help="several directions: multi-objective tuning of --objective",
    )
    parser.add_argument("--optimizer", default="tpe", help="optimizer name (see 'hpo optimizers')")
    parser.add_argument(
        "--pruner",
        default="none",
        help="pruner name (see 'hpo optimizers'): stops trials early from the values an objective "
        "reports (an objective taking a second argument, the trial, reports with trial.report)",
    )
    parser.add_argument(
        "--checkpoint-dir",
        default=None,
        metavar="DIR",
        help="pause and resume (docs/multi_fidelity.md): the objective saves its state in "
        "trial.checkpoint, under DIR, and a pruned trial with a checkpoint is paused",
    )
    parser.add_argument(
        "--resumes",
        type=non_negative_int,
        default=0,
        metavar="K",
        help="resume up to K paused trials from their checkpoints, the most promising first, once the "
        "study holds its --n-trials configurations (needs --checkpoint-dir and a --pruner)",
    )
    parser.add_argument(
        "--transfer-from",
        nargs="+",
        metavar="STUDY",
        default=None,
        help="earlier studies of related problems to learn from (docs/transfer.md): every optimizer starts "
        "with their greedy portfolio of --portfolio-size configurations; sac-hmr-transfer is then "
        "meta-trained on them, any other optimizer models from the next trial on; --pruner sac-hmr is "
        "meta-trained on their intermediate values (docs/multi_fidelity.md)",
    )
    parser.add_argument(
        "--portfolio-size",
        type=positive_int,
        default=None,
        metavar="K",
        help="configurations in the --transfer-from portfolio [default: 5]",
    )
    parser.add_argument(
        "--transfer-storage",
        metavar="URL",
        default=None,
        help="storage holding the --transfer-from studies [default: --storage]",
    )
    parser.add_argument("--n-jobs", type=positive_int, default=1, help="trials run in parallel threads of this process")
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help="start no trial after this many seconds (the rest of the budget stays for a rerun)",
    )
    parser.add_argument(
        "--n-trials", type=int_in(1, MAX_TRIALS), default=50, help=f"total trials in the study (at most {MAX_TRIALS})"
    )
    parser.add_argument("--seed", type=seed, default=0, help="random seed of the optimizer")
    parser.add_argument(
        "--storage",
        default=DEFAULT_STORAGE,
        help="Optuna storage URL (SQLite file, PostgreSQL, ...); open it with optuna-dashboard",
    )
    parser.add_argument(
        "--study-name",
        default=None,
        help="study name [default: TASK-OPTIMIZER-seedSEED]; an existing study is resumed",
    )
    parser.add_argument("--out", default=None, help="output folder [default: results/STUDY_NAME]")
    parser.add_argument(
        "--timeout-per-trial",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help="stop an objective after this many seconds and fail its trial",
    )
    parser.add_argument(
        "--create-only",
        action="store_true",
        help="create the study and its budget of --n-trials, run nothing here: start "
        "'hpo worker --storage URL --study NAME' processes to run it",
    )
    parser.add_argument(
        "--allow-changed-space",
        action="store_true",
        help="resume the study although its search changed (space, objective, optimizer); "
        "the change is recorded in the study",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    import optuna

    from hpo.io import safe_file_name
    from hpo.pruners import make_pruner
    from hpo.space import load_space
    from hpo.storage import redact_url
    from hpo.tasks import get_task
    from hpo.tuning import tune
    from hpo.worker import load_objective

    if not args.verbose:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    task = None
    if args.task and (args.objective or args.space):
        raise UserError("give either a TASK or --objective with --space, not both")
    if args.task:
        task = get_task(args.task)
        if args.direction or args.directions:
            raise UserError(f"--direction: task {task.name!r} has its own direction ({task.direction})")
        objective, space, directions, label = task.objective, task.space, [task.direction], task.name
    elif args.objective:
        if not args.space:
            raise UserError("--space: required with --objective")
        objective, space = load_objective(args.objective), load_space(args.space)
        directions = args.directions or [args.direction or "minimize"]
        label = args.objective.rsplit(":", 1)[-1]
    else:
        raise UserError("give a TASK (see 'hpo tasks') or --objective MODULE:FUNCTION with --space FILE")
    make_pruner(args.pruner)  # refuse an unknown pruner before anything is created
    if args.transfer_from and args.create_only:
        raise UserError("--create-only: a transferring study runs in this process (workers do not load sources)")
    study_name = args.study_name or f"{label}-{args.optimizer}-seed{args.seed}"
    out = Path(args.out or Path("results") / safe_file_name(study_name))

    # The study is created (schema, budget, record) by this one process before any worker
    # joins: concurrent schema creation races (IntegrityError on alembic_version). A refused
    # run (bad optimizer, a study holding another search) leaves no study and no folder.
    created = [] if args.create_only else _make_dir(out, "--out")
    if args.storage.startswith("sqlite:///") and not args.storage.startswith("sqlite:////"):
        created += _make_dir(Path(args.storage[len("sqlite:///") :]).parent, "--storage")
    try:
        result = tune(
            objective,
            space,
            optimizer=args.optimizer,
            n_trials=args.n_trials,
            directions=directions,
            seed=args.seed,
            storage=args.storage,
            study_name=study_name,
            # A bar redrawn into a file or a pipe floods it: only on a terminal.
            show_progress_bar=not args.no_progress and sys.stderr.isatty(),
            timeout_per_trial=args.timeout_per_trial,
            allow_changed_space=args.allow_changed_space,
            pruner=args.pruner,
            n_jobs=args.n_jobs,
            timeout=args.timeout,
            transfer_from=args.transfer_from,
            transfer_storage=args.transfer_storage or args.storage,
            portfolio_size=args.portfolio_size,
            create_only=args.create_only,
            worker_objective=task.name if task else args.objective,
            checkpoint_dir=args.checkpoint_dir,
            resumes=args.resumes,
        )
    except UserError:
        _remove_empty(created)
        raise
    if args.create_only:
        print(f"study {study_name!r} ready with a budget of {args.n_trials} trials; run it with:")
        print(f"  hpo worker --storage {redact_url(args.storage)} --study {study_name}")
        return 0
    history = result.history
    from hpo.io import atomic_write
    from hpo.plotting import plot_study

    atomic_write(out / "history.csv", lambda tmp: history.to_csv(tmp, index=False))
    figure = out / ("pareto.png" if result.multi_objective else "convergence.png")
    plot_study(result.study, figure, title=study_name)

    n_failed = int((history["state"] == "FAIL").sum()) if not history.empty else 0
    print(f"study {study_name!r}: {len(history)} trials ({n_failed} failed), optimizer {args.optimizer}")
    if result.multi_objective:
        if not result.best_trials:
            print("no trial completed: see the 'user_attrs_error' column of history.csv")
            return 1
        print(f"Pareto front: {len(result.best_trials)} trials")
        for trial in result.best_trials:
            print(f"  trial {trial.number}: values {trial.values} params {trial.params}")
    else:
        try:
            best = result.study.best_trial
        except ValueError:
            print("no trial completed: see the 'user_attrs_error' column of history.csv")
            return 1
        metric = task.metric if task else "value"
        cv = " (CV)" if task is not None and task.make_model is not None else ""
        print(f"best {metric}{cv}: {best.value:.6g} at trial {best.number}")
        print(f"best params: {best.params}")
        if task is not None:
            test = task.test_score(best.params)
            if test is not None:
                print(f"held-out test {metric} of the best params: {test:.6g}")
    print(f"wrote {out / 'history.csv'} and {figure}")
    return 0


def _make_dir(path: Path, option: str) -> list[Path]:
    """Create the folder and its missing parents; returns the folders created, deepest first."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{option} {str(path)!r}: cannot create the folder ({err.strerror})") from None
    if not path.is_dir():
        raise UserError(f"{option} {str(path)!r}: not a folder")
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first; a folder something was written to stays
        try:
            folder.rmdir()
        except OSError:
            pass
