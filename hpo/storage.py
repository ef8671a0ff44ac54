"""Opening Optuna storages the way the toolkit needs them.

RDB URLs (SQLite, PostgreSQL, MySQL) get heartbeats, so that a trial whose worker died
(SIGKILL, power loss) turns FAIL after a grace period instead of staying RUNNING forever,
and optionally retries of such trials. URLs are shown with their password masked.
"""

from __future__ import annotations

import os
import re
import warnings

import optuna

from hpo.errors import UserError

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
) -> optuna.storages.BaseStorage | None:
    """An Optuna storage from a URL; storage objects and ``None`` (in memory) pass through.

    ``max_retry`` re-enqueues a trial failed by the heartbeat check up to that many times
    (Optuna's ``RetryFailedTrialCallback``), with the same parameters.
    """
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if not isinstance(storage, str):
        raise UserError(f"storage must be a URL string or an Optuna storage, got {type(storage).__name__}")
    try:
        if "://" in storage and not storage.startswith(("redis", "grpc")):
            callback = optuna.storages.RetryFailedTrialCallback(max_retry=max_retry) if max_retry else None
            with warnings.catch_warnings():  # heartbeats are "experimental" since Optuna 2.9
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    storage,
                    engine_kwargs={"pool_pre_ping": True} if not storage.startswith("sqlite") else None,
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period if heartbeat_interval else None,
                    failed_trial_callback=callback,
                )
        return optuna.storages.get_storage(storage)
    except Exception as err:  # sqlalchemy and driver errors of many types: name the culprit
        raise UserError(f"storage {redact_url(storage)!r}: cannot open it ({first_line(err)})") from None


def redact_url(url: str) -> str:
    """A storage URL with its password replaced, fit for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^/]*@", r"\1***@", url)


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
