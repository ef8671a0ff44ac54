"""Opening Optuna storages the way the toolkit needs them.

RDB URLs (SQLite, PostgreSQL as ``postgresql://`` or ``postgres://``, MySQL) get heartbeats,
so that a trial whose worker died (SIGKILL, power loss) turns FAIL after a grace period
instead of staying RUNNING forever, and optionally retries of such trials. URLs are shown with their password masked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import time
import warnings

import optuna

from hpo.errors import UserError
from hpo.optuna_internals import rdb_backend
from hpo.urls import redact_url  # noqa: F401  (re-exported: storage errors and hints show URLs)

# Seconds between a running trial's heartbeats, and without one before a RUNNING trial is
# failed. The environment variables change the defaults for every process of a deployment
# (all workers of a study should agree on them).
HEARTBEAT_INTERVAL = int(os.environ.get("HPO_HEARTBEAT_INTERVAL", "10"))
GRACE_PERIOD = int(os.environ.get("HPO_GRACE_PERIOD", "30"))


def open_storage(
    storage: str | optuna.storages.BaseStorage | None,
    *,
    heartbeat_interval: int | None = HEARTBEAT_INTERVAL,
    grace_period: int | None = GRACE_PERIOD,
    max_retry: int | None = None,
    existing: bool = False,
) -> optuna.storages.BaseStorage | None:
    """An Optuna storage from a URL; storage objects and ``None`` (in memory) pass through.

    ``max_retry`` re-enqueues a trial failed by the heartbeat check up to that many times
    (Optuna's ``RetryHeartbeatStaleTrialCallback``), with the same parameters. ``existing``: a storage
    that is only read (source studies): a SQLite file that does not exist is refused before
    anything is created.
    """
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if not isinstance(storage, str):
        raise UserError(f"storage must be a URL string or an Optuna storage, got {type(storage).__name__}")
    storage = _dialect_spelled_out(storage)
    _refuse_sqlite_in_memory(storage)
    path = _sqlite_file(storage)
    if existing and path is not None and not os.path.isfile(path):
        raise UserError(f"storage {redact_url(storage)!r}: no such SQLite file ({path})")
    try:
        if "://" in storage and not storage.startswith(("redis", "grpc")):
            retry = _retry_options(max_retry)
            for attempt in range(_SCHEMA_ATTEMPTS):
                try:
                    with (
                        _file_lock(storage) if _sqlite_file(storage) else contextlib.nullcontext(),
                        warnings.catch_warnings(),
                    ):  # heartbeats are "experimental" since Optuna 2.9
                        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                        return optuna.storages.RDBStorage(
                            storage,
                            engine_kwargs={"pool_pre_ping": True} if not storage.startswith("sqlite") else None,
                            heartbeat_interval=heartbeat_interval,
                            grace_period=grace_period if heartbeat_interval else None,
                            **retry,
                        )
                except Exception as err:
                    # Two processes creating the tables of a fresh database at once: the
                    # loser's CREATE or version insert fails; once the winner is done, it opens.
                    if attempt + 1 == _SCHEMA_ATTEMPTS or not _schema_race(err):
                        raise
                    time.sleep(0.2 * (attempt + 1))
        return optuna.storages.get_storage(storage)
    except Exception as err:  # sqlalchemy and driver errors of many types: name the culprit
        raise UserError(f"storage {redact_url(storage)!r}: cannot open it ({first_line(err)})") from None


_SCHEMA_ATTEMPTS = 5


def _retry_options(max_retry: int | None) -> dict:
    """``RDBStorage``'s retry of stale trials (Optuna 4.9 renamed the callback and its
    argument and deprecated the old names)."""
    if not max_retry:
        return {}
    return {"heartbeat_stale_trial_callback": optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)}


def _schema_race(err: BaseException) -> bool:
    text = str(err).lower()
    return "alembic_version" in text or "already exists" in text or "database is locked" in text


def _refuse_sqlite_in_memory(url: str) -> None:
    """An in-memory SQLite database dies with the process and no other process can join it: a
    study there would be lost without a word."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return  # not a URL SQLAlchemy reads: opening it gives the error
    memory = parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
    if parsed.get_backend_name() == "sqlite" and memory:
        raise UserError(
            f"storage {redact_url(url)!r} is an in-memory SQLite database: the study would be lost when "
            "this process ends; give a file, e.g. sqlite:///results/hpo.db"
        )


def _dialect_spelled_out(url: str) -> str:
    """``postgres://`` (Heroku's and libpq's spelling, refused by SQLAlchemy since 1.4) as
    ``postgresql://``, with the same driver if one is named (``postgres+psycopg://``)."""
    return re.sub(r"^postgres(?=[+:])", "postgresql", url)


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


@contextlib.contextmanager
def exclusive(storage: optuna.storages.BaseStorage | None):
    """Hold a lock shared by every process that uses ``storage`` for the block: a file lock
    beside a SQLite file, an advisory lock on PostgreSQL, a named lock on MySQL; in memory
    and elsewhere a lock of this process. ``hpo.tune`` creates a study under it, so two runs
    started at once do not both create it, and ``hpo.trials.next_trial`` counts and creates
    trials under it, so workers run exactly the budget."""
    backend = rdb_backend(storage)
    url = backend.url if backend is not None else ""
    if _sqlite_file(url):
        with _file_lock(url):
            yield
    elif url.startswith(("postgresql", "mysql")):
        import sqlalchemy

        take, release = _SQL_LOCKS[url.split(":", 1)[0].split("+", 1)[0]]
        with backend.engine.connect() as connection:
            connection.execute(sqlalchemy.text(take), {"key": _LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text(release), {"key": _LOCK_KEY})
    else:
        with _PROCESS_LOCK:
            yield


_SQL_LOCKS = {  # a lock held by the session until released, whatever the transactions do
    "postgresql": ("SELECT pg_advisory_lock(:key)", "SELECT pg_advisory_unlock(:key)"),
    "mysql": ("SELECT GET_LOCK(CONCAT('hpo-', :key), -1)", "SELECT RELEASE_LOCK(CONCAT('hpo-', :key))"),
}


def _sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL (``None``: not SQLite, or in memory)."""
    if not url.startswith("sqlite:///") or url == "sqlite:///" or ":memory:" in url:
        return None
    return url[len("sqlite:///") :].split("?", 1)[0]


@contextlib.contextmanager
def _file_lock(url: str):
    with open(_sqlite_file(url) + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_LOCK_KEY = 0x68706F  # "hpo": one advisory lock for the toolkit's study preparation
_PROCESS_LOCK = threading.RLock()
