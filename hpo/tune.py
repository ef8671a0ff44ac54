"""``hpo.tune``: run an Optuna study with a registry optimizer, robustly.

Every trial ends in the storage with a state and, for failures, the reason: an objective
that raises or returns NaN/inf marks its trial FAIL (user attribute ``error``) and the run
goes on; Ctrl-C marks the running trial FAIL, keeps every finished one and re-raises. With a
storage and a study name a rerun loads the study and runs only the trials still missing
from the requested total. How trials run is ``hpo.trials``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd
from tqdm.auto import tqdm

from hpo.errors import UserError
from hpo.optimizers import make_sampler
from hpo.space import as_space
from hpo.storage import open_storage
from hpo.trials import FINISHED, Objective, add_budget, work
from hpo.validation import check_int, check_seed

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
    frame = frame[frame["state"] != "WAITING"].reset_index(drop=True)  # budget not yet run
    if frame.empty:
        return frame
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
    timeout_per_trial: float | None = None,
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
    timeout_per_trial:
        Seconds after which a running objective is stopped and its trial fails (main
        thread only; see ``hpo.trials``).

    Several processes can share one study: create it with ``tune`` (which sets the
    budget), then join with ``hpo.trials.work`` or ``hpo worker``; see ``hpo.trials``.
    """
    space = as_space(space)
    if not callable(objective):
        raise UserError(f"objective must be callable, got {type(objective).__name__}")
    check_int("n_trials", n_trials, 1)
    if directions is None:
        directions = [direction]
    directions = list(directions)
    if not directions:
        raise UserError("directions must name at least one direction")
    for value in directions:
        if value not in _DIRECTIONS:
            raise UserError(f"direction {value!r} is not allowed; allowed: {', '.join(_DIRECTIONS)}")
    check_seed(seed)

    if timeout_per_trial is not None and not (isinstance(timeout_per_trial, numbers.Real) and timeout_per_trial > 0):
        raise UserError(f"timeout_per_trial must be a positive number of seconds, got {timeout_per_trial!r}")

    study = prepare_study(storage, study_name, directions, optimizer, seed, int(n_trials))
    n_finished = sum(t.state in FINISHED for t in study.get_trials(deepcopy=False))
    with tqdm(
        total=len(study.get_trials(deepcopy=False)),
        initial=n_finished,
        disable=not show_progress_bar,
        desc=study.study_name,
        unit="trial",
    ) as bar:

        def advance(trial: optuna.trial.FrozenTrial) -> None:
            bar.update(1)
            if len(directions) == 1:
                best = _best_value_or_none(study)
                if best is not None:
                    bar.set_postfix(best=f"{best:.6g}")

        work(study, objective, space, timeout_per_trial=timeout_per_trial, on_trial=advance)
    return TuneResult(study)


def prepare_study(storage, study_name, directions, optimizer, seed: int | None, n_trials: int) -> optuna.Study:
    """Create or load the study, set its sampler and its budget of ``n_trials`` trials.

    Only the process that prepares a study adds to its budget; workers that join it
    (``hpo.worker``) only run what is left.
    """
    study = open_study(storage, study_name, directions)
    n_finished = sum(t.state in FINISHED for t in study.get_trials(deepcopy=False))
    if isinstance(optimizer, optuna.samplers.BaseSampler):
        study.sampler = optimizer
    else:
        study.sampler = make_sampler(optimizer, _resume_seed(seed, n_finished), len(directions), n_trials)
    add_budget(study, n_trials)
    return study


def open_study(storage, study_name, directions) -> optuna.Study:
    """Create or load a study; a storage URL gets heartbeats (see ``hpo.storage``)."""
    storage = open_storage(storage)
    try:
        return optuna.create_study(storage=storage, study_name=study_name, directions=directions, load_if_exists=True)
    except ValueError as err:  # e.g. an existing study with other directions
        raise UserError(f"study {study_name!r}: {err}") from None


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
