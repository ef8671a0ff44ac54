"""The multi-fidelity scheduler's MDP: when to stop a trial that is still training.

An episode is one tuning run with a budget in epochs over a pool of configurations (a task of
``envs.learning_curves``), taken in order as a sampler would propose them. A trial trains
rung by rung: after epochs 1, 2, 4, 8, ... (``rungs``: doubling, then the last epoch) the
agent sees its partial curve and decides to **continue** it to the next rung or to **stop**
it and start the next configuration. A trial that reaches the last epoch completes; the
incumbent is the best final error of the completed trials. The episode ends when the budget
is spent or the pool is exhausted.

* **Observation** (``OBSERVATION_SIZE`` numbers; errors in units of the task's spread, the
  spread of the first-epoch errors seen so far, so one policy serves any task): the trial's
  last error and the slope of its last rung, both relative to the incumbent (or to the best
  error seen at any epoch while none completed); its rank at this epoch among the trials
  that reached it (0 best, 1 worst); a power-law fit's predicted final error and its
  uncertainty (``extrapolate``); the trial's progress ``log(epoch) / log(epochs)``; the
  budget left; the completed trials (``log1p``, relative to the pool); whether there is an
  incumbent.
* **Action** (``Box(-1, 1, (1,))``, continuous for SAC), read by ``decide`` in one of two
  ways (``ACTIONS``): ``"decision"``, above 0 continue, else stop; ``"threshold"``, a margin
  ``THRESHOLD_SCALE * action`` (in units of the task's spread) that the extrapolated final
  error less its uncertainty must not exceed the incumbent by for the trial to continue
  (always continue while nothing completed). Action 0 in threshold mode is the hand-set
  rule "continue while the optimistic extrapolation could beat the incumbent"; a policy
  learns where to be stricter or more lenient than it.
* **Reward**: the decrease of the incumbent's normalized regret, ``(incumbent - best) /
  (median - best)`` over the pool's final errors, clipped to ``[0, REGRET_CAP]``
  (``REGRET_CAP`` while nothing completed): an episode's return is ``REGRET_CAP`` minus the
  regret it ends with, so spending the epochs on the configurations that end best is what
  pays.

``MultiFidelityEnv`` draws a task from a ``CurveDistribution`` and a budget of
``budget_trainings`` full trainings (uniform in its range) per ``reset``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from envs.learning_curves import CurveDistribution, LearningCurve

OBSERVATION_SIZE = 9
ACTIONS = ("decision", "threshold")
THRESHOLD_SCALE = 2.0
_PREDICTED, _UNCERTAINTY, _HAS_INCUMBENT = 3, 4, 8  # entries of the observation
REGRET_CAP = 2.0
_FIT_POWERS = (0.3, 0.7, 1.5)


def rungs(epochs: int) -> list[int]:
    """The epochs after which a trial is judged: 1, 2, 4, ... below ``epochs``, then ``epochs``."""
    marks, epoch = [], 1
    while epoch < epochs:
        marks.append(epoch)
        epoch *= 2
    return [*marks, epochs]


def extrapolate(values: np.ndarray, epochs: int) -> tuple[float, float]:
    """The final error a partial curve ``values`` (after epochs ``1..len(values)``) predicts at
    ``epochs``, and an uncertainty: least squares of ``c + a t^-p`` for each power of
    ``_FIT_POWERS``; the best fit's prediction, uncertain by its residual and by how far the
    other powers' predictions lie. Below three epochs: the last value, uncertainty 1."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n < 3:
        return float(values[-1]), 1.0
    t = np.arange(1, n + 1, dtype=np.float64)
    predictions, residuals = [], []
    for power in _FIT_POWERS:
        basis = np.column_stack([np.ones(n), t**-power])
        coef, *_ = np.linalg.lstsq(basis, values, rcond=None)
        residuals.append(float(np.sqrt(np.mean((basis @ coef - values) ** 2))))
        predictions.append(float(coef[0] + coef[1] * epochs**-power))
    best = int(np.argmin(residuals))
    # an error rate stays in [0, 1]; any other value within its curve's own scale
    low, high = min(0.0, float(values.min())), max(1.0, float(values.max()))
    prediction = float(np.clip(predictions[best], low, high))
    return prediction, residuals[best] + float(np.ptp(predictions))


class CurveEpisode:
    """One tuning run over a pool of learning curves (see the module docstring)."""

    def __init__(self, curves: list[LearningCurve], budget: int):
        if not curves:
            raise ValueError("curves: the pool is empty")
        self.curves = curves
        self.epochs = curves[0].epochs
        if any(c.epochs != self.epochs for c in curves):
            raise ValueError("curves: every curve of a pool must have the same number of epochs")
        self.budget = int(budget)
        self.rungs = rungs(self.epochs)
        finals = np.array([c.final for c in curves])
        self.best, self.median = float(finals.min()), float(np.median(finals))
        self.spent = 0
        self.index = -1  # the trial training now
        self.rung = 0  # its position in rungs
        self.seen: list[np.ndarray] = []  # every trial's values so far
        self.completed: list[float] = []
        self._start_next()

    # ---- state ---------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.spent >= self.budget or self.index >= len(self.curves)

    @property
    def incumbent(self) -> float | None:
        return min(self.completed) if self.completed else None

    def regret(self) -> float:
        if self.incumbent is None:
            return REGRET_CAP
        spread = self.median - self.best
        if not spread > 0:
            return 0.0
        return float(np.clip((self.incumbent - self.best) / spread, 0.0, REGRET_CAP))

    # ---- transitions ---------------------------------------------------------------------
    def _train_to(self, epoch: int) -> None:
        """Train the current trial up to ``epoch`` (or as far as the budget allows)."""
        current = self.seen[-1]
        epoch = min(epoch, len(current) + self.budget - self.spent)
        if epoch > len(current):
            self.spent += epoch - len(current)
            self.seen[-1] = self.curves[self.index].values[:epoch].copy()
        if len(self.seen[-1]) == self.epochs:
            self.completed.append(float(self.seen[-1][-1]))

    def _start_next(self) -> None:
        self.index += 1
        self.rung = 0
        if self.index < len(self.curves) and self.spent < self.budget:
            self.seen.append(self.curves[self.index].values[:0].copy())
            self._train_to(self.rungs[0])

    def step(self, cont: bool) -> float:
        """Continue the current trial to its next rung (``cont``) or stop it; a completed
        trial is followed by the next one. Returns the reward."""
        before = self.regret()
        if cont and self.rung + 1 < len(self.rungs):
            self.rung += 1
            self._train_to(self.rungs[self.rung])
            if len(self.seen[-1]) == self.epochs:
                self._start_next()
        else:
            self._start_next()
        return before - self.regret()

    # ---- observation ---------------------------------------------------------------------
    def observation(self) -> np.ndarray:
        if self.done or not self.seen:
            return np.zeros(OBSERVATION_SIZE, dtype=np.float32)
        return observe(
            self.seen[-1],
            others=self.seen[:-1],
            completed=self.completed,
            epochs=self.epochs,
            budget_left=1.0 - self.spent / self.budget,
            pool_size=len(self.curves),
        )


def observe(
    current: np.ndarray,
    *,
    others: Sequence[np.ndarray],
    completed: Sequence[float],
    epochs: int,
    budget_left: float,
    pool_size: int,
) -> np.ndarray:
    """The observation of a trial with values ``current`` (after epochs ``1..len(current)``;
    lower is better) among the ``others`` trials' values so far and the final values of the
    ``completed`` ones, in a run of ``epochs``-epoch trainings with ``budget_left`` of its
    budget and a pool of ``pool_size`` configurations (the module docstring lists the
    entries). The episode and the pruner (``hpo.agents.scheduler``) both observe through it."""
    current = np.asarray(current, dtype=np.float64)
    epoch = len(current)
    seen = [np.asarray(values, dtype=np.float64) for values in others if len(values)] + [current]
    firsts = np.array([values[0] for values in seen])
    spread = max(float(np.ptp(firsts)), 0.05 * max(abs(float(firsts.mean())), 1e-3), 1e-6)
    reference = min(completed) if len(completed) else min(float(values.min()) for values in seen)
    last = float(current[-1])
    earlier = [mark for mark in rungs(epochs) if mark < epoch]
    previous = float(current[earlier[-1] - 1]) if earlier else float(current[0])
    steps = math.log(epoch / earlier[-1]) if earlier else 1.0
    at_epoch = [values[epoch - 1] for values in seen[:-1] if len(values) >= epoch]
    rank = float(np.mean([value < last for value in at_epoch])) if at_epoch else 0.5
    predicted, uncertainty = extrapolate(current, epochs)
    observation = np.array(
        [
            (last - reference) / spread,
            (last - previous) / spread / steps,
            rank,
            (predicted - reference) / spread,
            uncertainty / spread,
            math.log(epoch) / math.log(epochs),
            budget_left,
            math.log1p(len(completed)) / math.log1p(max(pool_size, 1)),
            float(len(completed) > 0),
        ]
    )
    return np.clip(observation, -10.0, 10.0).astype(np.float32)


def decide(observation: np.ndarray, action: float, actions: str = "decision") -> bool:
    """Whether the trial continues, for ``action`` read as ``actions`` says (module docstring)."""
    if actions == "decision":
        return bool(action > 0)
    if actions == "threshold":
        if observation[_HAS_INCUMBENT] == 0:
            return True
        return bool(observation[_PREDICTED] - observation[_UNCERTAINTY] <= THRESHOLD_SCALE * action)
    raise ValueError(f"actions {actions!r} is unknown; allowed: {', '.join(ACTIONS)}")


class MultiFidelityEnv(gym.Env):
    """Synthetic multi-fidelity tuning runs (see the module docstring)."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        distribution: CurveDistribution | None = None,
        *,
        budget_trainings: tuple[float, float] = (3.0, 10.0),
        actions: str = "decision",
    ):
        if actions not in ACTIONS:
            raise ValueError(f"actions {actions!r} is unknown; allowed: {', '.join(ACTIONS)}")
        self.actions = actions
        self.distribution = distribution or CurveDistribution()
        low, high = budget_trainings
        if not 0 < low <= high:
            raise ValueError(f"budget_trainings must be (low, high) with 0 < low <= high, got {budget_trainings}")
        self.budget_trainings = (float(low), float(high))
        self.observation_space = gym.spaces.Box(-10.0, 10.0, shape=(OBSERVATION_SIZE,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.episode: CurveEpisode | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        curves = self.distribution.sample_task(self.np_random)
        trainings = self.np_random.uniform(*self.budget_trainings)
        self.episode = CurveEpisode(curves, budget=max(1, int(round(trainings * self.distribution.epochs))))
        return self.episode.observation(), {}

    def step(self, action):
        if self.episode is None:
            raise RuntimeError("call reset() before step()")
        observation = self.episode.observation()
        reward = self.episode.step(decide(observation, float(np.asarray(action).reshape(-1)[0]), self.actions))
        terminated = self.episode.done
        info = {"regret": self.episode.regret(), "spent": self.episode.spent} if terminated else {}
        return self.episode.observation(), float(reward), terminated, False, info
