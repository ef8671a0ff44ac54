"""``hpo.tune``: run an Optuna study with a registry optimizer, robustly.

The loop is Optuna's ask-and-tell interface, so that every trial ends in the storage with a
state and, for failures, the reason: an objective that raises or returns NaN/inf marks its
trial FAIL (user attribute ``error``) and the run goes on; Ctrl-C marks the running trial
FAIL, keeps every finished one and re-raises. With a storage and a study name a rerun loads
the study and runs only the trials still missing from the requested total.
"""

from __future__ import annotations

import contextlib
import math
import re
import signal
import threading
import numbers
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState
from tqdm.auto import tqdm

from hpo.errors import UserError
from hpo.optimizers import make_sampler
from hpo.space import as_space

Objective = Callable[[dict[str, Any]], float | Sequence[float]]

_FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)
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
        return self.study.best_trial.params

    @property
    def best_value(self) -> float:
        return self.study.best_value

    @property
    def best_trials(self) -> list[optuna.trial.FrozenTrial]:
        """The Pareto-optimal trials (multi-objective) or the best trial, as a list."""
        return self.study.best_trials

    @property
    def history(self) -> pd.DataFrame:
        """One row per trial: number, state, value(s), ``params_*``, ``user_attrs_error``,
        times, and for one objective the ``best_so_far`` curve over completed trials."""
        return history_frame(self.study)


def history_frame(study: optuna.Study) -> pd.DataFrame:
    frame = study.trials_dataframe()
    if frame.empty:
        return frame
    frame["state"] = frame["state"].astype(str)
    if len(study.directions) == 1 and "value" in frame:
        values = frame["value"].where(frame["state"] == "COMPLETE")
        if study.direction == optuna.study.StudyDirection.MAXIMIZE:
            frame["best_so_far"] = values.cummax()
        else:
            frame["best_so_far"] = values.cummin()
    return frame


def tune(
    objective: Objective,
    space: Mapping[str, Any],
    *,
    optimizer: str | optuna.samplers.BaseSampler = "tpe",
    n_trials: int = 100,
    direction: str = "minimize",
    directions: Sequence[str] | None = None,
    seed: int | None = None,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    show_progress_bar: bool = False,
) -> TuneResult:
    """Minimize or maximize ``objective`` over ``space``; return a ``TuneResult``.

    Parameters
    ----------
    objective:
        Called with a dict of parameter values; returns a float, or a sequence of floats
        (one per entry of ``directions``). Exceptions and NaN/inf make the trial FAIL.
    space:
        Maps names to Optuna distributions (or their dict form, see ``hpo.space``).
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
        name; an existing study of that name is resumed.
    show_progress_bar:
        A tqdm bar over trials with the best value so far.
    """
    space = as_space(space)
    if not callable(objective):
        raise UserError(f"objective must be callable, got {type(objective).__name__}")
    if isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral) or n_trials < 1:
        raise UserError(f"n_trials must be a positive integer, got {n_trials!r}")
    if directions is None:
        directions = [direction]
    directions = list(directions)
    if not directions:
        raise UserError("directions must name at least one direction")
    for value in directions:
        if value not in _DIRECTIONS:
            raise UserError(f"direction {value!r} is not allowed; allowed: {', '.join(_DIRECTIONS)}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise UserError(f"seed must be a non-negative integer or None, got {seed!r}")

    study = _open_study(storage, study_name, directions)
    n_finished = sum(t.state in _FINISHED for t in study.get_trials(deepcopy=False))
    if isinstance(optimizer, optuna.samplers.BaseSampler):
        study.sampler = optimizer
    else:
        study.sampler = make_sampler(optimizer, _resume_seed(seed, n_finished), len(directions))

    remaining = max(0, int(n_trials) - n_finished)
    with tqdm(
        total=int(n_trials),
        initial=min(n_finished, int(n_trials)),
        disable=not show_progress_bar,
        desc=study.study_name,
        unit="trial",
    ) as bar:
        for _ in range(remaining):
            run_trial(study, objective, space)
            bar.update(1)
            if len(directions) == 1:
                best = _best_value_or_none(study)
                if best is not None:
                    bar.set_postfix(best=f"{best:.6g}")
    return TuneResult(study)


def _open_study(storage, study_name, directions) -> optuna.Study:
    if isinstance(storage, str):
        try:
            storage = optuna.storages.get_storage(storage)
        except Exception as err:  # sqlalchemy/IO errors of many types: name the culprit
            raise UserError(f"storage {redact_url(storage)!r}: cannot open it ({_first_line(err)})") from None
    try:
        return optuna.create_study(
            storage=storage, study_name=study_name, directions=directions, load_if_exists=True
        )
    except ValueError as err:  # e.g. an existing study with other directions
        raise UserError(f"study {study_name!r}: {err}") from None


def redact_url(url: str) -> str:
    """A storage URL with its password replaced, fit for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^/]*@", r"\1***@", url)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


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


def run_trial(study: optuna.Study, objective: Objective, space: Mapping[str, Any]) -> optuna.trial.FrozenTrial:
    """Ask one trial over ``space``, evaluate it, tell the outcome; never raises for
    objective failures (the trial is FAIL with user attribute ``error``)."""
    # Ctrl-C is held during storage writes (ask, tell), so that a trial is never left
    # RUNNING: an interrupt that arrives there fails the trial, then propagates.
    with _deferred_interrupt() as interrupted:
        trial = study.ask(fixed_distributions=dict(space))
    try:
        if interrupted:
            raise KeyboardInterrupt
        raw = objective(dict(trial.params))
        values = _check_values(raw, len(study.directions))
    except KeyboardInterrupt:
        with _deferred_interrupt():
            trial.set_user_attr("error", "KeyboardInterrupt: interrupted by the user")
            study.tell(trial, state=TrialState.FAIL)
        raise
    except Exception as err:  # the objective's own failure: record it, go on
        reason = f"{type(err).__name__}: {err}"
        optuna.logging.get_logger("hpo").warning(
            "Trial %d failed: %s\n%s", trial.number, reason, traceback.format_exc(limit=3)
        )
        with _deferred_interrupt() as interrupted:
            trial.set_user_attr("error", reason)
            frozen = study.tell(trial, state=TrialState.FAIL)
    else:
        with _deferred_interrupt() as interrupted:
            frozen = study.tell(trial, values)
    if interrupted:
        raise KeyboardInterrupt
    return frozen


@contextlib.contextmanager
def _deferred_interrupt():
    """Record SIGINT instead of raising inside the block; yields the list of signals
    received. Outside the main thread (signals cannot be handled there) and where SIGINT
    is ignored, a no-op."""
    received: list[int] = []
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is signal.SIG_IGN):
        yield received
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)


class NonFiniteObjectiveError(ValueError):
    """The objective returned NaN or an infinity."""


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
