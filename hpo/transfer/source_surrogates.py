"""Cheap surrogates of source studies, for meta-training a tuner, and their mean as the
tuner's prior (``SourcePrior``).

``SourceSurrogate`` is a smooth surrogate of one source: the posterior mean of a Gaussian process
(``hpo._gp.gp``, the model the tuner itself searches with) fitted to the source's quantile
scores over the encoded box (unset coordinates at the centre), clipped to [0, 1].
``perturbed(rng)`` gives a variant of it (the input shifted by up to ``shift`` per
coordinate, the scores warped by a random power and given noise), so that an agent trained
on the surrogates learns how to search the family's landscapes, not one table by heart.

A Gaussian-process mean rather than a nearest-neighbour interpolation: the transfer
benchmark measured meta-training on the interpolation's piecewise-flat landscapes to make the
agent worse than the shipped one (docs/transfer.md).

``SourcePrior`` averages the unperturbed surrogates: what the sources together say about a
configuration, the prior mean of the tuner's Gaussian process (``hpo._gp.search``).
``prior_agreement`` tells whether such a prior carries over from one dataset of the family to
another, judged on the sources alone (each left out in turn) before the study starts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hpo._gp.gp import GaussianProcess
from hpo.space import SpaceEncoder
from hpo.transfer.sources import Source


@dataclass(frozen=True)
class SourceSurrogate:
    model: GaussianProcess  # fitted to the source's quantile scores (lower is better)
    best_score: float  # the source's best quantile score
    offset: np.ndarray | None = None  # (d,) input shift
    power: float = 1.0
    noise: float = 0.0

    @classmethod
    def from_source(cls, source: Source, encoder: SpaceEncoder) -> SourceSurrogate:
        points = np.nan_to_num(source.points(encoder), nan=0.0)
        scores = np.asarray(source.scores, dtype=float)
        return cls(GaussianProcess(encoder.dim, encoder.categorical).fit(points, scores), float(scores.min()))

    @property
    def lower(self) -> float:
        """The surrogate's best value without noise (its regret reference): the best score, warped."""
        return self.best_score**self.power

    def perturbed(self, rng: np.random.Generator, shift: float = 0.15, noise: float = 0.02) -> SourceSurrogate:
        return SourceSurrogate(
            self.model,
            self.best_score,
            offset=rng.uniform(-shift, shift, size=self.model.dim),
            power=float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))),
            noise=noise,
        )

    def values(self, points: np.ndarray) -> np.ndarray:
        """The surrogate at each row of ``points`` (m, d), without noise."""
        x = np.asarray(points, dtype=float).reshape(-1, self.model.dim)
        if self.offset is not None:
            x = x - self.offset
        return np.clip(self.model.predict_mean(x), 0.0, 1.0) ** self.power

    def __call__(self, point: np.ndarray, rng: np.random.Generator | None = None) -> float:
        value = float(self.values(point)[0])
        if self.noise and rng is not None:
            value += float(rng.normal(0.0, self.noise))
        return value


class SourcePrior:
    """The sources' mean surrogate score at encoded points (lower is better): what the sources
    say about a configuration the target has not tried, for ``hpo._gp.search``'s prior."""

    def __init__(self, surrogates: list[SourceSurrogate]):
        if not surrogates:
            raise ValueError("a source prior needs at least one surrogate")
        self.surrogates = list(surrogates)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return np.mean([surrogate.values(points) for surrogate in self.surrogates], axis=0)


PRIOR_PICKS = 5  # as many as the portfolio has configurations
PRIOR_MIN_AGREEMENT = 1.645  # one-sided 5 % under chance


def prior_agreement(sources: Sequence[Source], surrogates: Sequence[SourceSurrogate], encoder: SpaceEncoder) -> float:
    """How far better than chance the sources' prior finds a dataset's good configurations,
    as a z-score: each source in turn is left out, the mean of the other sources' surrogates
    rates its trials, and the quantile scores (0 the best, uniform by chance) of the
    ``PRIOR_PICKS`` best-rated trials are averaged over the picks and the sources. Chance
    gives 0.5 with deviation ``sqrt(1 / (12 * picks * sources))``; the z-score is how many
    of those the mean lies below 0.5. Fewer than two sources: ``-inf``, nothing to judge by.

    On the transfer benchmark this separates the families where the prior helps (HPOBench-NN,
    NAS-Bench-201: z 2.2 to 4.8) from HPOLib, where it costs regret at every budget and its
    picks on a left-out dataset are no better than its median trial on three of four
    targets (docs/transfer.md)."""
    if len(sources) < 2:
        return -math.inf
    picked = []
    for i, source in enumerate(sources):
        points = np.nan_to_num(source.points(encoder), nan=0.0)
        rating = np.mean([surrogate.values(points) for j, surrogate in enumerate(surrogates) if j != i], axis=0)
        best_rated = np.argsort(rating, kind="stable")[:PRIOR_PICKS]
        picked.append(np.asarray(source.scores)[best_rated])
    counted = sum(len(p) for p in picked)
    mean = float(np.mean(np.concatenate(picked)))
    return (0.5 - mean) / math.sqrt(1.0 / (12.0 * counted))
