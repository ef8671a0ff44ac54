"""Pause and resume (freeze-thaw): a pruned trial whose objective saved a checkpoint is
paused, and may later be resumed from it instead of being trained again.

The protocol (``docs/multi_fidelity.md``, "Pause and resume"):

* ``hpo.tune(..., checkpoint_dir=DIR, resumes=K)`` stores ``DIR`` and ``K`` in the study
  (``set_checkpoints``), so that ``hpo worker`` processes joining it follow them too.
* Every trial's reporter has ``reporter.checkpoint``: the directory ``DIR/trial-N`` of its
  chain (``N``: the number of the chain's first trial), created on first use. The objective
  saves its state there after each step, before it reports the step.
* A trial pruned while its checkpoint directory holds a file is **paused**: user attribute
  ``hpo:paused_at`` is its last reported step.
* Once the study holds its budget of new trials, each worker's next trial may be a
  **resumption** (at most ``K`` in all): a new trial with the paused trial's parameters, its
  intermediate values up to ``hpo:paused_at`` copied, and user attributes
  ``hpo:resumed_from`` (the paused trial's number) and ``hpo:start_step``. Its reporter says
  ``reporter.resumed`` and ``reporter.start_step``: the objective loads
  ``reporter.checkpoint`` and trains from step ``start_step + 1``. The pruner judges it again
  and may pause it again.
* Which paused trial comes first: the pruner's ``resume_order(study, paused)`` where it has
  one (the multi-fidelity scheduler orders by the extrapolated final value of each curve),
  else the best last reported value. A paused trial is resumed once: the choice and the
  creation happen under the storage's lock (``hpo.storage.exclusive``, held by the caller),
  so two workers never resume the same trial.

Resumptions do not count toward ``n_trials`` (the number of configurations); ``K`` bounds them.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from hpo.errors import UserError
from hpo.optuna_internals import storage_of, study_id, trial_id
from hpo.validation import MAX_TRIALS

DIRECTORY_KEY = "hpo:checkpoint_dir"  # study: where the trials' checkpoints live
RESUMES_KEY = "hpo:resumes"  # study: how many resumptions the run may make
PAUSED_AT = "hpo:paused_at"  # trial: the last step of a paused trial
RESUMED_FROM = "hpo:resumed_from"  # trial: the number of the paused trial it resumes
START_STEP = "hpo:start_step"  # trial: the step its checkpoint holds
CHAIN = "hpo:chain"  # trial: the number of its chain's first trial (names the directory)


def set_checkpoints(study: optuna.Study, directory: str | Path | None, resumes: int) -> None:
    """Store the checkpoint directory (absolute) and the number of resumptions in the study."""
    if directory is not None:
        study.set_user_attr(DIRECTORY_KEY, str(Path(directory).expanduser().resolve()))
    study.set_user_attr(RESUMES_KEY, int(resumes))


def checkpoint_dir(study: optuna.Study) -> Path | None:
    value = study.user_attrs.get(DIRECTORY_KEY)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise UserError(f"study {study.study_name!r}: its {DIRECTORY_KEY!r} is {value!r:.80}; allowed: a path")
    return Path(value)


def resume_budget(study: optuna.Study) -> int:
    """The number of resumptions the study may hold (0 without checkpoints); read from a
    storage that others can write, so it is checked."""
    value = study.user_attrs.get(RESUMES_KEY, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TRIALS:
        raise UserError(
            f"study {study.study_name!r}: its stored {RESUMES_KEY!r} is {value!r:.80}; "
            f"allowed: an integer from 0 to {MAX_TRIALS} (set by hpo.tune's resumes)"
        )
    return value


def is_resumption(trial: FrozenTrial) -> bool:
    return RESUMED_FROM in trial.user_attrs


def chain(trial: FrozenTrial | optuna.Trial) -> int:
    """The number of the first trial of ``trial``'s chain of resumptions."""
    return int(trial.user_attrs.get(CHAIN, trial.number))


def checkpoint_path(directory: Path, trial: FrozenTrial | optuna.Trial) -> Path:
    return directory / f"trial-{chain(trial)}"


def holds_checkpoint(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def mark_paused(study: optuna.Study, trial: optuna.Trial) -> None:
    """Record ``trial`` (about to be told PRUNED) as paused at its last reported step; a
    trial that reported nothing is not paused."""
    steps = storage_of(study).get_trial(trial_id(trial)).intermediate_values
    if steps:
        trial.set_user_attr(PAUSED_AT, int(max(steps)))


def paused_trials(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """The paused trials that no trial resumes yet."""
    resumed = {t.user_attrs[RESUMED_FROM] for t in trials if is_resumption(t)}
    return [t for t in trials if t.state == TrialState.PRUNED and PAUSED_AT in t.user_attrs and t.number not in resumed]


def resume_order(study: optuna.Study, paused: list[FrozenTrial]) -> list[FrozenTrial]:
    """``paused``, the one to resume first first: by the pruner's ``resume_order`` where it has
    one, else by the best last reported value (the later step on a tie)."""
    order = getattr(study.pruner, "resume_order", None)
    if callable(order):
        return list(order(study, paused))
    sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0

    def key(trial: FrozenTrial) -> tuple[float, int]:
        step = trial.user_attrs[PAUSED_AT]
        return sign * trial.intermediate_values[step], -step

    return sorted(paused, key=key)


def resumption(paused: FrozenTrial) -> FrozenTrial:
    """The template of the trial that resumes ``paused``: RUNNING, its parameters, its curve up
    to the paused step, its user attributes (what the objective recorded) and those that say
    where it starts."""
    step = int(paused.user_attrs[PAUSED_AT])
    attrs = {key: value for key, value in paused.user_attrs.items() if key != PAUSED_AT}
    return FrozenTrial(
        number=-1,
        state=TrialState.RUNNING,
        value=None,
        datetime_start=datetime.datetime.now(),
        datetime_complete=None,
        params=dict(paused.params),
        distributions=dict(paused.distributions),
        user_attrs={**attrs, RESUMED_FROM: paused.number, START_STEP: step, CHAIN: chain(paused)},
        system_attrs={},
        intermediate_values={s: v for s, v in paused.intermediate_values.items() if s <= step},
        trial_id=-1,
    )


def create_resumption(study: optuna.Study, storage, trials: list[FrozenTrial]) -> int | None:
    """Create the trial that resumes the first paused trial (``resume_order``) and return its
    id, or ``None`` when the study's resumptions are spent or nothing is paused. The caller
    holds the storage's lock, and ``trials`` are the study's trials read under it."""
    if sum(is_resumption(t) for t in trials) >= resume_budget(study):
        return None
    paused = paused_trials(trials)
    if not paused:
        return None
    first = resume_order(study, paused)[0]
    return storage.create_new_trial(study_id(study), template_trial=resumption(first))
