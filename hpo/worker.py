"""Several processes, one study: the worker loop of ``hpo worker``.

``hpo tune`` (``hpo.tune`` with ``worker_objective=``) records in the study what a worker
needs to run its trials (``hpo.study_record``): the built-in task or the ``MODULE:FUNCTION``
objective, the search space, the optimizer and the seed. ``hpo worker`` (``run_worker``) loads
the study from the shared storage, rebuilds the objective and the sampler (with a seed of its
own: the same seed in every worker would duplicate suggestions), and runs trials until the
study's budget is spent (``hpo.trials.next_trial``). The sampler's state comes from the storage, never
from the process.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

import numpy as np
import optuna

from hpo.errors import UserError
from hpo.loading import load_callable
from hpo.optimizers import make_sampler
from hpo.optuna_internals import clear_stop
from hpo.storage import open_storage, redact_url
from hpo.study_record import read_study_record, record_space
from hpo.trials import FailFast, Objective, budget, work
from hpo.validation import check_real, check_seed


def resolve(record: Mapping[str, Any], study_name: str = "?") -> tuple[Objective, dict[str, Any]]:
    """The objective function and the search space a study record names (its space checked as
    a space file is, ``hpo.study_record.record_space``)."""
    reference = record["worker_objective"]
    if ":" not in reference:  # a built-in task's name
        from hpo.tasks import get_task

        task = get_task(reference)
        return task.objective, task.space
    return load_objective(reference), record_space(record, study_name)


def check_runs(record: Mapping[str, Any], *, task: str | None, objective: str | None) -> None:
    """Refuse unless the record names exactly the code the worker's operator named. The record
    is stored in the study, so anyone who can write the storage can change it; a worker runs
    only what its own command line names."""
    stored, given = record["worker_objective"], task or objective
    if stored == given:
        return
    stored_text = f"objective {stored!r}" if ":" in stored else f"task {stored!r}"
    given_text = f"task {task!r}" if task else f"objective {objective!r}"
    raise UserError(
        f"the study runs {stored_text} (as stored in it) but this worker was started for {given_text}; "
        "a worker runs only the code named on its own command line, never what a storage names"
    )


def load_study(storage: str, study_name: str) -> optuna.Study:
    """Load an existing study; an unknown name is a ``UserError`` listing the known ones."""
    opened = open_storage(storage)
    try:
        return optuna.load_study(study_name=study_name, storage=opened)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(opened)]
        raise UserError(
            f"study {study_name!r} not found in storage {redact_url(storage)!r}; "
            f"studies there: {', '.join(names) or 'none'}"
        ) from None


def worker_seed(base: int | None) -> int:
    """A seed distinct per worker process (host and pid), derived from the study's seed."""
    host = int.from_bytes(socket.gethostname().encode()[:8].ljust(8, b"\0"), "little")
    entropy = [0 if base is None else base, os.getpid(), host]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def run_worker(
    storage: str,
    study_name: str,
    *,
    task: str | None = None,
    objective: str | None = None,
    max_trials: int | None = None,
    seed: int | None = None,
    on_trial=None,
) -> tuple[optuna.Study, int]:
    """Join ``study_name`` in ``storage`` and run its remaining trials (at most
    ``max_trials`` of them); returns the study and the number of trials run here.

    ``task`` (a built-in task name) or ``objective`` (``MODULE:FUNCTION``) names the code this
    worker runs; a study whose record names anything else is refused before any trial."""
    if (task is None) == (objective is None):
        raise UserError("name what this worker runs: a built-in TASK or --objective MODULE:FUNCTION (one of them)")
    study = load_study(storage, study_name)
    record = read_study_record(study)
    check_runs(record, task=task, objective=objective)
    stored_seed = check_seed(record.get("seed"))
    timeout_per_trial = record.get("timeout_per_trial")
    if timeout_per_trial is not None:
        check_real("timeout_per_trial", timeout_per_trial, 0, exclusive_minimum=True)
    objective, space = resolve(record, study.study_name)  # the operator's own references: check_runs made them equal
    study.sampler = make_sampler(
        record["optimizer"],
        seed=worker_seed(stored_seed) if seed is None else seed,
        n_objectives=len(study.directions),
        n_trials=max(budget(study) or 0, len(study.get_trials(deepcopy=False))),
    )
    clear_stop(study)
    fail_fast = FailFast()
    ran = work(
        study,
        objective,
        space,
        max_trials=max_trials,
        timeout_per_trial=timeout_per_trial,
        on_trial=on_trial,
        fail_fast=fail_fast,
    )
    fail_fast.raise_if_tripped()
    return study, ran


def load_objective(reference: str):
    """Import ``MODULE:FUNCTION`` (MODULE dotted and importable, or a path to a .py file)."""
    return load_callable(reference, "--objective")
