"""The greedy portfolio: k configurations from the source studies to evaluate first.

``portfolio(sources, space, k)`` picks, one at a time, the source configuration that most
lowers the mean over the sources of the best quantile score reached by the chosen set (the
set whose best member is best on average over the sources, the greedy rule of Feurer et al.'s
auto-sklearn portfolios and of Wistuba et al.'s sequential model-free transfer). A source
knows only its own trials, so a configuration is scored on another source by the score of
that source's nearest trial (in the encoded box, over the coordinates both set).

``PortfolioSampler`` evaluates a portfolio first with any Optuna sampler: trial number i < k
takes configuration i (parameters it leaves unset, and every later trial, are the wrapped
sampler's). Trial numbers are unique in a study, so workers sharing a study evaluate each
configuration once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study
from optuna.trial import FrozenTrial

from hpo.errors import UserError
from hpo.space import SpaceEncoder, check_configs
from hpo.transfer.sources import Source
from hpo.validation import check_int, check_seed

DEFAULT_PORTFOLIO_SIZE = 5
MAX_CANDIDATES = 2000  # 10 sources x 100 trials fit whole; larger pools are subsampled


def portfolio(sources: Sequence[Source], space: Mapping[str, Any], k: int, seed: int | None = 0) -> list[dict]:
    """Up to ``k`` distinct configurations (target parameters, possibly partial), best first."""
    check_int("k", k, 1)
    check_seed(seed)
    if not sources:
        raise UserError("sources must hold at least one source study")
    encoder = SpaceEncoder(space)
    candidates = _distinct([params for source in sources for params in source.params])
    if len(candidates) > MAX_CANDIDATES:
        keep = np.random.default_rng(seed).choice(len(candidates), MAX_CANDIDATES, replace=False)
        candidates = [candidates[i] for i in sorted(keep)]
    scores = nearest_scores(sources, encode_configs(candidates, encoder), encoder)
    chosen: list[int] = []
    reached = np.ones(len(sources))
    for _ in range(min(k, len(candidates))):
        mean_best = np.minimum(scores, reached).mean(axis=1)
        mean_best[chosen] = np.inf
        pick = int(np.argmin(mean_best))  # ties: the earliest candidate (sources' order)
        chosen.append(pick)
        reached = np.minimum(reached, scores[pick])
    return [dict(candidates[i]) for i in chosen]


def _distinct(configs: list[dict]) -> list[dict]:
    seen, out = set(), []
    for config in configs:
        key = tuple(sorted((name, repr(value)) for name, value in config.items()))
        if key not in seen:
            seen.add(key)
            out.append(config)
    return out


def encode_configs(configs: Sequence[Mapping[str, Any]], encoder: SpaceEncoder) -> np.ndarray:
    """Configurations, possibly partial, encoded in ``encoder``'s box (n, d); NaN where unset."""
    return Source("candidates", tuple(configs), np.zeros(len(configs))).points(encoder)


def nearest_scores(sources: Sequence[Source], points: np.ndarray, encoder: SpaceEncoder) -> np.ndarray:
    """(n, n_sources): each source's guess of the quantile score of each encoded point, the
    score of its nearest trial (what the portfolio is chosen by). The mean over the sources
    is the sources' prior: lower is better."""
    return np.column_stack([_nearest_scores(points, source.points(encoder), source.scores) for source in sources])


def _nearest_scores(points: np.ndarray, source_points: np.ndarray, source_scores: np.ndarray) -> np.ndarray:
    """The score of each point's nearest source trial; the mean distance runs over the
    coordinates both set (a pair without one scores 0.5, the median)."""
    diff = points[:, None, :] - source_points[None, :, :]
    both = ~np.isnan(diff)
    with np.errstate(invalid="ignore"):
        distance = np.where(both, diff**2, 0.0).sum(axis=2) / both.sum(axis=2)
    distance[both.sum(axis=2) == 0] = np.inf
    nearest = np.argmin(distance, axis=1)
    out = source_scores[nearest].astype(float)
    out[~np.isfinite(distance.min(axis=1))] = 0.5
    return out


class PortfolioSampler(BaseSampler):
    """``sampler`` after the ``configs``: trial number i < len(configs) takes ``configs[i]``."""

    def __init__(self, sampler: BaseSampler, configs: Sequence[Mapping[str, Any]]):
        if not isinstance(sampler, BaseSampler):
            raise UserError(f"sampler must be an optuna BaseSampler, got {type(sampler).__name__}")
        self.sampler = sampler
        self.configs = check_configs("configs", configs)

    def _config(self, trial: FrozenTrial) -> dict | None:
        return self.configs[trial.number] if trial.number < len(self.configs) else None

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if self._config(trial) is not None:
            return {}
        return self.sampler.infer_relative_search_space(study, trial)

    def sample_relative(self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]):
        if self._config(trial) is not None:
            return {}
        return self.sampler.sample_relative(study, trial, search_space)

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str, param_distribution):
        config = self._config(trial)
        if (
            config is not None
            and param_name in config
            and param_distribution._contains(param_distribution.to_internal_repr(config[param_name]))
        ):
            return config[param_name]
        return self.sampler.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self.sampler.before_trial(study, trial)

    def after_trial(self, study, trial, state, values) -> None:
        self.sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.sampler.reseed_rng()
