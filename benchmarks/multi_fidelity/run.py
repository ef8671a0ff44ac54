"""One multi-fidelity run: a pruner over a learning-curve table, epoch by epoch.

A run takes the configurations of one table (``benchmarks.multi_fidelity.curve_tables``) in
an order drawn from its seed, as a random sampler proposes them, and trains each epoch by
epoch through an Optuna study: the validation error after each epoch is reported, and the
trial asks the study's pruner whether to stop (``trial.should_prune()``, at every epoch
before the last). The run ends when its budget of epochs is spent or the table is
exhausted. An entry ending in ``-resume`` pauses what it prunes and, once the table is
exhausted, spends the rest of the budget resuming the paused trials the pruner ranks first
(``hpo.checkpoints``; a table's curve goes on where it stopped, as from a checkpoint), each
judged again by the pruner. What it records: each completed trial's final error with the epochs spent when it
completed (the incumbent's trace), the trials completed and pruned, and the seconds the
pruner took per decision.

Entries (``ENTRIES``): the pruner registry's Optuna configurations (``hpo.pruners``), the
hand-set extrapolation rule, the shipped scheduler agents (``hpo.agents.scheduler``), and
the SAC-HMR scheduler meta-trained with the run's dataset left out (``LEFT_OUT_ENTRY``,
``benchmarks.multi_fidelity.meta``); the schedulers are told the run's budget in epochs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import optuna
from optuna.trial import TrialState

from benchmarks.multi_fidelity.curve_tables import load_curves
from hpo.checkpoints import START_STEP, create_resumption, mark_paused, set_checkpoints
from hpo.optuna_internals import storage_of
from hpo.pruners import make_pruner
from hpo.validation import MAX_TRIALS

OPTUNA_ENTRIES = ("none", "median", "percentile", "successive-halving", "hyperband", "wilcoxon", "dynamics")
SCHEDULER_ENTRIES = {"extrapolation": "extrapolation", "sac-hmr": "sac-hmr-scheduler", "sac-no-hmr": "sac-scheduler"}
# The shipped SAC-HMR scheduler meta-trained on the other datasets' tables (benchmarks.multi_fidelity.meta).
LEFT_OUT_ENTRY = "sac-hmr-lodo"
RESUME = "-resume"  # the suffix of an entry that pauses and resumes
RESUME_ENTRIES = tuple(f"{entry}{RESUME}" for entry in ("dynamics", "extrapolation", "sac-hmr", LEFT_OUT_ENTRY))
ENTRIES = (*OPTUNA_ENTRIES, *SCHEDULER_ENTRIES, LEFT_OUT_ENTRY, *RESUME_ENTRIES)
DEFAULT_TRAININGS = 20  # a run's budget in full trainings of the table's epochs


@dataclass
class RunResult:
    entry: str
    model: str
    dataset: str
    seed: int
    budget: int
    epochs: int
    spent: int = 0
    completed: list[tuple[int, float]] = field(default_factory=list)  # (epochs spent, final error)
    pruned: int = 0
    resumed: int = 0
    decisions: int = 0
    decision_seconds: float = 0.0


def make_entry_pruner(entry: str, *, budget: int, agent: str | None = None) -> optuna.pruners.BasePruner:
    """The pruner of ``entry``; ``agent``: the saved agent of ``LEFT_OUT_ENTRY``."""
    entry = entry.removesuffix(RESUME)
    if entry in OPTUNA_ENTRIES:
        return make_pruner(entry)
    if entry == LEFT_OUT_ENTRY:
        from hpo.agents.persistence import load_agent
        from hpo.agents.scheduler import AgentPolicy, SchedulerPruner

        if agent is None:
            raise ValueError(f"entry {entry!r} needs its meta-trained agent")
        return SchedulerPruner(AgentPolicy(load_agent(agent, device="cpu", buffer_size=1)), budget=budget)
    if entry not in SCHEDULER_ENTRIES:
        raise ValueError(f"entry {entry!r} is unknown; allowed: {', '.join(ENTRIES)}")
    from hpo.agents.scheduler import from_registry

    return from_registry(SCHEDULER_ENTRIES[entry], budget=budget)


def run(
    entry: str, *, model: str, dataset: str, seed: int, trainings: float = DEFAULT_TRAININGS, agent: str | None = None
) -> RunResult:
    """Run ``entry`` on the table of ``model`` on ``dataset`` (see the module docstring);
    ``agent``: the saved agent of ``LEFT_OUT_ENTRY``."""
    _, curves = load_curves(model, dataset)
    epochs = curves.shape[1]
    budget = int(round(trainings * epochs))
    result = RunResult(entry, model, dataset, seed, budget, epochs)
    study = optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=seed),
        pruner=make_entry_pruner(entry, budget=budget, agent=agent),
        # Hyperband assigns a trial's bracket from the study's name: a fixed one repeats a run
        study_name=f"{model}-{dataset}-{seed}",
    )
    pause = entry.endswith(RESUME)
    for index in np.random.default_rng(seed).permutation(len(curves)):
        if result.spent >= budget:
            break
        trial = study.ask()
        if pause:
            trial.set_user_attr(ROW, int(index))
        _train(study, trial, curves[index], result=result, pause=pause)
    if pause:
        set_checkpoints(study, None, resumes=MAX_TRIALS)
        storage = storage_of(study)
        while result.spent < budget:
            created = create_resumption(study, storage, study.get_trials(deepcopy=False))
            if created is None:
                break
            trial = optuna.Trial(study, created)
            result.resumed += 1
            _train(study, trial, curves[trial.user_attrs[ROW]], result=result, pause=pause)
    return result


ROW = "row"  # the table row a trial trains


def _train(study: optuna.Study, trial: optuna.Trial, values: np.ndarray, *, result: RunResult, pause: bool) -> None:
    """Train ``trial`` along the curve ``values`` from its start step (0, or a resumption's),
    asking the pruner after each epoch before the last, and tell the outcome."""
    epochs, state = len(values), TrialState.COMPLETE
    for epoch in range(int(trial.user_attrs.get(START_STEP, 0)) + 1, epochs + 1):
        if result.spent >= result.budget:
            state = TrialState.PRUNED  # cut by the budget: unfinished, as a pruned trial
            break
        trial.report(float(values[epoch - 1]), epoch)
        result.spent += 1
        if epoch < epochs:
            started = time.perf_counter()
            stop = trial.should_prune()
            result.decision_seconds += time.perf_counter() - started
            result.decisions += 1
            if stop:
                state = TrialState.PRUNED
                break
    if state == TrialState.COMPLETE:
        study.tell(trial, float(values[-1]))
        result.completed.append((result.spent, float(values[-1])))
        return
    if pause:
        mark_paused(study, trial)
    study.tell(trial, state=TrialState.PRUNED)
    result.pruned += 1
