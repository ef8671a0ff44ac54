"""``hpo.tune`` (this module, ``hpo.tuning``): run an Optuna study with a registry optimizer, robustly.

Every trial ends in the storage with a state and, for failures, the reason: an objective
that raises or returns NaN/inf marks its trial FAIL (user attribute ``error``) and the run
goes on; Ctrl-C marks the running trial FAIL, keeps every finished one and re-raises. With a
storage and a study name a rerun loads the study and runs only the trials still missing
from the requested total. How trials run is ``hpo.trials``.
"""

from __future__ import annotations

import itertools
import numbers
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from tqdm.auto import tqdm

from hpo.checkpoints import RESUMES_KEY, is_resumption, set_checkpoints
from hpo.errors import UserError
from hpo.interrupts import running
from hpo.optimizers import make_sampler, make_transfer_sampler
from hpo.optuna_internals import clear_stop
from hpo.pruners import make_pruner, make_transfer_pruner, pruners
from hpo.space import SearchSpace, as_space, check_configs
from hpo.storage import exclusive, open_storage
from hpo.study_record import check_resume, study_record
from hpo.trials import FINISHED, FailFast, Objective, check_time_limit, logger, set_budget, work
from hpo.validation import MAX_TRIALS, check_int, check_real, check_seed

_DIRECTIONS = ("minimize", "maximize")


@dataclass
class TuneResult:
    """What ``tune`` returns; everything is derived from the Optuna study it wraps."""

    study: optuna.Study

    @property
    def multi_objective(self) -> bool:
        return len(self.study.directions) > 1

    @property
    def best_params(self) -> dict[str, Any]:
        return self._best_trial().params

    @property
    def best_value(self) -> float:
        return self._best_trial().value

    def _best_trial(self) -> optuna.trial.FrozenTrial:
        try:
            return self.study.best_trial
        except ValueError:
            if any(
                t.constraints for t in self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            ):
                raise UserError(
                    f"study {self.study.study_name!r}: no completed trial is feasible (every one has a constraint "
                    "value > 0): see the constraint_* and feasible columns of result.history"
                ) from None
            raise

    @property
    def best_trials(self) -> list[optuna.trial.FrozenTrial]:
        """The Pareto-optimal trials (multi-objective) or the best trial, as a list."""
        return self.study.best_trials

    @property
    def history(self) -> pd.DataFrame:
        """One row per trial: number, state, value(s), ``params_*``, ``user_attrs_error``,
        times; with constraints, ``constraint_*`` and ``feasible``; for one objective the
        ``best_so_far`` curve over completed (and, with constraints, feasible) trials."""
        return history_frame(self.study)


def _constraint_columns(study: optuna.Study, frame: pd.DataFrame) -> bool:
    """Add each trial's constraint values (``constraint_0``, ...; ``Trial.set_constraint``)
    and ``feasible`` (all of them <= 0) to ``frame``, if any trial has them; whether it did."""
    constraints = {t.number: t.constraints for t in study.get_trials(deepcopy=False)}
    keys = sorted({key for values in constraints.values() for key in values}, key=str)
    if not keys:
        return False
    numbers = frame["number"]
    for key in keys:
        frame[f"constraint_{key}"] = [constraints.get(n, {}).get(key) for n in numbers]
    frame["feasible"] = [
        (all(v <= 0 for v in constraints[n].values()) if constraints.get(n) else None) for n in numbers
    ]
    return True


def history_frame(study: optuna.Study) -> pd.DataFrame:
    frame = study.trials_dataframe()
    if frame.empty:
        return frame
    # Optuna's and our bookkeeping (sampler state, the study record, loss curves) is not history.
    internal = [c for c in frame.columns if c.startswith("system_attrs_") or c.startswith("user_attrs_hpo:")]
    frame = frame.drop(columns=internal)
    frame["state"] = frame["state"].astype(str)
    feasible = _constraint_columns(study, frame)
    frame = frame[frame["state"] != "WAITING"].reset_index(drop=True)  # budget not yet run
    if frame.empty:
        return frame
    if len(study.directions) == 1 and "value" in frame:
        counted = frame["state"] == "COMPLETE"
        if feasible:
            counted &= frame["feasible"].fillna(False).astype(bool)
        values = frame["value"].where(counted)
        if study.direction == optuna.study.StudyDirection.MAXIMIZE:
            frame["best_so_far"] = values.cummax()
        else:
            frame["best_so_far"] = values.cummin()
    return frame


def tune(
    objective: Objective,
    space: Mapping[str, Any] | None = None,
    *,
    optimizer: str | optuna.samplers.BaseSampler = "tpe",
    n_trials: int = 100,
    direction: str = "minimize",
    directions: Sequence[str] | None = None,
    seed: int | None = None,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    show_progress_bar: bool = False,
    timeout_per_trial: float | None = None,
    allow_changed_space: bool = False,
    pruner: str | optuna.pruners.BasePruner | None = None,
    constraints: Callable[..., float | Sequence[float]] | None = None,
    callbacks: Sequence[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]] = (),
    timeout: float | None = None,
    n_jobs: int = 1,
    initial_configs: Sequence[Mapping[str, Any]] = (),
    transfer_from: Sequence[Any] | None = None,
    transfer_storage: str | optuna.storages.BaseStorage | None = None,
    portfolio_size: int | None = None,
    create_only: bool = False,
    worker_objective: str | None = None,
    catch: Sequence[type[BaseException]] = (),
    checkpoint_dir: str | Path | None = None,
    resumes: int = 0,
) -> TuneResult:
    """Minimize or maximize ``objective`` over ``space``; return a ``TuneResult``.

    Parameters
    ----------
    objective:
        Called with a dict of parameter values; returns a float, or a sequence of floats
        (one per entry of ``directions``). Exceptions and NaN/inf make the trial FAIL. An
        objective that takes a second argument gets a ``hpo.pruners.Reporter`` (the Optuna
        trial with ``report``, ``should_prune``...) and may raise ``optuna.TrialPruned``.
    space:
        Maps names to Optuna distributions (or their dict form, see ``hpo.space``; a
        parameter with ``when`` is conditional). ``None``: define-by-run, the objective is
        called with the reporter alone and suggests its own parameters
        (``trial.suggest_float(...)``), as in Optuna.
    optimizer:
        A registry name (``hpo.optimizers()`` lists them) or an Optuna sampler instance.
    n_trials:
        Total number of finished trials wanted in the study (resumed studies count the
        trials they already hold).
    direction, directions:
        ``"minimize"`` or ``"maximize"``; ``directions`` (a list) makes it multi-objective.
    seed:
        Seeds the sampler; the same seed and objective give the same trials.
    storage, study_name:
        An Optuna storage URL (e.g. ``"sqlite:///hpo.db"``) or object and the study's
        name; an existing study of that name is resumed, if it holds the same search (space,
        objective, directions, optimizer; see ``hpo.study_record``).
    show_progress_bar:
        A tqdm bar over trials with the best value so far.
    timeout_per_trial:
        Seconds after which a running objective is stopped and its trial fails. The limit
        is a signal (SIGALRM) to the main thread: it needs ``n_jobs=1`` and a call from the
        main thread (other combinations are refused); run parallel trials with a time limit
        as ``hpo worker`` processes.
    allow_changed_space:
        Resume a study although its search changed (space, objective, optimizer); the
        change is recorded in the study (user attribute ``hpo:changes``).
    pruner:
        A pruner registry name (``hpo.pruners.pruners()``: ``none``, ``median``,
        ``percentile``, ``successive-halving``, ``hyperband``, ``wilcoxon``, ``dynamics``)
        or an Optuna pruner; single objective only. Pruned trials are PRUNED and count
        toward ``n_trials``.
    constraints:
        ``constraints(params)`` or ``constraints(params, user_attrs)`` (what the objective
        recorded with ``trial.set_user_attr``) returns a float or a sequence of floats, each
        ``<= 0`` when satisfied. Recorded on each trial (``Trial.set_constraint``), where the
        samplers that handle constraints (tpe, gp, nsga2, motpe; or a sampler instance that
        reads them) use them; ``best_params`` is then the best feasible trial.
    callbacks:
        Called as ``callback(study, frozen_trial)`` after every trial this call runs, as
        Optuna's ``Study.optimize`` callbacks; ``study.stop()`` there (or in the objective,
        through ``trial.study``) ends the run once the running trials finish, e.g. Optuna's
        ``MaxTrialsCallback``. Optuna's ``RetryHeartbeatStaleTrialCallback`` (or
        ``RetryFailedTrialCallback``) here retries each
        failed trial with the same parameters, up to its ``max_retry``; each retry is a
        trial of the budget.
    timeout:
        Seconds for the whole run: no trial starts after it (the running ones finish). No
        trial is made ahead of its run, so nothing is left queued; a rerun goes on with the
        rest of the budget.
    n_jobs:
        Trials run in parallel threads of this process; the budget stays exact.
    initial_configs:
        Configurations (dicts of parameter values) evaluated first, within ``n_trials``; one
        already in the study is not enqueued again.
    transfer_from, transfer_storage:
        Earlier studies of related problems (study names in ``transfer_storage``, default
        ``storage``; ``optuna.Study`` objects; or data frames of trials) to learn from
        (``docs/transfer.md``). Every optimizer starts with their greedy portfolio of
        ``portfolio_size`` configurations; ``optimizer="sac-hmr-transfer"`` then meta-trains
        its agent on them, any other optimizer models from the next trial on (the portfolio
        is its start-up trials). With ``pruner="sac-hmr"`` the scheduler is meta-trained on
        the source studies' intermediate values first (``docs/multi_fidelity.md``; about
        100 s). Single objective only.
    portfolio_size:
        The size ``k`` of that portfolio (default ``hpo.transfer.DEFAULT_PORTFOLIO_SIZE``,
        5); only with ``transfer_from``.
    create_only:
        Create (or resume) the study and its budget of ``n_trials``, run no trial: workers
        run it (``hpo worker``, ``hpo.trials.work``).
    worker_objective:
        What ``hpo worker`` processes that join this study run: a built-in task's name or
        ``"MODULE:FUNCTION"``, recorded in the study (``hpo.study_record``); a worker refuses
        a study that names other code than its own command line. ``None``: only processes
        that bring their own objective (``hpo.trials.work``) can join.
    catch:
        Exception types that never stop the run. Otherwise, when the first
        ``hpo.trials.FAIL_FAST_TRIALS`` (5) trials of this call all fail with one exception
        type (NaN/inf values and per-trial timeouts do not count), the run stops with a
        ``UserError`` that quotes it: a programming error does not use up the budget.
    checkpoint_dir, resumes:
        Pause and resume (freeze-thaw; the protocol is in ``hpo.checkpoints`` and
        ``docs/multi_fidelity.md``). The reporter's ``checkpoint`` is a directory under
        ``checkpoint_dir`` where the objective saves its state after each step; a trial
        pruned with a saved checkpoint is paused. Once the study holds its ``n_trials``
        configurations, up to ``resumes`` paused trials (in the study, in all) are resumed,
        the most promising first: the objective sees ``reporter.resumed`` and
        ``reporter.start_step`` and trains on from its checkpoint. Resumptions do not count
        toward ``n_trials``. Both are stored in the study, for ``hpo worker`` processes.

    Several processes can share one study: create it with ``tune`` (which sets the
    budget), then join with ``hpo.trials.work`` or ``hpo worker``; see ``hpo.trials``.
    """
    space = as_space(space) if space is not None else SearchSpace()
    if not callable(objective):
        raise UserError(f"objective must be callable, got {type(objective).__name__}")
    check_int("n_trials", n_trials, 1, maximum=MAX_TRIALS)
    check_int("n_jobs", n_jobs, 1)
    if timeout is not None:
        check_real("timeout", timeout, 0, exclusive_minimum=True)
    pruner_name = pruner if isinstance(pruner, str) else type(pruner).__name__
    pruner = make_pruner(pruner)
    callbacks = _check_callbacks(callbacks)
    catch = _check_catch(catch)
    initial_configs = check_configs("initial_configs", initial_configs, space)
    if directions is None:
        directions = [direction]
    directions = list(directions)
    if not directions:
        raise UserError("directions must name at least one direction")
    for value in directions:
        if value not in _DIRECTIONS:
            raise UserError(f"direction {value!r} is not allowed; allowed: {', '.join(_DIRECTIONS)}")
    check_seed(seed)
    check_int("resumes", resumes, 0, maximum=MAX_TRIALS)
    if resumes and checkpoint_dir is None:
        raise UserError(f"resumes={resumes}: a trial is resumed from its checkpoint; give checkpoint_dir too")
    if resumes and isinstance(pruner, optuna.pruners.NopPruner):
        raise UserError(f"resumes={resumes}: only a pruned trial is paused; give a pruner (e.g. pruner='hyperband')")
    if checkpoint_dir is not None:
        if not isinstance(checkpoint_dir, (str, Path)):
            raise UserError(f"checkpoint_dir must be a path, got {checkpoint_dir!r:.80}")
        folder = Path(checkpoint_dir).expanduser()
        if folder.exists() and not folder.is_dir():
            raise UserError(f"checkpoint_dir {str(checkpoint_dir)!r}: it exists and is not a folder")
    if portfolio_size is not None:
        if transfer_from is None:
            raise UserError("portfolio_size: the portfolio comes from source studies; give transfer_from too")
        check_int("portfolio_size", portfolio_size, 1)

    if timeout_per_trial is not None and not (isinstance(timeout_per_trial, numbers.Real) and timeout_per_trial > 0):
        raise UserError(f"timeout_per_trial must be a positive number of seconds, got {timeout_per_trial!r}")
    check_time_limit(timeout_per_trial, n_jobs)
    if len(directions) > 1 and not isinstance(pruner, optuna.pruners.NopPruner):
        raise UserError(
            f"pruner {pruner_name!r}: Optuna prunes single-objective studies only; "
            f"this one has {len(directions)} directions (use pruner='none')"
        )
    if constraints is not None and not callable(constraints):
        raise UserError(f"constraints must be a function of the parameters, got {constraints!r:.80}")
    if worker_objective is not None and not (isinstance(worker_objective, str) and worker_objective.strip()):
        raise UserError(f"worker_objective must be a task name or 'MODULE:FUNCTION', got {worker_objective!r:.80}")
    constrained = constraints is not None
    record = study_record(
        space,
        objective,
        directions,
        optimizer=optimizer,
        seed=seed,
        timeout_per_trial=timeout_per_trial,
        worker_objective=worker_objective,
    )
    if transfer_from is not None:
        if create_only:
            raise UserError("create_only: a transferring study runs in the process that loads its sources")
        sources = _transfer_sources(
            optimizer,
            transfer_from=transfer_from,
            storage=transfer_storage or storage,
            space=space,
            directions=directions,
            constrained=constrained,
        )
        optimizer = make_transfer_sampler(
            optimizer,
            sources,
            space,
            seed=seed,
            n_trials=n_trials,
            portfolio_size=portfolio_size,
            progress=show_progress_bar,
        )
        if isinstance(pruner_name, str) and pruner_name in pruners():
            pruner = make_transfer_pruner(pruner_name, sources, seed=seed)

    study = _prepare_study(
        storage,
        study_name,
        directions=directions,
        optimizer=optimizer,
        seed=seed,
        n_trials=int(n_trials),
        record=record,
        allow_changed_space=allow_changed_space,
        initial_configs=initial_configs,
        constrained=constrained,
    )
    study.pruner = pruner
    if checkpoint_dir is not None or RESUMES_KEY in study.user_attrs:
        set_checkpoints(study, checkpoint_dir, resumes)
    note = _resume_note(study, int(n_trials))
    if note:
        logger.info(note)
    if create_only:
        return TuneResult(study)
    n_finished = count_finished(study)
    wanted = max(0, int(n_trials) - n_finished)
    resumed = sum(is_resumption(t) for t in study.get_trials(deepcopy=False))
    wanted += max(0, int(resumes) - resumed)
    queued = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))
    if queued > wanted:  # a budget set larger before (by another run or --create-only)
        logger.warning(
            "study %r holds %d queued trials; running %d as asked (n_trials=%d), the rest stays queued",
            study.study_name,
            queued,
            wanted,
            n_trials,
        )
    # tqdm starts its monitor thread with the first bar and stops it when the last one closes.
    progress_bar = partial(
        tqdm,
        total=n_finished + wanted,
        initial=n_finished,
        disable=not show_progress_bar,
        desc=study.study_name,
        unit="trial",
        # into a log file or a pipe, a frame every 10 s instead of every 0.1 s
        mininterval=0.1 if _is_terminal(sys.stderr) else _LOG_PROGRESS_SECONDS,
    )
    with running(progress_bar, lambda bar: bar.close()) as bar:
        lock = threading.Lock()

        def advance(trial: optuna.trial.FrozenTrial) -> None:
            with lock:
                if len(directions) == 1:
                    best = _best_value_or_none(study)
                    if best is not None:
                        bar.set_postfix(best=f"{best:.6g}", refresh=False)  # drawn by the update
                bar.update(1)
            for callback in callbacks:
                callback(study, trial)

        run_workers(
            study,
            objective,
            space,
            n_jobs=n_jobs,
            timeout=timeout,
            limit=wanted,
            timeout_per_trial=timeout_per_trial,
            on_trial=advance,
            constraints=constraints,
            catch=catch,
        )
    return TuneResult(study)


def run_workers(
    study,
    objective,
    space,
    *,
    n_jobs: int,
    timeout: float | None,
    limit: int | None = None,
    catch: Sequence[type[BaseException]] = (),
    **work_options,
) -> None:
    """``work`` in this thread and ``n_jobs - 1`` more, sharing the study's budget
    (``hpo.trials.next_trial`` keeps it exact); no trial starts after ``timeout`` seconds,
    beyond ``limit`` trials or after ``study.stop()``. On an exception here (Ctrl-C) the
    other threads finish their running trial and stop. When the run's first trials all fail
    alike (``hpo.trials.FailFast``, with ``catch``), every thread stops and the ``UserError``
    says why."""
    fail_fast = FailFast(catch)
    work_options["fail_fast"] = fail_fast
    clear_stop(study)  # a Study.stop() of an earlier run
    deadline = None if timeout is None else time.monotonic() + timeout
    stop = threading.Event()
    starts = itertools.count()  # next() is atomic: one slot per trial about to start

    def should_stop() -> bool:
        if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
            return True
        return limit is not None and next(starts) >= limit

    threads: list[threading.Thread] = []
    try:  # started inside: a Ctrl-C during the starts still stops the ones already running
        for _ in range(n_jobs - 1):
            kwargs = {**work_options, "should_stop": should_stop}
            threads.append(threading.Thread(target=work, args=(study, objective, space), kwargs=kwargs))
            threads[-1].start()
        work(study, objective, space, should_stop=should_stop, **work_options)
    finally:
        stop.set()
        for thread in threads:
            if thread.ident is not None:  # started
                thread.join()
    fail_fast.raise_if_tripped()


def _transfer_sources(optimizer, *, transfer_from, storage, space, directions, constrained) -> list:
    """The source studies of ``transfer_from`` (``hpo.transfer.load_sources``), after the
    checks that a transferring study passes."""
    if not isinstance(optimizer, str):
        raise UserError("transfer_from: give a registry optimizer name, not a sampler instance")
    if len(directions) > 1:
        raise UserError(f"transfer_from: only single-objective studies transfer; this one has {len(directions)}")
    if not space:
        raise UserError("transfer_from: needs a space (define-by-run objectives cannot transfer)")
    if constrained:
        raise UserError("transfer_from: constraints are not supported with transfer")
    from hpo.transfer import load_sources  # scipy.stats: loaded only when a run transfers

    return load_sources(transfer_from, space, directions[0], storage=storage)


_LOG_PROGRESS_SECONDS = 10.0


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def _check_catch(catch) -> tuple[type[BaseException], ...]:
    if isinstance(catch, type):
        catch = (catch,)
    if not isinstance(catch, Sequence) or not all(isinstance(c, type) and issubclass(c, Exception) for c in catch):
        raise UserError(f"catch must be a tuple of exception classes, got {catch!r:.80}")
    return tuple(catch)


def _check_callbacks(callbacks) -> list:
    if callable(callbacks) or isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Sequence):
        raise UserError(f"callbacks must be a list of callables, got {callbacks!r:.80}")
    for callback in callbacks:
        if not callable(callback):
            raise UserError(f"callbacks: {callback!r:.80} is not callable")
    return [_on_failures(c) if isinstance(c, _RETRY_CALLBACKS) else c for c in callbacks]


# Optuna's storage callbacks that re-enqueue a trial (the first one's deprecated name too)
_RETRY_CALLBACKS = (optuna.storages.RetryHeartbeatStaleTrialCallback, optuna.storages.RetryFailedTrialCallback)


def _on_failures(callback):
    """Optuna's retry callbacks are made for the storage's stale trials and re-enqueue
    whatever trial they get: among ``callbacks`` they get the failed ones only."""

    def call(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.state == optuna.trial.TrialState.FAIL:
            callback(study, trial)

    return call


def _prepare_study(
    storage,
    study_name,
    *,
    directions,
    optimizer,
    seed: int | None,
    n_trials: int,
    record: Mapping[str, Any],
    allow_changed_space: bool = False,
    initial_configs: Sequence[Mapping[str, Any]] = (),
    constrained: bool = False,
) -> optuna.Study:
    """Create or resume the study, set its sampler and its budget of ``n_trials`` trials.

    A run that is refused leaves nothing behind: the optimizer is built before the storage
    is opened, and an existing study is checked against ``record`` (see
    ``hpo.study_record``) before anything is written to it. Only the process that prepares a
    study adds to its budget; workers that join it (``hpo.worker``) only run what is left.
    """
    sampler = _sampler(optimizer, seed, len(directions), n_trials=n_trials, constrained=constrained)
    storage = open_storage(storage)
    with exclusive(storage):  # two runs started at once: one creates the study, one budget
        study = _load_study_if_exists(storage, study_name)
        if study is None:
            study = _open_study(storage, study_name, directions)
        n_finished = count_finished(study)
        check_resume(study, record, directions, n_finished=n_finished, allow_changed=allow_changed_space)
        resumed_seed = _resume_seed(seed, n_finished)
        if resumed_seed != seed:  # the first sampler was built to refuse a bad optimizer early
            sampler = _sampler(optimizer, resumed_seed, len(directions), n_trials=n_trials, constrained=constrained)
        study.sampler = sampler
        for config in initial_configs:
            if len(study.get_trials(deepcopy=False)) >= n_trials:
                break
            study.enqueue_trial(dict(config), skip_if_exists=True)
        set_budget(study, n_trials)
    return study


def _resume_note(study: optuna.Study, n_trials: int) -> str | None:
    """The line 'resuming study S: 20 finished, running 5 more' for a study that holds
    finished trials; ``None`` for a new one."""
    n_finished = count_finished(study)
    if not n_finished:
        return None
    return f"resuming study {study.study_name!r}: {n_finished} finished, running {max(0, n_trials - n_finished)} more"


def count_finished(study: optuna.Study) -> int:
    """The finished trials that count toward ``n_trials`` (a resumption does not)."""
    return sum(t.state in FINISHED and not is_resumption(t) for t in study.get_trials(deepcopy=False))


def _open_study(storage, study_name, directions) -> optuna.Study:
    """Create or load a study; a storage URL gets heartbeats (see ``hpo.storage``)."""
    storage = open_storage(storage)
    try:
        return optuna.create_study(storage=storage, study_name=study_name, directions=directions, load_if_exists=True)
    except ValueError as err:  # e.g. an existing study with other directions
        raise UserError(f"study {study_name!r}: {err}") from None


def _load_study_if_exists(storage, study_name: str | None) -> optuna.Study | None:
    if storage is None or study_name is None:  # in memory, or a fresh generated name
        return None
    try:
        return optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        return None


def _sampler(
    optimizer, seed: int | None, n_objectives: int, n_trials: int, constrained: bool = False
) -> optuna.samplers.BaseSampler:
    if isinstance(optimizer, optuna.samplers.BaseSampler):
        return optimizer
    return make_sampler(optimizer, seed, n_objectives, n_trials=n_trials, constrained=constrained)


def _resume_seed(seed: int | None, n_finished: int) -> int | None:
    # A resumed run must not replay the random draws of the first run (duplicated
    # start-up trials), yet stay deterministic: derive the seed from the history length.
    if seed is None or n_finished == 0:
        return seed
    return int(np.random.SeedSequence([seed, n_finished]).generate_state(1)[0])


def _best_value_or_none(study: optuna.Study) -> float | None:
    try:
        return study.best_value
    except ValueError:  # no completed trial yet
        return None
