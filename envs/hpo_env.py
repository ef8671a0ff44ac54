"""Hyperparameter tuning as a Gymnasium MDP.

An episode is one tuning run of ``n_trials`` trials. Each step the agent proposes a point of
[-1, 1]^d, which the search-space encoding of ``hpo.space.SpaceEncoder`` decodes into a
configuration; the objective is evaluated once and the agent is rewarded.

* **Action** (``Box(-1, 1, (d,))``). ``action_mode="absolute"``: the action is the encoded
  configuration. ``action_mode="relative"``: the action is a step from the best configuration
  so far, ``x = x_best + a * room``, with ``room = min(step_scale, distance from x_best to
  the bound in the direction of a)`` per coordinate, so steps never leave the box (absolute
  until a trial succeeds).
* **Observation** (``Box(-1, 1, (2d + 4 + window*(d + 2),))``, float32), in this order:
  last encoded configuration (d), its normalized score, a flag "last trial failed", best
  encoded configuration (d), its normalized score, fraction of the budget used, then
  ``window`` earlier trials (most recent first), each as configuration (d), normalized
  score and a flag "slot filled". Everything is normalized, so the layout depends only on d
  and ``window``: one agent can be trained on many cheap functions and fine-tuned on another.
* **Score normalization** (online, so one agent works for objectives of any scale and
  sign): the score is the value for ``direction="maximize"`` and minus the value for
  ``"minimize"``; it is standardized robustly with the median and the interquartile range
  (IQR / 1.349, else the standard deviation, else 1) of the scores seen so far in the
  episode, and squashed into (-1, 1) by ``tanh(z / 3)`` for the observation.
* **Reward** (``reward=``): ``"improvement"`` (default): the rise of the best-so-far score
  divided by the current robust scale, or by ``reward_scale`` of ``TuningEpisode`` where the
  objective's scale is known, as in pre-training (0 when the trial is not a new best, and
  for the first success); ``"score"``: the standardized score ``z`` clipped to [-5, 5]
  (standardized with ``reward_center`` and ``reward_scale`` where both are known);
  ``"neg_log_regret"``: ``-log10(max(|best_value - optimum|, 1e-12))`` of the best value so
  far, for benchmarks with a known ``optimum``.
* **Failures**: an objective that raises an ``Exception`` or returns NaN/inf makes a failed
  trial; the episode goes on. The documented penalty: reward ``-failure_penalty`` under
  ``"improvement"``; under ``"score"`` and ``"neg_log_regret"`` the lowest reward of a
  successful trial so far in the episode (0 if none) minus ``failure_penalty``. A failed trial shows in the
  observation with normalized score -1 and the failed flag.
* **info**: ``params`` (decoded), ``value`` (raw, ``None`` on failure), ``error``,
  ``best_value``, ``best_params``, ``trial`` (0-based index).

``TuningEpisode`` holds all of this bookkeeping without the objective, so that the Optuna
sampler (``hpo.SACHMRSampler``) replays a study's trials through exactly the same MDP.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from hpo.errors import UserError
from hpo.space import SpaceEncoder
from hpo.tasks import Task
from hpo.validation import check_choice, check_int, check_real

REWARDS = ("improvement", "score", "neg_log_regret")
ACTION_MODES = ("absolute", "relative")
DIRECTIONS = ("minimize", "maximize")

# Defaults chosen with the sac-ablation benchmark suite (docs/sac-hmr.md has the numbers).
DEFAULT_ACTION_MODE = "relative"
DEFAULT_STEP_SCALE = 0.25
DEFAULT_WINDOW = 4
DEFAULT_FAILURE_PENALTY = 1.0

_Z_CLIP = 5.0
_Z_SQUASH = 3.0
_REGRET_FLOOR = 1e-12


def observation_size(dim: int, window: int = DEFAULT_WINDOW) -> int:
    """Length of the observation vector for ``dim`` parameters."""
    return 2 * dim + 4 + window * (dim + 2)


class TuningEpisode:
    """One tuning run in the MDP: its trials, their normalization and rewards.

    ``record(x, value)`` adds a trial (``value=None`` for a failure) and returns its reward;
    ``observation()`` summarizes the trials; ``point_for``/``action_for`` convert between
    actions and encoded configurations for the configured action mode.
    """

    def __init__(
        self,
        dim: int,
        *,
        horizon: int,
        direction: str = "minimize",
        reward: str = "improvement",
        action_mode: str = DEFAULT_ACTION_MODE,
        step_scale: float = DEFAULT_STEP_SCALE,
        window: int = DEFAULT_WINDOW,
        failure_penalty: float = DEFAULT_FAILURE_PENALTY,
        optimum: float | None = None,
        reward_scale: float | None = None,
        reward_center: float | None = None,
    ):
        self.dim = check_int("dim", dim, 1)
        self.horizon = check_int("horizon", horizon, 1)
        self.direction = check_choice("direction", direction, DIRECTIONS)
        self.reward_kind = check_choice("reward", reward, REWARDS)
        self.action_mode = check_choice("action_mode", action_mode, ACTION_MODES)
        self.step_scale = check_real("step_scale", step_scale, 0, exclusive_minimum=True)
        self.window = check_int("window", window, 0)
        self.failure_penalty = check_real("failure_penalty", failure_penalty, 0)
        if reward == "neg_log_regret":
            if optimum is None:
                raise UserError("reward 'neg_log_regret' needs optimum= (the known best value)")
            optimum = check_real("optimum", optimum)
        elif optimum is not None:
            optimum = check_real("optimum", optimum)
        self.optimum = optimum
        # A known scale of the objective (pre-training knows its tasks): the "improvement"
        # reward is then divided by it instead of the spread of the trials so far, which an
        # agent can shrink by proposing near-duplicates and so inflate its own rewards.
        self.reward_scale = (
            None if reward_scale is None else check_real("reward_scale", reward_scale, 0, exclusive_minimum=True)
        )
        self.reward_center = None if reward_center is None else check_real("reward_center", reward_center)
        self.reset()

    def reset(self) -> None:
        self.points: list[np.ndarray] = []
        self.scores: list[float | None] = []  # higher is better; None for failures
        self.values: list[float | None] = []  # raw objective values
        self.best_index: int | None = None
        self._success_scores: list[float] = []
        self._success_rewards: list[float] = []

    # ---- actions -------------------------------------------------------------------
    @property
    def best_point(self) -> np.ndarray | None:
        return None if self.best_index is None else self.points[self.best_index]

    def point_for(self, action: np.ndarray) -> np.ndarray:
        """The encoded configuration an action stands for in the current state."""
        action = np.clip(np.asarray(action, dtype=np.float64).reshape(self.dim), -1.0, 1.0)
        best = self.best_point
        if self.action_mode == "absolute" or best is None:
            return action
        return best + action * self._room(best, action)

    def action_for(self, point: np.ndarray) -> np.ndarray:
        """The action that leads to ``point`` in the current state (the exact inverse of
        ``point_for`` within its range); used to rebuild transitions from finished trials."""
        point = np.clip(np.asarray(point, dtype=np.float64).reshape(self.dim), -1.0, 1.0)
        best = self.best_point
        if self.action_mode == "absolute" or best is None:
            return point
        step = point - best
        room = self._room(best, step)
        safe_room = np.where(room > 0, room, 1.0)
        return np.clip(np.where(room > 0, step / safe_room, 0.0), -1.0, 1.0)

    def _room(self, best: np.ndarray, direction: np.ndarray) -> np.ndarray:
        # A relative step of at most step_scale, shortened on the side of a nearby bound so
        # that it never leaves the box: clipping instead piled many proposals onto the
        # bound (seen on Branin), and this piecewise-linear map stays invertible, so the
        # action of any finished trial can be recovered from its parameters.
        toward_upper = np.minimum(self.step_scale, 1.0 - best)
        toward_lower = np.minimum(self.step_scale, 1.0 + best)
        return np.where(direction >= 0, toward_upper, toward_lower)

    # ---- normalization -------------------------------------------------------------
    def _center_scale(self) -> tuple[float, float]:
        scores = np.asarray(self._success_scores)
        if scores.size == 0:
            return 0.0, 1.0
        center = float(np.median(scores))
        q75, q25 = np.percentile(scores, [75, 25])
        scale = float(q75 - q25) / 1.349
        if not scale > 1e-12 * max(1.0, abs(center)):
            scale = float(np.std(scores))
        if not scale > 1e-12 * max(1.0, abs(center)):
            scale = 1.0
        return center, scale

    def _squashed(self, score: float | None, center: float, scale: float) -> float:
        if score is None:
            return -1.0
        return math.tanh((score - center) / scale / _Z_SQUASH)

    # ---- transitions ---------------------------------------------------------------
    def record(self, point: np.ndarray, value: float | None) -> float:
        """Add a finished trial at encoded ``point`` with raw ``value`` (``None``: failed);
        return its reward."""
        point = np.clip(np.asarray(point, dtype=np.float64).reshape(self.dim), -1.0, 1.0)
        if value is not None and not math.isfinite(value):
            value = None
        score = None if value is None else (value if self.direction == "maximize" else -value)
        previous_best = None if self.best_index is None else self.scores[self.best_index]
        self.points.append(point)
        self.values.append(value)
        self.scores.append(score)
        if score is None:
            return self._failure_reward()
        self._success_scores.append(score)
        if previous_best is None or score > previous_best:
            self.best_index = len(self.points) - 1
        reward = self._success_reward(score, previous_best)
        self._success_rewards.append(reward)
        return reward

    def _failure_reward(self) -> float:
        if self.reward_kind == "improvement":
            return -self.failure_penalty
        lowest = min(self._success_rewards, default=0.0)
        return lowest - self.failure_penalty

    def _success_reward(self, score: float, previous_best: float | None) -> float:
        center, scale = self._center_scale()
        if self.reward_kind == "improvement":
            if previous_best is None or score <= previous_best:
                return 0.0
            return min((score - previous_best) / (self.reward_scale or scale), _Z_CLIP)
        if self.reward_kind == "score":
            if self.reward_scale is not None and self.reward_center is not None:
                center, scale = self.reward_center, self.reward_scale
            return float(np.clip((score - center) / scale, -_Z_CLIP, _Z_CLIP))
        regret = abs(self.best_value - self.optimum)
        return -math.log10(max(regret, _REGRET_FLOOR))

    @property
    def best_value(self) -> float | None:
        return None if self.best_index is None else self.values[self.best_index]

    def observation(self) -> np.ndarray:
        """A fresh float32 vector in [-1, 1] (see the module docstring for the layout)."""
        d = self.dim
        center, scale = self._center_scale()
        obs = np.zeros(observation_size(d, self.window), dtype=np.float32)
        n = len(self.points)
        if n:
            obs[:d] = self.points[-1]
            obs[d] = self._squashed(self.scores[-1], center, scale)
            obs[d + 1] = 1.0 if self.scores[-1] is None else 0.0
        if self.best_index is not None:
            obs[d + 2 : 2 * d + 2] = self.points[self.best_index]
            obs[2 * d + 2] = self._squashed(self.scores[self.best_index], center, scale)
        obs[2 * d + 3] = min(n / self.horizon, 1.0)
        offset = 2 * d + 4
        for slot in range(self.window):
            index = n - 2 - slot  # the trials before the last one, most recent first
            if index < 0:
                break
            start = offset + slot * (d + 2)
            obs[start : start + d] = self.points[index]
            obs[start + d] = self._squashed(self.scores[index], center, scale)
            obs[start + d + 1] = 1.0
        return obs


class HPOEnv(gym.Env):
    """One tuning run of ``n_trials`` trials as a Gymnasium episode (see the module doc).

    Parameters
    ----------
    objective:
        Called with a dict of parameter values, returns a float. Exceptions and NaN/inf are
        failed trials (penalized, the episode goes on).
    space:
        Maps names to Optuna distributions or their dict form (``hpo.space``).
    task:
        Instead of ``objective``/``space``/``direction``: a single-objective ``hpo.tasks.Task``,
        or a built-in task's name (e.g. ``"svc-digits"``), handy with ``gymnasium.make``.
    n_trials:
        Trials per episode.
    direction, reward, action_mode, step_scale, window, failure_penalty, optimum:
        See the module docstring.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        objective: Callable[[dict[str, Any]], float] | None = None,
        space: Mapping[str, Any] | None = None,
        n_trials: int = 20,
        *,
        task: Task | str | None = None,
        direction: str | None = None,
        reward: str = "improvement",
        action_mode: str = DEFAULT_ACTION_MODE,
        step_scale: float = DEFAULT_STEP_SCALE,
        window: int = DEFAULT_WINDOW,
        failure_penalty: float = DEFAULT_FAILURE_PENALTY,
        optimum: float | None = None,
    ):
        super().__init__()
        if task is not None:
            if objective is not None or space is not None:
                raise UserError("give either task= or objective= and space=, not both")
            from hpo.tasks import get_task

            task = get_task(task) if isinstance(task, str) else task
            objective, space = task.objective, task.space
            direction = direction or task.direction
        if objective is None or space is None:
            raise UserError("HPOEnv needs objective= and space= (or task=)")
        if not callable(objective):
            raise UserError(f"objective must be callable, got {type(objective).__name__}")
        self.objective = objective
        self.encoder = SpaceEncoder(space)
        self.n_trials = check_int("n_trials", n_trials, 1)
        self.episode = TuningEpisode(
            self.encoder.dim,
            horizon=self.n_trials,
            direction=direction or "minimize",
            reward=reward,
            action_mode=action_mode,
            step_scale=step_scale,
            window=window,
            failure_penalty=failure_penalty,
            optimum=optimum,
        )
        d, size = self.encoder.dim, observation_size(self.encoder.dim, self.episode.window)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(d,), dtype=np.float32)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(size,), dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.episode.reset()
        return self.episode.observation(), {}

    def step(self, action):
        if len(self.episode.points) >= self.n_trials:
            raise RuntimeError("the episode is over: call reset() before step()")
        point = self.episode.point_for(action)
        params = self.encoder.decode(point)
        value, error = self._evaluate(params)
        reward = self.episode.record(point, value)
        best = self.episode.best_index
        info = {
            "trial": len(self.episode.points) - 1,
            "params": dict(params),
            "value": value,
            "error": error,
            "best_value": self.episode.best_value,
            "best_params": None if best is None else self.encoder.decode(self.episode.points[best]),
        }
        terminated = len(self.episode.points) >= self.n_trials
        return self.episode.observation(), float(reward), terminated, False, info

    def _evaluate(self, params: dict[str, Any]) -> tuple[float | None, str | None]:
        try:
            value = float(self.objective(dict(params)))
        except Exception as err:  # a failing objective is a failed trial, not a crash
            return None, f"{type(err).__name__}: {err}"
        if not math.isfinite(value):
            return None, f"NonFiniteObjectiveError: objective returned {value}"
        return value, None
