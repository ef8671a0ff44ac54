"""Synthetic learning curves: what a multi-fidelity scheduler is pre-trained on.

A learning curve is a configuration's validation error after each epoch ``1..epochs`` (lower
is better, in ``[0, 1]`` like an error rate). ``CurveDistribution.sample_task(rng)`` draws
the curves of one task: a pool of configurations trained on the same data, whose curves
share the task's scale (an attainable error and a starting error) and differ in shape, so
they cross, stall and diverge as real pools do. Each curve is

    error(t) = floor + (start - floor) * shape(t),    shape(1) = 1, falling towards 0,

with ``shape`` from one of the parametric families of learning-curve extrapolation
(Domhan et al., 2015; LC-PFN's prior, Adriaensen et al., 2023), each with a random rate:

* ``pow``: ``t^-alpha`` (power law; the most common);
* ``exp``: ``exp(-rate (t - 1))`` (fast, then flat);
* ``ilog``: ``log(2) / log(t + 1)`` (slow, never flat);
* ``janoschek``: ``exp(-rate (t^delta - 1))`` (sigmoidal on a log-epoch axis);
* ``mmf``: ``1 / (1 + ((t - 1) rate)^delta)`` (Morgan-Mercer-Flodin: flat at first, then a
  fall, then a plateau).

Then, each with a task-level probability: a **warm-up plateau** (the curve starts to fall
only after a few epochs), **divergence** (from some epoch on the error climbs towards chance
level: a too large learning rate), and Gaussian **noise** per epoch (the
evaluation's noise, with a task-level scale). A configuration's own floor is the task's
attainable error plus a configuration gap (log-normal), so the best configurations are few.

``CurvePools`` draws pools of recorded curves instead (real training runs, source studies)
for meta-training on them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

FAMILIES = ("pow", "exp", "ilog", "janoschek", "mmf")


def shape(family: str, epochs: np.ndarray, rate: float, power: float = 1.0) -> np.ndarray:
    """The falling part of a curve, 1 at epoch 1 and decreasing towards 0 (``rate`` > 0 sets
    the speed; ``power`` is the second shape parameter of ``janoschek`` and ``mmf``)."""
    t = np.asarray(epochs, dtype=np.float64)
    if family == "pow":
        return t**-rate
    if family == "exp":
        return np.exp(-rate * (t - 1.0))
    if family == "ilog":
        return (math.log(2.0) / np.log(t + 1.0)) ** rate
    if family == "janoschek":
        return np.exp(-rate * (t**power - 1.0))
    if family == "mmf":
        # 1 / (1 + ((t - 1) / kappa)^power): flat near epoch 1, falls around kappa = 1 / rate
        return 1.0 / (1.0 + ((t - 1.0) * rate) ** power)
    raise ValueError(f"family {family!r} is unknown; allowed: {', '.join(FAMILIES)}")


@dataclass
class LearningCurve:
    """One configuration's validation error after each epoch (``values[k]``: after epoch k+1)."""

    values: np.ndarray
    family: str
    floor: float  # the error the curve falls towards without divergence or noise
    warmup: int = 0  # epochs before it starts to fall
    diverges_at: int | None = None  # first epoch of the climb, if it diverges
    description: str = field(default="", repr=False)

    @property
    def epochs(self) -> int:
        return len(self.values)

    @property
    def final(self) -> float:
        return float(self.values[-1])


@dataclass
class CurveDistribution:
    """Tasks of ``pool_size`` learning curves of ``epochs`` epochs each (see the module
    docstring). The probabilities are per task: the share of its curves with a warm-up
    plateau, that diverge, and its noise scale are drawn per task up to these maxima."""

    epochs: int = 50
    pool_size: tuple[int, int] = (20, 60)
    max_warmup_share: float = 0.3
    max_divergence_share: float = 0.2
    max_noise: float = 0.02

    def __post_init__(self):
        if self.epochs < 2:
            raise ValueError(f"epochs must be >= 2, got {self.epochs}")
        low, high = self.pool_size
        if not 2 <= low <= high:
            raise ValueError(f"pool_size must be (low, high) with 2 <= low <= high, got {self.pool_size}")

    def sample_task(self, rng: np.random.Generator, size: int | None = None) -> list[LearningCurve]:
        """The curves of one task (``size`` of them, or a size drawn from ``pool_size``)."""
        size = int(rng.integers(self.pool_size[0], self.pool_size[1] + 1)) if size is None else int(size)
        attainable = float(rng.uniform(0.02, 0.4))  # the task's best error
        start = float(min(attainable + rng.uniform(0.2, 0.6), 0.98))  # error after one epoch, typically
        warmup_share = float(rng.uniform(0, self.max_warmup_share))
        divergence_share = float(rng.uniform(0, self.max_divergence_share))
        noise = float(rng.uniform(0, self.max_noise))
        # the task's favourite families: most curves of a task look alike
        weights = rng.dirichlet(np.full(len(FAMILIES), 0.7))
        return [
            self._curve(
                rng,
                attainable,
                start,
                family=str(rng.choice(FAMILIES, p=weights)),
                shares=(warmup_share, divergence_share),
                noise=noise,
            )
            for _ in range(size)
        ]

    def _curve(self, rng, attainable: float, start: float, *, family: str, shares, noise: float) -> LearningCurve:
        epochs = np.arange(1, self.epochs + 1, dtype=np.float64)
        floor = min(attainable + float(rng.lognormal(math.log(0.05), 1.0)), start - 0.01)
        first = float(np.clip(start + rng.normal(0, 0.05), floor + 0.01, 1.0))
        rate = float(rng.lognormal(math.log(_TYPICAL_RATE[family]), 0.6))
        power = float(rng.uniform(0.5, 2.5))
        warmup = int(rng.integers(1, max(2, self.epochs // 5) + 1)) if rng.random() < shares[0] else 0
        falling = shape(family, np.maximum(epochs - warmup, 1.0), rate, power=power)
        values = floor + (first - floor) * falling
        diverges_at = None
        if rng.random() < shares[1]:
            diverges_at = int(rng.integers(2, self.epochs))
            climb = 1.0 - np.exp(-rng.uniform(0.05, 0.5) * np.maximum(epochs - diverges_at, 0.0))
            reached = values[diverges_at - 1]  # from here the error only climbs, towards chance level
            target = reached + (1.0 - reached) * rng.uniform(0.3, 0.9)
            values = np.where(epochs >= diverges_at, reached + (target - reached) * climb, values)
        values = np.clip(values + rng.normal(0, noise, size=len(values)), 0.0, 1.0)
        description = (
            f"{family} rate {rate:.3g}"
            + (f", warm-up {warmup}" if warmup else "")
            + (f", diverges at {diverges_at}" if diverges_at else "")
        )
        return LearningCurve(values, family, floor, warmup, diverges_at, description)


# The rate at which a family's curve has done most of its fall by a few epochs of fifty.
_TYPICAL_RATE = {"pow": 0.7, "exp": 0.15, "ilog": 1.5, "janoschek": 0.15, "mmf": 0.2}


@dataclass(frozen=True)
class CurvePools:
    """Pools of recorded learning curves, drawn as ``CurveDistribution`` draws synthetic ones:
    a pool at random (a table of real training runs, a source study), then ``pool_size`` of
    its curves (or all, if fewer) in random order. ``name`` says what the pools are (it is
    their ``repr``, which a training run records). Build it with ``from_curves``."""

    pools: tuple[np.ndarray, ...] = field(repr=False)  # one (curves, epochs) array per pool
    name: str
    pool_size: tuple[int, int] = (20, 64)

    @classmethod
    def from_curves(cls, groups: Sequence[Sequence[np.ndarray]], name: str, **options) -> CurvePools:
        """Pools from ``groups`` of curves (lower is better, one value per epoch): the curves of
        the most common length of at least 2 epochs with finite values, in groups that keep at
        least 2 of them. ``ValueError`` when none remain."""
        curves = [[np.asarray(c, dtype=np.float64) for c in group] for group in groups]
        lengths = Counter(len(c) for group in curves for c in group if len(c) >= 2 and np.all(np.isfinite(c)))
        if not lengths:
            raise ValueError(f"{name}: no learning curve of 2 or more finite values")
        epochs = lengths.most_common(1)[0][0]
        pools = [
            np.array(kept)
            for group in curves
            if len(kept := [c for c in group if len(c) == epochs and np.all(np.isfinite(c))]) >= 2
        ]
        if not pools:
            raise ValueError(f"{name}: no group has 2 curves of {epochs} epochs")
        return cls(tuple(pools), name, **options)

    @property
    def epochs(self) -> int:
        return self.pools[0].shape[1]

    def sample_task(self, rng: np.random.Generator, size: int | None = None) -> list[LearningCurve]:
        pool = self.pools[int(rng.integers(len(self.pools)))]
        high = min(self.pool_size[1], len(pool))
        size = int(rng.integers(min(self.pool_size[0], high), high + 1)) if size is None else min(int(size), len(pool))
        chosen = rng.permutation(len(pool))[:size]
        return [LearningCurve(pool[i].copy(), "recorded", float(pool[i, -1])) for i in chosen]
