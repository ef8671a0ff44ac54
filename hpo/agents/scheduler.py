"""The multi-fidelity scheduler as an Optuna pruner: a policy decides, at each rung of a
trial's training, whether the trial continues.

``SchedulerPruner(policy)`` reads the study at a trial's report after epoch 1, 2, 4, ...
(``envs.multi_fidelity_env.rungs`` of the last epoch) and builds the observation of the
scheduler's MDP (``envs.multi_fidelity_env.observe``: the trial's partial curve relative to
the other trials and the incumbent, a power-law extrapolation of its final value, its
progress, the budget left); the trial is pruned when the policy says stop. Steps between
rungs are never pruned, so a trial is judged at the epochs the policy was trained on.
Policies:

* ``continue_by_prediction``: the hand-set rule on the same observation (continue while no
  trial completed, or while the extrapolated final value minus its uncertainty could beat
  the incumbent): the ablation a learned policy must beat;
* ``AgentPolicy(agent)``: an SB3 agent's deterministic action, read as the MDP reads it (a
  margin on the same extrapolation test, ``envs.multi_fidelity_env.decide``), e.g. a
  shipped scheduler (``load_scheduler``), pre-trained on synthetic learning curves by
  ``hpo.agents.scheduler_training``.

The registry's ``"sac-hmr"``, ``"sac-no-hmr"`` and ``"extrapolation"`` pruners are built by
``from_registry``. The pruner keeps no state but what cannot change (the last epoch once
known, the curves of finished trials): every decision is computed from the study, so workers
sharing a study decide each of their own trials, once per rung, from the same data.

With pause and resume (``hpo.tune(checkpoint_dir=, resumes=)``, ``hpo.checkpoints``), a
stopped trial that saved a checkpoint is paused, and ``resume_order`` puts the paused trials
with the best extrapolated final value first; a resumption's curve replaces the paused
trial's among the others.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
from optuna.pruners import BasePruner
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from envs.multi_fidelity_env import decide, extrapolate, observe, rungs
from hpo.checkpoints import PAUSED_AT, RESUMED_FROM, START_STEP
from hpo.errors import UserError
from hpo.trials import budget as stored_budget
from hpo.validation import check_int

Policy = Callable[[np.ndarray], bool]
SCHEDULERS = {
    "sac-hmr-scheduler": "SAC-HMR scheduler pre-trained on synthetic learning curves (seed 0)",
    "sac-scheduler": "the same with plain SAC (no HMR), the HMR ablation (seed 0)",
}


def continue_by_prediction(observation: np.ndarray) -> bool:
    """Continue while no trial completed, or while the trial's extrapolated final value, less
    its uncertainty, is at most the incumbent's: the threshold action 0 of the MDP."""
    return decide(observation, 0.0, "threshold")


class AgentPolicy:
    """An SB3 agent's deterministic decision on an observation, its action read as
    ``actions`` (``envs.multi_fidelity_env.decide``)."""

    def __init__(self, agent, actions: str = "threshold"):
        self.agent, self.actions = agent, actions
        self._layers = _actor_layers(agent)

    def action(self, observation: np.ndarray) -> float:
        """The deterministic action: ``tanh`` of the actor's mean, computed in NumPy from the
        actor's weights (SB3's ``predict`` takes about 0.3 ms a call, a pruner decides once per
        rung of every trial), or by ``predict`` for an actor of another shape."""
        if self._layers is None:
            action, _ = self.agent.predict(np.asarray(observation, dtype=np.float32), deterministic=True)
            return float(np.asarray(action).reshape(-1)[0])
        hidden = np.asarray(observation, dtype=np.float32)
        for weight, bias in self._layers[:-1]:
            hidden = np.maximum(weight @ hidden + bias, 0.0)
        weight, bias = self._layers[-1]
        return float(np.tanh(weight @ hidden + bias)[0])

    def __call__(self, observation: np.ndarray) -> bool:
        return decide(observation, self.action(observation), self.actions)


def _actor_layers(agent) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The (weight, bias) of an SB3 SAC actor's ReLU layers and its mean head, or ``None``
    when the actor is not that plain MLP (another activation, state-dependent exploration)."""
    import torch
    from stable_baselines3.common.torch_layers import FlattenExtractor

    actor = getattr(agent, "actor", None)
    if actor is None or getattr(actor, "use_sde", False) or not isinstance(actor.features_extractor, FlattenExtractor):
        return None
    modules = list(actor.latent_pi)
    if not all(isinstance(m, (torch.nn.Linear, torch.nn.ReLU)) for m in modules):
        return None
    linear = [m for m in modules if isinstance(m, torch.nn.Linear)] + [actor.mu]
    return [(m.weight.detach().cpu().numpy().copy(), m.bias.detach().cpu().numpy().copy()) for m in linear]


def scheduler_path(name: str = "sac-hmr-scheduler") -> Path:
    """The weights file of a shipped scheduler (beside the shipped tuners', ``hpo.agents.shipped``)."""
    from hpo.agents.shipped import WEIGHTS_DIR

    if name not in SCHEDULERS:
        raise UserError(f"scheduler {name!r} is unknown; allowed: {', '.join(SCHEDULERS)}")
    path = WEIGHTS_DIR / f"{name}.zip"
    if not path.is_file():
        raise UserError(f"the weights of {name!r} are missing from the installation ({path})")
    return path


def load_scheduler(name: str = "sac-hmr-scheduler"):
    """A shipped scheduler agent (loaded without unpickling), on the CPU; its actions are read
    as thresholds (``envs.multi_fidelity_env.decide``), as it was trained."""
    from hpo.agents.persistence import load_agent

    return load_agent(scheduler_path(name), device="cpu", buffer_size=1)


class SchedulerPruner(BasePruner):
    """Prunes a trial when ``policy`` says stop at one of its rungs (see the module docstring).

    ``max_resource``: the last epoch (the step of a trial's final report); ``"auto"`` takes it
    from the first completed trial and prunes nothing before one completes, as Optuna's
    ``HyperbandPruner`` does. ``budget``: the run's budget in epochs (reported steps of all
    trials), which the observation's budget entry counts down; ``None`` takes the study's
    stored number of trials (``hpo.tune``'s ``n_trials``) times ``max_resource``, or, without
    one, 100 trainings.
    """

    def __init__(self, policy: Policy, *, max_resource: int | str = "auto", budget: int | None = None):
        if not callable(policy):
            raise UserError(f"policy must be callable (observation -> continue?), got {type(policy).__name__}")
        if max_resource != "auto":
            check_int("max_resource", max_resource, 2)
        if budget is not None:
            check_int("budget", budget, 1)
        self._policy = policy
        self._max_resource = max_resource
        self._budget = budget
        self._finished: dict[int, np.ndarray] = {}  # curves of finished trials, by trial number

    def _epochs(self, study: optuna.Study) -> int | None:
        if self._max_resource == "auto":
            # found once: the first completed trial's last step, the same for every worker
            completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            steps = [max(t.intermediate_values) for t in completed if t.intermediate_values]
            if not steps:
                return None
            self._max_resource = steps[0]
        return int(self._max_resource)

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        step = trial.last_step
        if step is None:
            return False
        epochs = self._epochs(study)
        if epochs is None or step >= epochs or step not in rungs(epochs):
            return False
        trials = study.get_trials(deepcopy=False)
        return not self._policy(self.observation(study, trial, trials=trials, epochs=epochs))

    def resume_order(self, study: optuna.Study, paused: list[FrozenTrial]) -> list[FrozenTrial]:
        """``paused`` by the extrapolated final value of each curve, the best first (before
        a trial completed: by the last value)."""
        epochs = self._epochs(study) or 0
        sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0

        def predicted(trial: FrozenTrial) -> float:
            step = trial.user_attrs[PAUSED_AT]
            values = sign * np.array([trial.intermediate_values[s] for s in sorted(trial.intermediate_values)])
            return extrapolate(values, epochs)[0] if epochs > step else float(sign * trial.intermediate_values[step])

        return sorted(paused, key=predicted)

    def observation(self, study: optuna.Study, trial: FrozenTrial, *, trials: list[FrozenTrial], epochs: int):
        """The MDP's observation of ``trial`` now (values negated for a maximized study)."""
        sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0

        def curve(frozen: FrozenTrial) -> np.ndarray:
            cached = self._finished.get(frozen.number)
            if cached is not None:
                return cached
            values = sign * np.array([frozen.intermediate_values[s] for s in sorted(frozen.intermediate_values)])
            if frozen.state.is_finished():  # a finished trial's curve never changes
                self._finished[frozen.number] = values
            return values

        # a resumed trial's curve goes on in its resumption, which holds its values
        resumed = {t.user_attrs[RESUMED_FROM] for t in trials if RESUMED_FROM in t.user_attrs}
        others = [
            curve(t) for t in trials if t.number != trial.number and t.number not in resumed and t.intermediate_values
        ]
        completed = [sign * t.value for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
        n_trials = stored_budget(study) or 100
        budget = self._budget or n_trials * epochs
        spent = sum(len(t.intermediate_values) - t.user_attrs.get(START_STEP, 0) for t in trials)
        return observe(
            curve(trial),
            others=others,
            completed=completed,
            epochs=epochs,
            budget_left=max(0.0, 1.0 - spent / budget),
            pool_size=n_trials,
        )


def from_registry(policy: str, **options) -> SchedulerPruner:
    """The registry's scheduler pruners: ``policy`` ``"extrapolation"`` (the hand-set rule) or
    a shipped scheduler's name."""
    if policy == "extrapolation":
        return SchedulerPruner(continue_by_prediction, **options)
    return SchedulerPruner(AgentPolicy(load_scheduler(policy)), **options)


def sac_hmr(**options) -> SchedulerPruner:
    return from_registry("sac-hmr-scheduler", **options)


def sac(**options) -> SchedulerPruner:
    return from_registry("sac-scheduler", **options)


def extrapolation(**options) -> SchedulerPruner:
    return from_registry("extrapolation", **options)
