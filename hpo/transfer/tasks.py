"""Cheap tasks built from source studies, for meta-training a tuner.

``SourceTask`` is a surrogate of one source: the quantile score at a point of the encoded box
is the inverse-distance-weighted mean of the scores of its ``neighbours`` nearest source
trials (unset coordinates at the centre). ``perturbed(rng)`` gives a variant of it (the
input shifted by up to ``shift`` per coordinate, the scores warped by a random power and
given noise), so that an agent trained on the tasks learns the family's good region and how
to search near it, not one table by heart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hpo.space import SpaceEncoder
from hpo.transfer.sources import Source


@dataclass(frozen=True)
class SourceTask:
    points: np.ndarray  # (n, d), encoded, no NaN
    scores: np.ndarray  # (n,), lower is better
    offset: np.ndarray | None = None  # (d,) input shift
    power: float = 1.0
    noise: float = 0.0
    neighbours: int = 3

    @classmethod
    def from_source(cls, source: Source, encoder: SpaceEncoder) -> SourceTask:
        return cls(np.nan_to_num(source.points(encoder), nan=0.0), np.asarray(source.scores, dtype=float))

    def perturbed(self, rng: np.random.Generator, shift: float = 0.15, noise: float = 0.02) -> SourceTask:
        d = self.points.shape[1]
        return SourceTask(
            self.points,
            self.scores,
            offset=rng.uniform(-shift, shift, size=d),
            power=float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))),
            noise=noise,
            neighbours=self.neighbours,
        )

    def __call__(self, point: np.ndarray, rng: np.random.Generator | None = None) -> float:
        x = np.asarray(point, dtype=float) - (0.0 if self.offset is None else self.offset)
        distance = np.sqrt(((self.points - x) ** 2).sum(axis=1))
        k = min(self.neighbours, len(distance))
        nearest = np.argpartition(distance, k - 1)[:k]
        weights = 1.0 / (distance[nearest] + 1e-3)
        value = float((weights * self.scores[nearest]).sum() / weights.sum()) ** self.power
        if self.noise and rng is not None:
            value += float(rng.normal(0.0, self.noise))
        return value
