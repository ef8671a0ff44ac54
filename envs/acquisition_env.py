"""``AcquisitionEnv``: one tuning run of a freshly sampled synthetic task per episode.

Each ``reset`` draws a task from ``envs.task_distribution.TaskDistribution`` and a budget
uniformly in ``[min_trials, max_trials]`` (the observation's budget feature is relative to
it), makes ``hpo._gp.acquisition.N_STARTUP`` uniformly random trials, and the agent steers the
rest through the MDP of ``hpo._gp.acquisition.AcquisitionHistory``, exactly as the Optuna
sampler (``hpo.samplers.pretrained``) does on a user's study. The reward's reference is the
task's own: ``lower`` its minimum without noise (``SyntheticTask.minimum``) and ``center``
the median of ``_REFERENCE_POINTS`` random values, so an episode's return is the orders of
magnitude of normalized regret removed after the random start.

``info`` carries ``task`` (its description) and, at the end of an episode, ``best_value``
and ``log_regret`` (of the best value).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from envs.task_distribution import SyntheticTask, TaskDistribution
from hpo._gp.acquisition import ACTION_SIZE, N_STARTUP, OBSERVATION_SIZE, AcquisitionHistory, log_regret
from hpo.errors import UserError

_REFERENCE_POINTS = 64


class AcquisitionEnv(gym.Env):
    """Synthetic tuning episodes (see the module docstring)."""

    metadata = {"render_modes": []}

    def __init__(self, distribution: TaskDistribution | None = None, *, min_trials: int = 20, max_trials: int = 100):
        super().__init__()
        if not N_STARTUP < min_trials <= max_trials:
            raise UserError(
                f"need {N_STARTUP} < min_trials <= max_trials (the first {N_STARTUP} trials are random), "
                f"got {min_trials} and {max_trials}"
            )
        self.distribution = distribution or TaskDistribution()
        self.min_trials, self.max_trials = int(min_trials), int(max_trials)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(ACTION_SIZE,), dtype=np.float32)
        self.observation_space = gym.spaces.Box(-5.0, 5.0, shape=(OBSERVATION_SIZE,), dtype=np.float32)
        self.task: SyntheticTask | None = None
        self.history: AcquisitionHistory | None = None
        self.budget = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        rng = self.np_random
        self.task = self.distribution.sample(rng)
        self.budget = int(rng.integers(self.min_trials, self.max_trials + 1))
        reference = [self.task(x) for x in rng.uniform(-1, 1, size=(_REFERENCE_POINTS, self.task.dim))]
        self.history = AcquisitionHistory(
            self.task.dim,
            self.budget,
            lower=self.task.minimum(rng),
            center=float(np.median(reference)),
            snap=self.task.discretize,
            categorical=self.task.categorical,
        )
        for point in self.task.discretize(rng.uniform(-1.0, 1.0, size=(N_STARTUP, self.task.dim))):
            self.history.record(point, self.task(point))
        return self.history.observation(), {"task": self.task.description}

    def step(self, action):
        if self.history is None or self.history.n >= self.budget:
            raise RuntimeError("the episode is over: call reset() before step()")
        point = self.history.propose(action, self.np_random)
        reward = self.history.record(point, self.task(point), action)
        terminated = self.history.n >= self.budget
        info: dict[str, Any] = {"task": self.task.description}
        if terminated:
            best = self.history.best_value
            info["best_value"] = best
            info["log_regret"] = log_regret(best, self.history.lower, self.history.center)
        return self.history.observation(), float(reward), terminated, False, info
