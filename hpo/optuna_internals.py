"""Every private Optuna name the trial loop uses, each behind one function.

Optuna's public API has no atomic pop of a queued trial that holds on SQLite, no way for a
loop other than ``Study.optimize`` to honour ``Study.stop()``, and no public heartbeat
thread. Each function below wraps one private use. They were checked against Optuna
``CHECKED`` (the releases out of the range ``pyproject.toml`` allows), and ``tests/hpo/test_optuna_internals.py``
exercises each one through its behaviour, so a release that changes one fails the suite
instead of the trial loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

import optuna
from optuna.storages._heartbeat import get_heartbeat_thread, is_heartbeat_enabled  # noqa: F401  (re-exported)
from optuna.trial import TrialState

CHECKED = "5.0 to 5.1"


def storage_of(study: optuna.Study) -> optuna.storages.BaseStorage:
    """The storage object a study reads and writes (``Study._storage``)."""
    return study._storage


def study_id(study: optuna.Study) -> int:
    """The study's id in its storage (``Study._study_id``): what the storage API takes."""
    return study._study_id


def trial_id(trial: optuna.Trial | optuna.trial.FrozenTrial) -> int:
    """A trial's id in its storage (``_trial_id``)."""
    return trial._trial_id


def rdb_backend(storage: optuna.storages.BaseStorage | None) -> optuna.storages.RDBStorage | None:
    """The ``RDBStorage`` behind ``storage`` (Optuna wraps RDB storages in a cache,
    ``_CachedStorage._backend``), or ``None`` for other storages."""
    backend = getattr(storage, "_backend", storage)
    return backend if isinstance(backend, optuna.storages.RDBStorage) else None


def forget_cached_trials(study: optuna.Study) -> None:
    """Make the study's next read of its trials go to the storage, as ``Study.ask`` does
    (``Study._thread_local.cached_all_trials``)."""
    study._thread_local.cached_all_trials = None


@contextlib.contextmanager
def optimize_loop(study: optuna.Study) -> Iterator[None]:
    """Mark this thread as running the study's trial loop, as ``Study.optimize`` does, so
    that ``Study.stop()`` from a callback or an objective is allowed
    (``Study._thread_local.in_optimize_loop``); ``stop_requested`` then says so."""
    local = study._thread_local
    before = local.in_optimize_loop
    local.in_optimize_loop = True
    try:
        yield
    finally:
        local.in_optimize_loop = before


def stop_requested(study: optuna.Study) -> bool:
    """Whether ``Study.stop()`` was called since ``clear_stop`` (``Study._stop_flag``)."""
    return bool(study._stop_flag)


def clear_stop(study: optuna.Study) -> None:
    """Forget an earlier ``Study.stop()``: a new run of the study starts (``Study._stop_flag``)."""
    study._stop_flag = False


def claim_waiting(storage: optuna.storages.BaseStorage, waiting_id: int) -> bool:
    """Move a trial from WAITING to RUNNING; ``False`` if another worker took it first.

    Optuna's own pop reads the state, then writes RUNNING: on SQLite, which has no ``SELECT
    ... FOR UPDATE``, two processes (or threads) can both read WAITING and run the same
    trial. Here the RDB update is one conditional ``UPDATE ... WHERE state = 'WAITING'``,
    atomic on every database, and its row count says who won (``optuna.storages._rdb``)."""
    backend = rdb_backend(storage)
    if backend is None:
        try:
            return storage.set_trial_state_values(waiting_id, state=TrialState.RUNNING)
        except optuna.exceptions.UpdateFinishedTrialError:
            return False
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    with _create_scoped_session(backend.scoped_session) as session:
        updated = (
            session.query(models.TrialModel)
            .filter(models.TrialModel.trial_id == waiting_id, models.TrialModel.state == TrialState.WAITING)
            .update({models.TrialModel.state: TrialState.RUNNING}, synchronize_session=False)
        )
        if updated == 1:  # won: the start time, through the model's own setter (UTC in the table)
            models.TrialModel.find_or_raise_by_id(waiting_id, session).datetime_start = datetime.now()
    return updated == 1
