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
from hpo.space import SearchSpace, as_space
from hpo.storage import open_storage, redact_url
from hpo.trials import Objective, work
from hpo.validation import check_real, check_seed

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
    conditions: dict[str, dict[str, list]] = field(default_factory=dict)  # child -> {parent: values}

    def resolve(self) -> tuple[Objective, dict[str, Any]]:
        """The objective function and the search space."""
        if self.task:
            from hpo.tasks import get_task

            task = get_task(self.task)
            return task.objective, task.space
        space = SearchSpace(
            {name: json_to_distribution(text) for name, text in self.space.items()},
            conditions={child: {p: tuple(v) for p, v in parents.items()} for child, parents in self.conditions.items()},
        )
        return load_objective(self.objective), as_space(space)

    def check_runs(self, *, task: str | None, objective: str | None) -> None:
        """Refuse unless this spec names exactly the code the worker's operator named. The spec
        is stored in the study, so anyone who can write the storage can change it; a worker runs
        only what its own command line names."""
        if (self.task, self.objective) == (task, objective):
            return
        stored = f"task {self.task!r}" if self.task else f"objective {self.objective!r}"
        given = f"task {task!r}" if task else f"objective {objective!r}"
        raise UserError(
            f"the study runs {stored} (as stored in it) but this worker was started for {given}; "
            "a worker runs only the code named on its own command line, never what a storage names"
        )


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
        conditions={
            child: {parent: list(values) for parent, values in parents.items()}
            for child, parents in getattr(space, "conditions", {}).items()
        },
    )


def load_spec(study: optuna.Study) -> StudySpec:
    data = study.user_attrs.get(SPEC_ATTR)
    if not isinstance(data, dict):
        raise UserError(
            f"study {study.study_name!r} was not created by 'hpo tune' (no {SPEC_ATTR!r} "
            "attribute): workers do not know its objective"
        )
    try:
        spec = StudySpec(**data)
    except TypeError:
        raise UserError(f"study {study.study_name!r}: its {SPEC_ATTR!r} attribute is not a study spec") from None
    check_seed(spec.seed)
    if spec.timeout_per_trial is not None:
        check_real("timeout_per_trial", spec.timeout_per_trial, 0, exclusive_minimum=True)
    return spec


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
    worker runs; a study whose stored spec names anything else is refused before any trial."""
    if (task is None) == (objective is None):
        raise UserError("name what this worker runs: a built-in TASK or --objective MODULE:FUNCTION (one of them)")
    study = load_study(storage, study_name)
    spec = load_spec(study)
    spec.check_runs(task=task, objective=objective)
    objective, space = spec.resolve()  # the operator's own references: check_runs made them equal
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
