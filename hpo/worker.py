"""Several processes, one study: what a study needs to be joined, and the worker loop.

``hpo tune`` records in the study (user attribute ``hpo:spec``) what a worker needs to run
its trials: the built-in task or the ``MODULE:FUNCTION`` objective with its search space,
the optimizer and the seed. ``hpo worker`` (``run_worker``) loads the study from the shared
storage, rebuilds the objective and the sampler (with a seed of its own: the same seed in
every worker would duplicate suggestions), and runs trials from the study's budget queue
until it is empty. The sampler's state comes from the storage, never from the process.
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.distributions import distribution_to_json, json_to_distribution

from hpo.errors import UserError
from hpo.loading import load_callable
from hpo.optimizers import make_sampler
from hpo.storage import open_storage, redact_url
from hpo.trials import Objective, work

SPEC_ATTR = "hpo:spec"


@dataclass
class StudySpec:
    """What defines a study's trials, stored in the study as JSON."""

    optimizer: str
    seed: int | None = None
    task: str | None = None
    objective: str | None = None  # MODULE:FUNCTION
    space: dict[str, str] = field(default_factory=dict)  # name -> distribution JSON
    timeout_per_trial: float | None = None

    def resolve(self) -> tuple[Objective, dict[str, Any]]:
        """The objective function and the search space."""
        if self.task:
            from hpo.tasks import get_task

            task = get_task(self.task)
            return task.objective, task.space
        space = {name: json_to_distribution(text) for name, text in self.space.items()}
        return load_objective(self.objective), space


def save_spec(study: optuna.Study, spec: StudySpec) -> None:
    study.set_user_attr(SPEC_ATTR, asdict(spec))


def spec_for(optimizer: str, seed, *, task=None, objective=None, space=None, timeout_per_trial=None) -> StudySpec:
    return StudySpec(
        optimizer=optimizer,
        seed=seed,
        task=task,
        objective=objective,
        space={name: distribution_to_json(d) for name, d in (space or {}).items()} if not task else {},
        timeout_per_trial=timeout_per_trial,
    )


def load_spec(study: optuna.Study) -> StudySpec:
    data = study.user_attrs.get(SPEC_ATTR)
    if not isinstance(data, dict):
        raise UserError(
            f"study {study.study_name!r} was not created by 'hpo tune' (no {SPEC_ATTR!r} "
            "attribute): workers do not know its objective"
        )
    return StudySpec(**data)


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
    max_trials: int | None = None,
    seed: int | None = None,
    on_trial=None,
) -> tuple[optuna.Study, int]:
    """Join ``study_name`` in ``storage`` and run its remaining trials (at most
    ``max_trials`` of them); returns the study and the number of trials run here."""
    study = load_study(storage, study_name)
    spec = load_spec(study)
    objective, space = spec.resolve()
    study.sampler = make_sampler(
        spec.optimizer,
        worker_seed(spec.seed) if seed is None else seed,
        len(study.directions),
        n_trials=len(study.get_trials(deepcopy=False)),  # the budget: every trial, queued or done
    )
    ran = work(
        study, objective, space, max_trials=max_trials, timeout_per_trial=spec.timeout_per_trial, on_trial=on_trial
    )
    return study, ran


def load_objective(reference: str):
    """Import ``MODULE:FUNCTION`` (MODULE dotted and importable, or a path to a .py file)."""
    return load_callable(reference, "--objective")
