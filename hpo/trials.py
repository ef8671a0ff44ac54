"""Running trials of a study robustly, alone or as one of many workers.

The budget of a study is a number stored in it (``set_budget``), not a queue of made
trials: every worker (a ``tune`` call, ``hpo worker``, a thread) takes its next trial with
``next_trial``, which first pops a queued (WAITING) trial atomically and otherwise creates
one while the study holds fewer trials than the budget, counting under a lock that every
process on the storage shares. So several processes sharing a storage run exactly the
budget, with no overshoot; a resumed run picks up where it stopped; and a run that stops
early (``timeout``, ``Study.stop()`` from a callback or the objective) leaves nothing queued.

Each trial: the sampler fills the trial over the space, the objective runs (with a
heartbeat thread on RDB storages and an optional time limit), and the outcome is told. An
exception, NaN/inf or a timeout fails the trial with the reason in user attribute
``error``; Ctrl-C is held during storage writes so that no trial is left RUNNING.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from hpo.checkpoints import (
    checkpoint_dir,
    checkpoint_path,
    create_resumption,
    holds_checkpoint,
    is_resumption,
    mark_paused,
)
from hpo.errors import UserError
from hpo.interrupts import deferred_interrupt, running
from hpo.optuna_internals import (
    claim_waiting,
    forget_cached_trials,
    get_heartbeat_thread,
    is_heartbeat_enabled,
    optimize_loop,
    stop_requested,
    storage_of,
    study_id,
    trial_id,
)
from hpo.pruners import Reporter
from hpo.space import suggest
from hpo.storage import exclusive
from hpo.validation import MAX_TRIALS

Objective = Callable[[dict[str, Any]], float | Sequence[float]]

FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)
INTERRUPTED = "KeyboardInterrupt: interrupted by the user"

logger = optuna.logging.get_logger("hpo")


class NonFiniteObjectiveError(ValueError):
    """The objective returned NaN or an infinity."""


class TrialTimeoutError(TimeoutError):
    """The objective ran past the per-trial time limit."""


BUDGET_KEY = "hpo:budget"


def set_budget(study: optuna.Study, n_trials: int) -> None:
    """Set the study's budget: workers create trials until the study holds ``n_trials``
    trials in any state (``next_trial``). Set by the process that creates or resumes the
    study (``hpo.tune``); workers only read it."""
    study.set_user_attr(BUDGET_KEY, int(n_trials))


def budget(study: optuna.Study) -> int | None:
    """The study's budget (``set_budget``); ``None`` for a study without one, whose workers
    run only its queued (WAITING) trials. The value is read from a storage that others can
    write, so it is checked."""
    value = study.user_attrs.get(BUDGET_KEY)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TRIALS:
        raise UserError(
            f"study {study.study_name!r}: its stored budget {BUDGET_KEY!r} is {value!r:.80}; "
            f"allowed: an integer from 0 to {MAX_TRIALS} (set by hpo.tune's n_trials)"
        )
    return value


def next_trial(study: optuna.Study) -> optuna.Trial | None:
    """The next trial to run, RUNNING from now on: a queued (WAITING) one first (initial
    configurations, retries, ``Study.enqueue_trial``), else a new one while the study holds
    fewer trials than its budget, else the resumption of a paused trial while the study's
    resumptions last (``hpo.checkpoints``); ``None`` when the budget is spent.

    No trial is made before it runs, so a run that stops early (``timeout``, ``Study.stop``)
    leaves none waiting. Counting and creating happen under ``hpo.storage.exclusive``, held by
    every process on the storage, so workers sharing a study run exactly the budget."""
    trial = pop_trial(study)
    if trial is not None:
        return trial
    wanted = budget(study)
    if wanted is None:
        return None
    storage = storage_of(study)
    with exclusive(storage):
        trials = storage.get_all_trials(study_id(study), deepcopy=False)
        if sum(not is_resumption(t) for t in trials) < wanted:
            created = storage.create_new_trial(study_id(study))
        else:
            created = create_resumption(study, storage, trials)
            if created is None:
                return None
    forget_cached_trials(study)
    return optuna.Trial(study, created)


def pop_trial(study: optuna.Study) -> optuna.Trial | None:
    """Atomically take one WAITING trial of the study (RUNNING from now on), or ``None``."""
    # Study.ask would create a new trial when the queue is empty, overshooting the budget.
    storage = storage_of(study)
    for waiting in storage.get_all_trials(study_id(study), deepcopy=False, states=(TrialState.WAITING,)):
        if claim_waiting(storage, trial_id(waiting)):
            forget_cached_trials(study)  # as Study.ask: sync with the storage
            return optuna.Trial(study, trial_id(waiting))
    return None


FAIL_FAST_TRIALS = 5
_OUTCOMES = (NonFiniteObjectiveError, TrialTimeoutError)  # what a working objective may end in


class FailFast:
    """Stops a run whose first ``FAIL_FAST_TRIALS`` trials all failed with one exception
    type (an objective with a programming error, or called the wrong way, would otherwise
    fail the whole budget). Outcomes of a working objective never count (a NaN or infinite
    value, a per-trial timeout), nor exceptions of the ``catch`` types, and once a trial of
    the run completed nothing does. Shared by the threads of one run."""

    def __init__(self, catch: Sequence[type[BaseException]] = ()):
        self.catch = tuple(catch)
        self._lock = threading.Lock()
        self._failures: list[tuple[type, str]] = []
        self._completed = False
        self.error: str | None = None

    def record(self, frozen: optuna.trial.FrozenTrial, error: Exception | None) -> None:
        with self._lock:
            if frozen.state == TrialState.COMPLETE:
                self._completed = True
            if self._completed or error is None or self.error is not None:
                return
            if isinstance(error, (*self.catch, *_OUTCOMES)):
                return
            self._failures.append((type(error), f"{type(error).__name__}: {error}"))
            kinds = {kind for kind, _ in self._failures}
            if len(self._failures) >= FAIL_FAST_TRIALS and len(kinds) == 1:
                self.error = (
                    f"the first {len(self._failures)} trials all failed with {self._failures[0][1]}; stopped so "
                    "that the rest of the budget is not spent on it (their error column has each one; fix the "
                    "objective, or pass catch=(" + self._failures[0][0].__name__ + ",) to go on)"
                )

    @property
    def tripped(self) -> bool:
        return self.error is not None

    def raise_if_tripped(self) -> None:
        if self.error is not None:
            raise UserError(self.error)


def work(
    study: optuna.Study,
    objective: Objective,
    space: Mapping[str, Any],
    *,
    max_trials: int | None = None,
    timeout_per_trial: float | None = None,
    on_trial: Callable[[optuna.trial.FrozenTrial], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    constraints: Callable | None = None,
    fail_fast: FailFast | None = None,
) -> int:
    """Run trials of ``study`` (``next_trial``) until its budget is spent (or ``max_trials``
    ran, or ``should_stop()`` says so before a trial starts, or ``Study.stop()`` was called,
    or ``fail_fast`` trips); returns the number of trials this call ran. ``objective``,
    ``space`` and ``constraints`` are as in ``hpo.tune`` (see ``evaluate`` and
    ``record_constraints``); ``on_trial`` gets each finished trial, and may call
    ``study.stop()``, as Optuna's callbacks do. The caller raises ``fail_fast``'s error
    (``FailFast.raise_if_tripped``): with threads, once all stopped."""
    check_time_limit(timeout_per_trial)
    ran = 0
    storage = storage_of(study)
    with optimize_loop(study):
        while (
            (max_trials is None or ran < max_trials)
            and not stop_requested(study)
            and not (fail_fast is not None and fail_fast.tripped)
            and not (should_stop is not None and should_stop())
        ):
            if is_heartbeat_enabled(storage):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    optuna.storages.fail_stale_trials(study)  # dead workers' trials -> FAIL
            trial = None
            try:
                with deferred_interrupt() as interrupted:
                    trial = next_trial(study)
                if trial is None:
                    if interrupted:
                        raise KeyboardInterrupt
                    if not _wait_for_running_trials(study):
                        break
                    continue
                errors: list[Exception] = []
                frozen = run_trial(
                    study,
                    trial,
                    objective,
                    space=space,
                    timeout_per_trial=timeout_per_trial,
                    interrupted=interrupted,
                    constraints=constraints,
                    on_error=errors.append,
                )
            except KeyboardInterrupt:
                # A Ctrl-C between the pop and run_trial's own handler: the trial is RUNNING.
                if trial is not None and storage.get_trial(trial_id(trial)).state == TrialState.RUNNING:
                    _tell_failure(study, trial, INTERRUPTED)
                raise
            ran += 1
            if fail_fast is not None:
                fail_fast.record(frozen, errors[0] if errors else None)
            if on_trial is not None:
                on_trial(frozen)
    return ran


def _wait_for_running_trials(study: optuna.Study) -> bool:
    """With heartbeats, a RUNNING trial of another worker may belong to a dead process:
    wait a little and return True while such trials exist, so that a stale one is failed (and
    retried if configured) before the workers give up on the budget. The caller checks its
    stop conditions between waits."""
    storage = storage_of(study)
    if not is_heartbeat_enabled(storage):
        return False
    if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        return False
    time.sleep(min(_WAIT_SECONDS, storage.get_heartbeat_interval()))
    return True


_WAIT_SECONDS = 1.0


def run_trial(
    study: optuna.Study,
    trial: optuna.Trial,
    objective: Objective,
    space: Mapping[str, Any],
    timeout_per_trial: float | None = None,
    interrupted: Sequence[int] = (),
    constraints: Callable | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> optuna.trial.FrozenTrial:
    """Sample ``trial`` over ``space``, evaluate it, record its ``constraints``, tell the
    outcome. Failures of the objective or the constraints never raise (the trial is FAIL;
    ``on_error`` gets the exception); ``KeyboardInterrupt`` fails the trial and propagates."""
    sampled = False
    try:
        with _heartbeat(trial_id(trial), storage_of(study)):
            if interrupted:
                raise KeyboardInterrupt
            with deferred_interrupt() as interrupted:
                params = suggest(trial, space) if space else {}
            sampled = True
            if interrupted:
                raise KeyboardInterrupt
            with _time_limit(timeout_per_trial):
                raw = evaluate(objective, params, trial, space=space)
            values = _check_values(raw, len(study.directions))
            if constraints is not None:
                record_constraints(trial, constraints, params if space else trial.params)
    except KeyboardInterrupt:
        _tell_failure(study, trial, INTERRUPTED)
        raise
    except optuna.TrialPruned:
        with deferred_interrupt() as interrupted:
            _pause_if_checkpointed(study, trial)
            frozen = study.tell(trial, state=TrialState.PRUNED)
        if interrupted:
            raise KeyboardInterrupt from None
        return frozen
    except Exception as err:  # the objective's own failure (or the sampler's): record, go on
        reason = f"{type(err).__name__}: {err}"
        if isinstance(err, UserError) and not sampled:
            # The sampler refused the setup (e.g. too many parameters for an agent): every
            # further trial would fail the same way, so stop with the message.
            _tell_failure(study, trial, reason)
            raise
        if on_error is not None:
            on_error(err)
        logger.warning("Trial %d failed: %s", trial.number, reason)
        logger.debug("Trial %d traceback:\n%s", trial.number, traceback.format_exc())
        return _tell_failure(study, trial, reason)
    with deferred_interrupt() as interrupted:
        frozen = study.tell(trial, values)
    if interrupted:
        raise KeyboardInterrupt
    return frozen


def _pause_if_checkpointed(study: optuna.Study, trial: optuna.Trial) -> None:
    directory = checkpoint_dir(study)
    if directory is not None and holds_checkpoint(checkpoint_path(directory, trial)):
        mark_paused(study, trial)


REPORTER_NAMES = ("trial", "reporter")  # an optional second parameter under these names gets the reporter


def takes_trial(objective: Callable) -> bool:
    """Whether ``objective`` takes the ``Reporter`` as its second positional argument: a
    second positional parameter without a default, one with a default named ``trial`` or
    ``reporter`` (``def objective(params, trial=None)``), or ``*args`` after the first. An
    option with another name and a default (``def objective(params, verbose=False)``) is
    left to its default."""
    try:
        signature = inspect.signature(objective)
    except (TypeError, ValueError):  # builtins without a signature: one argument
        return False
    parameters = list(signature.parameters.values())
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= 2:
        second = positional[1]
        return second.default is inspect.Parameter.empty or second.name in REPORTER_NAMES
    return any(p.kind is p.VAR_POSITIONAL for p in parameters)


def record_constraints(trial: optuna.Trial, constraints: Callable, params: Mapping[str, Any]) -> None:
    """Record ``constraints(params)``, or ``constraints(params, user_attrs)`` (what the
    objective recorded), on ``trial``: value i under key ``"i"`` (``Trial.set_constraint``),
    feasible when ``<= 0``. Optuna's constrained samplers and ``Study.best_trial`` read them."""
    returned = constraints(params, trial.user_attrs) if takes_trial(constraints) else constraints(params)
    try:
        values = np.atleast_1d(np.asarray(returned, dtype=float))
    except (TypeError, ValueError):
        values = None
    if values is None or values.ndim != 1:
        raise TypeError(f"constraints must return a number or a sequence of numbers, got {returned!r:.80}")
    for index, value in enumerate(values.tolist()):
        trial.set_constraint(str(index), value)


def evaluate(objective: Callable, params: dict[str, Any], trial: optuna.Trial, space) -> Any:
    """Call the objective the way it asks: ``objective(params)``, ``objective(params,
    reporter)`` (it takes a second argument), or ``objective(reporter)`` without a space
    (define-by-run: the objective suggests its own parameters on the reporter, which is the
    Optuna trial with ``hpo.pruners.Reporter``'s additions)."""
    if not space:
        return objective(Reporter(trial))
    if takes_trial(objective):
        return objective(params, Reporter(trial))
    return objective(params)


def _tell_failure(study, trial, reason: str) -> optuna.trial.FrozenTrial:
    with deferred_interrupt() as interrupted:
        trial.set_user_attr("error", reason)
        frozen = study.tell(trial, state=TrialState.FAIL)
    if interrupted:
        raise KeyboardInterrupt
    return frozen


def _heartbeat(trial_id: int, storage):
    """Optuna's heartbeat thread for the block, always stopped. Its own context manager
    starts a non-daemon thread in ``__enter__``, and a Ctrl-C landing between the start and
    the ``with`` body would skip ``__exit__``: the thread would then keep the interpreter
    from exiting. ``running`` starts and stops it with Ctrl-C held off."""

    def start():
        thread = get_heartbeat_thread(trial_id, storage)
        thread.start()
        return thread

    return running(start, lambda thread: thread.join())


def check_time_limit(seconds: float | None, n_jobs: int = 1) -> None:
    """Refuse a per-trial time limit where it cannot hold: it is a signal (SIGALRM), which
    only the main thread receives, so it needs ``n_jobs=1`` and the main thread."""
    if not seconds:
        return
    if n_jobs != 1:
        raise UserError(
            f"timeout_per_trial={seconds} needs n_jobs=1, got n_jobs={n_jobs}: the limit is a signal to the "
            "main thread and cannot stop a trial in another thread; run parallel trials with a time limit as "
            "hpo worker processes, or drop timeout_per_trial"
        )
    if threading.current_thread() is not threading.main_thread():
        raise UserError(
            f"timeout_per_trial={seconds} needs the main thread (the limit is a SIGALRM signal), but this call "
            f"runs in thread {threading.current_thread().name!r}; call it from the main thread or drop "
            "timeout_per_trial"
        )


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    """Raise ``TrialTimeoutError`` in the block after ``seconds`` (SIGALRM; the caller
    checked ``check_time_limit``).

    Python code is interrupted at once; a long call into C (one big BLAS or libsvm call)
    is interrupted when it returns to Python.
    """
    if not seconds:
        yield
        return

    def expire(signum, frame):
        raise TrialTimeoutError(f"objective ran past the per-trial time limit of {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _check_values(raw: Any, n_objectives: int) -> float | list[float]:
    if n_objectives == 1:
        values = [raw]
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        values = list(raw)
    else:
        raise TypeError(f"objective returned {raw!r}; expected a sequence of {n_objectives} floats")
    if len(values) != n_objectives:
        raise TypeError(f"objective returned {len(values)} values; expected {n_objectives}")
    checked = []
    for value in values:
        if isinstance(value, (bool, str, bytes)):
            raise TypeError(f"objective returned {value!r}; expected a float")
        try:
            value = float(value)  # numpy and torch scalars too
        except (TypeError, ValueError):
            raise TypeError(f"objective returned {value!r}; expected a float") from None
        if not math.isfinite(value):
            raise NonFiniteObjectiveError(f"objective returned {value}")
        checked.append(value)
    return checked[0] if n_objectives == 1 else checked
