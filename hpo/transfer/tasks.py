"""Cheap tasks built from source studies, for meta-training a tuner.

``SourceTask`` is a smooth surrogate of one source: the posterior mean of a Gaussian process
(``hpo._gp.gp``, the model the tuner itself searches with) fitted to the source's quantile
scores over the encoded box (unset coordinates at the centre), clipped to [0, 1].
``perturbed(rng)`` gives a variant of it (the input shifted by up to ``shift`` per
coordinate, the scores warped by a random power and given noise), so that an agent trained
on the tasks learns how to search the family's landscapes, not one table by heart.

A Gaussian-process mean rather than a nearest-neighbour interpolation: the transfer
benchmark measured meta-training on the interpolation's piecewise-flat landscapes to make the
agent worse than the shipped one (docs/transfer.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hpo._gp.gp import GaussianProcess
from hpo.space import SpaceEncoder
from hpo.transfer.sources import Source


@dataclass(frozen=True)
class SourceTask:
    model: GaussianProcess  # fitted to the source's quantile scores (lower is better)
    best_score: float  # the source's best quantile score
    offset: np.ndarray | None = None  # (d,) input shift
    power: float = 1.0
    noise: float = 0.0

    @classmethod
    def from_source(cls, source: Source, encoder: SpaceEncoder) -> SourceTask:
        points = np.nan_to_num(source.points(encoder), nan=0.0)
        scores = np.asarray(source.scores, dtype=float)
        return cls(GaussianProcess(encoder.dim, encoder.categorical).fit(points, scores), float(scores.min()))

    @property
    def lower(self) -> float:
        """The task's best value without noise (its regret reference): the best score, warped."""
        return self.best_score**self.power

    def perturbed(self, rng: np.random.Generator, shift: float = 0.15, noise: float = 0.02) -> SourceTask:
        return SourceTask(
            self.model,
            self.best_score,
            offset=rng.uniform(-shift, shift, size=self.model.dim),
            power=float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))),
            noise=noise,
        )

    def values(self, points: np.ndarray) -> np.ndarray:
        """The task at each row of ``points`` (m, d), without noise."""
        x = np.asarray(points, dtype=float).reshape(-1, self.model.dim)
        if self.offset is not None:
            x = x - self.offset
        return np.clip(self.model.predict_mean(x), 0.0, 1.0) ** self.power

    def __call__(self, point: np.ndarray, rng: np.random.Generator | None = None) -> float:
        value = float(self.values(point)[0])
        if self.noise and rng is not None:
            value += float(rng.normal(0.0, self.noise))
        return value
