"""The pre-trained tuner's MDP: the agent steers a Gaussian-process search.

Learned optimizers that beat hand-designed ones at small budgets (MetaBO, Volpp et al. 2020)
do not learn to place points from raw coordinates: they learn the *acquisition* on top of a
surrogate's features, which makes them independent of the dimension and leaves the
modelling to the model. ``AcquisitionEpisode`` is one tuning run in that MDP, shared by
pre-training (``AcquisitionEnv`` below, ``hpo.agents.pretraining``), meta-training
(``hpo.agents.transfer_training``) and the Optuna sampler (``hpo.samplers.pretrained``):

* **State**: the trials so far and the Gaussian-process search over them
  (``hpo._gp.search.GPSearch``: the model, with a prior mean where one is given, and its
  candidate search).
* **Observation** (``OBSERVATION_SIZE`` numbers, none of them depending on ``d`` except one
  feature ``log d``): budget used, dimension, stagnation, how the last trial ranked, the
  model's length scales and noise, its predicted improvement and uncertainty over
  ``N_PROBE`` probe points, the last step's length, and the previous action.
* **Action** (``Box(-1, 1, (3,))``) sets the acquisition of this trial
  (``action_to_acquisition``): ``beta``, the exploration weight of the lower confidence
  bound, log-uniform in ``BETA_RANGE``; ``radius``, the scale of the local candidates around
  the best point, log-uniform in ``RADIUS_RANGE``; and the share of local candidates. The
  search proposes the point (``GPSearch.propose``).
* **Reward**: the decrease of ``log10`` of the normalized regret of the best value,
  ``(best - lower) / (center - lower)`` clipped at ``REGRET_FLOOR``. In pre-training
  ``lower`` is the function's minimum and ``center`` the median value of random points, so
  an episode's return is the orders of magnitude of regret it removed. On a user's study,
  where the minimum is unknown, the sampler estimates ``lower`` from the trials (the best
  value minus the values' robust spread) and takes their median as ``center``.

The first ``N_STARTUP`` trials of a run are uniformly random, with no action.

``AcquisitionEnv``: one tuning run of a freshly sampled synthetic function per episode. Each
``reset`` draws a function from ``envs.synthetic_functions.FunctionDistribution`` and a budget
uniformly in ``[min_trials, max_trials]`` (the observation's budget feature is relative to
it), makes ``N_STARTUP`` uniformly random trials, and the agent steers the rest, exactly as
the Optuna sampler does on a user's study. The reward's reference is the function's own:
``lower`` its minimum without noise (``SyntheticFunction.minimum``) and ``center`` the median
of ``_REFERENCE_POINTS`` random values. ``info`` carries ``function`` (its description) and, at
the end of an episode, ``best_value`` and ``log_regret`` (of the best value).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from envs.synthetic_functions import FunctionDistribution, SyntheticFunction
from hpo._gp.search import N_STARTUP, GPSearch
from hpo.errors import UserError

N_PROBE = 64
BETA_RANGE = (0.01, 10.0)
RADIUS_RANGE = (0.01, 2.0)
ACTION_SIZE = 3
OBSERVATION_SIZE = 13 + ACTION_SIZE
REGRET_FLOOR = 1e-6
MAX_DIM_FEATURE = 20  # log d / log MAX_DIM_FEATURE is 1 at 20 parameters (more is allowed)
_RECENT = 5
_REFERENCE_POINTS = 64

__all__ = [
    "ACTION_SIZE",
    "N_STARTUP",
    "OBSERVATION_SIZE",
    "AcquisitionEnv",
    "AcquisitionEpisode",
    "action_to_acquisition",
    "log_regret",
]


def action_to_acquisition(action: np.ndarray) -> tuple[float, float, float]:
    """``(beta, radius, local_share)`` of an action in ``[-1, 1]^3``."""
    a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
    u = (a + 1.0) / 2.0
    beta = math.exp(math.log(BETA_RANGE[0]) + u[0] * math.log(BETA_RANGE[1] / BETA_RANGE[0]))
    radius = math.exp(math.log(RADIUS_RANGE[0]) + u[1] * math.log(RADIUS_RANGE[1] / RADIUS_RANGE[0]))
    return beta, radius, float(u[2])


def log_regret(best: float, lower: float, center: float) -> float:
    spread = center - lower
    if not spread > 0:
        return 0.0
    return math.log10(max((best - lower) / spread, REGRET_FLOOR))


class AcquisitionEpisode:
    """One tuning run in the MDP of the module docstring (values are minimized)."""

    def __init__(
        self,
        dim: int,
        horizon: int,
        *,
        lower: float | None = None,
        center: float | None = None,
        snap: Callable[[np.ndarray], np.ndarray] | None = None,
        categorical: np.ndarray | None = None,
        prior: Callable[[np.ndarray], np.ndarray] | None = None,
        warp: bool = False,
        trust_region: bool | None = None,
    ):
        self.search = GPSearch(
            dim, snap=snap, categorical=categorical, prior=prior, warp=warp, trust_region=trust_region
        )
        self.dim = self.search.dim
        self.horizon = int(horizon)
        self.lower, self.center = lower, center
        self.last_action = np.zeros(ACTION_SIZE)

    # ---- the trials ----------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.search.n

    @property
    def points(self) -> list[np.ndarray]:
        return self.search.points

    @property
    def values(self) -> list[float | None]:
        return self.search.values

    @property
    def best_value(self) -> float | None:
        return self.search.best_value

    def record(self, point: np.ndarray, value: float | None, action: np.ndarray | None = None) -> float:
        """Add a trial (``value=None``: failed) and return its reward."""
        before = self.best_value
        self.search.add(point, value)
        if action is not None:
            self.last_action = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        return self.reward(before, self.best_value)

    def reward(self, before: float | None, after: float | None) -> float:
        if before is None or after is None:
            return 0.0
        lower, center = self._reference()
        return log_regret(before, lower, center) - log_regret(after, lower, center)

    def _reference(self) -> tuple[float, float]:
        if self.lower is not None and self.center is not None:
            return self.lower, self.center
        finite = np.array([v for v in self.values if v is not None])
        q25, median = np.percentile(finite, [25, 50])
        spread = max(float(median - q25) / 0.674, float(np.std(finite)), 1e-12)
        return float(finite.min()) - spread, float(median)

    # ---- the agent's interface ----------------------------------------------------
    def observation(self) -> np.ndarray:
        """The features of the module docstring (fits the model if there are new trials)."""
        search, values, n = self.search, self.values, self.n
        search.fit()
        targets = search.targets()
        finite = [i for i, v in enumerate(values) if v is not None]
        best_index = min(finite, key=lambda i: values[i]) if finite else n - 1
        start = max(1, n - _RECENT)
        record = min((v for v in values[:start] if v is not None), default=math.inf)
        improved_recently = []  # recent trials that beat every earlier one
        for i in range(start, n):
            value = values[i]
            if value is not None:
                if value < record:
                    improved_recently.append(i)
                record = min(record, value)
        probe = search.candidates(np.random.default_rng(n), 0.1, 0.5, size=N_PROBE)
        if search.snap is not None:
            probe = search.snap(probe)
        mean, std = search.predict(np.vstack([probe, self.points[best_index][None]]))
        gp = search.gp
        signal = math.sqrt(gp.signal_variance)
        incumbent_mean, incumbent_std = mean[-1], std[-1]
        log_lengths = np.log10(gp.length_scales)
        last_step = np.linalg.norm(self.points[-1] - self.points[best_index]) / math.sqrt(self.dim)
        features = [
            2.0 * min(n / self.horizon, 1.0) - 1.0,
            math.log(self.dim) / math.log(MAX_DIM_FEATURE),
            2.0 * (n - 1 - best_index) / max(n - 1, 1) - 1.0,
            1.0 if n - 1 in improved_recently else -1.0,
            2.0 * float(np.mean(targets[-1] >= targets)) - 1.0 if values[-1] is not None else 1.0,
            len(improved_recently) / _RECENT,
            float(np.mean(log_lengths)),
            float(np.min(log_lengths)),
            math.log10(gp.noise_variance / gp.signal_variance) / 3.0,
            incumbent_std / signal,
            float(np.max(std)) / signal,
            float(np.clip((min(incumbent_mean, targets.min()) - mean[:-1].min()) / signal, -5, 5)),
            float(np.clip(last_step, 0.0, 2.0)),
        ]
        return np.clip(np.concatenate([features, self.last_action]), -5.0, 5.0).astype(np.float32)

    def propose(self, action: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The point this action picks (``GPSearch.propose`` with its acquisition)."""
        return self.search.propose(*action_to_acquisition(action), rng)


class AcquisitionEnv(gym.Env):
    """Synthetic tuning episodes (see the module docstring)."""

    metadata = {"render_modes": []}

    def __init__(
        self, distribution: FunctionDistribution | None = None, *, min_trials: int = 20, max_trials: int = 100
    ):
        super().__init__()
        if not N_STARTUP < min_trials <= max_trials:
            raise UserError(
                f"need {N_STARTUP} < min_trials <= max_trials (the first {N_STARTUP} trials are random), "
                f"got {min_trials} and {max_trials}"
            )
        self.distribution = distribution or FunctionDistribution()
        self.min_trials, self.max_trials = int(min_trials), int(max_trials)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(ACTION_SIZE,), dtype=np.float32)
        self.observation_space = gym.spaces.Box(-5.0, 5.0, shape=(OBSERVATION_SIZE,), dtype=np.float32)
        self.function: SyntheticFunction | None = None
        self.episode: AcquisitionEpisode | None = None
        self.budget = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        rng = self.np_random
        self.function = function = self.distribution.sample(rng)
        self.budget = int(rng.integers(self.min_trials, self.max_trials + 1))
        reference = [function(x) for x in rng.uniform(-1, 1, size=(_REFERENCE_POINTS, function.dim))]
        self.episode = AcquisitionEpisode(
            function.dim,
            self.budget,
            lower=function.minimum(rng),
            center=float(np.median(reference)),
            snap=function.discretize,
            categorical=function.categorical,
            # the shipped agents were trained on the search without a trust region, at any
            # dimension: pre-training keeps it so, and reproduces them
            trust_region=False,
        )
        for point in function.discretize(rng.uniform(-1.0, 1.0, size=(N_STARTUP, function.dim))):
            self.episode.record(point, function(point))
        return self.episode.observation(), {"function": function.description}

    def step(self, action):
        if self.episode is None or self.episode.n >= self.budget:
            raise RuntimeError("the episode is over: call reset() before step()")
        point = self.episode.propose(action, self.np_random)
        reward = self.episode.record(point, self.function(point), action)
        terminated = self.episode.n >= self.budget
        info: dict[str, Any] = {"function": self.function.description}
        if terminated:
            best = self.episode.best_value
            info["best_value"] = best
            info["log_regret"] = log_regret(best, self.episode.lower, self.episode.center)
        return self.episode.observation(), float(reward), terminated, False, info
