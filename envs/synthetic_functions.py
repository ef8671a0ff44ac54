"""The distribution of cheap synthetic functions the pre-trained agent learns on.

A ``SyntheticFunction`` is a function on encoded points of ``[-1, 1]^d`` (the coordinates a
``hpo.space.SpaceEncoder`` produces), to be minimized. ``FunctionDistribution.sample(rng)``
draws one:

* **dimension** ``d`` in ``1..max_dim``, log-uniform (small spaces are the common case);
* **family**: a sample path of a Gaussian-process prior (random Fourier features of a
  squared-exponential kernel with a log-uniform length scale per coordinate, so some
  coordinates barely matter, as in real tuning; half of them rotated; a quadratic bowl
  around a random centre added with a random weight), or, for ``d >= 2``, a BBOB function of
  ``TRAIN_BBOB_FUNCTIONS`` with an instance in ``TRAIN_BBOB_INSTANCES`` (each instance is a
  random rotation and shift), its box ``[-5, 5]^d`` mapped onto ``[-1, 1]^d``;
* **output transform**: the identity or ``log10(f - f_min + 1e-8)`` (same minimizer, other
  landscape), then Gaussian noise with a random level;
* **discrete coordinates**: each coordinate is rounded to ``k`` in ``2..8`` levels with a
  function-level probability, the way integer and categorical parameters decode; half of them
  are categorical: the levels are shuffled before the function sees them, so their order
  means nothing (``categorical``; the search's model then compares choices, not positions).

Held out, never sampled here: BBOB functions ``HELDOUT_BBOB_FUNCTIONS`` (one per BBOB group)
and instances ``1..10`` (those the benchmarks use, ``instance = seed + 1``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

HELDOUT_BBOB_FUNCTIONS = (2, 8, 12, 17, 21)
TRAIN_BBOB_FUNCTIONS = tuple(f for f in range(1, 25) if f not in HELDOUT_BBOB_FUNCTIONS)
HELDOUT_BBOB_INSTANCES = tuple(range(1, 11))
TRAIN_BBOB_INSTANCES = tuple(range(11, 101))

_RFF_FEATURES = 128


@dataclass
class SyntheticFunction:
    """One sampled function: ``function(point)`` is the value at an encoded point (minimize)."""

    dim: int
    family: str
    description: str
    base: object = field(repr=False)  # callable on points of [-1, 1]^d
    levels: np.ndarray = field(repr=False)  # per coordinate: 0 = continuous, k = k levels
    categorical: np.ndarray | None = field(default=None, repr=False)  # per coordinate: levels shuffled
    shuffles: dict = field(default_factory=dict, repr=False)  # coordinate -> permutation of its levels
    log_transform: bool = False
    noise: float = 0.0
    rng: np.random.Generator | None = field(default=None, repr=False)
    floor: float = 0.0  # a lower bound of base, for the log transform

    def discretize(self, point: np.ndarray) -> np.ndarray:
        """The point (or each row of an array of points) rounded to the function's levels."""
        point = np.clip(np.asarray(point, dtype=np.float64), -1.0, 1.0).copy()
        for i in np.flatnonzero(self.levels):
            k = self.levels[i]
            point[..., i] = np.round((point[..., i] + 1.0) / 2.0 * (k - 1)) / (k - 1) * 2.0 - 1.0
        return point

    def transform(self, value: float) -> float:
        """The output transform (before noise) of a value of ``base``."""
        if self.log_transform:
            return math.log10(max(value - self.floor, 0.0) + 1e-8)
        return value

    def minimum(self, rng: np.random.Generator) -> float:
        """The function's minimum without noise: exact for BBOB, else the best of multi-start
        L-BFGS-B from the best of 1024 random points (a GP sample is smooth and cheap)."""
        optimum = getattr(self.base, "optimum", None)
        if optimum is None:
            from scipy.optimize import minimize

            starts = rng.uniform(-1.0, 1.0, size=(1024, self.dim))
            values = np.array([self.base(x) for x in starts])
            optimum = float(values.min())
            for start in starts[np.argsort(values)[:4]]:
                result = minimize(self.base, start, method="L-BFGS-B", bounds=[(-1.0, 1.0)] * self.dim)
                optimum = min(optimum, float(result.fun))
        return self.transform(optimum)

    def __call__(self, point: np.ndarray) -> float:
        point = self.discretize(point)
        for i, permutation in self.shuffles.items():
            k = self.levels[i]
            point[i] = permutation[int(round((point[i] + 1.0) / 2.0 * (k - 1)))] / (k - 1) * 2.0 - 1.0
        value = self.transform(float(self.base(point)))
        if self.noise and self.rng is not None:
            value += self.noise * float(self.rng.normal())
        return value


class _GPSample:
    """A squared-exponential GP prior sample through random Fourier features, plus a bowl."""

    def __init__(self, rng: np.random.Generator, dim: int):
        length = np.exp(rng.uniform(math.log(0.15), math.log(3.0), size=dim))
        omega = rng.normal(size=(_RFF_FEATURES, dim)) / length
        if dim > 1 and rng.random() < 0.5:
            rotation, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
            omega = omega @ rotation.T
        self.omega = omega
        self.phase = rng.uniform(0, 2 * math.pi, size=_RFF_FEATURES)
        self.weight = rng.normal(size=_RFF_FEATURES) * math.sqrt(2.0 / _RFF_FEATURES)
        self.center = rng.uniform(-0.8, 0.8, size=dim)
        self.bowl = float(rng.choice([0.0, rng.uniform(0.2, 3.0)]))
        self.length = length

    def __call__(self, x: np.ndarray) -> float:
        gp = float(self.weight @ np.cos(self.omega @ x + self.phase))
        return gp + self.bowl * float(np.sum((x - self.center) ** 2)) / len(x)


class _BBOB:
    def __init__(self, function: int, instance: int, dim: int):
        import ioh

        self.problem = ioh.get_problem(function, instance=instance, dimension=dim)
        self.optimum = float(self.problem.optimum.y)

    def __call__(self, x: np.ndarray) -> float:
        return float(self.problem((5.0 * x).tolist()))


class FunctionDistribution:
    """Samples ``SyntheticFunction`` objects (see the module docstring).

    Parameters
    ----------
    max_dim:
        Largest dimension drawn.
    bbob_fraction:
        Probability of a BBOB function when ``d >= 2`` (else a GP-prior sample).
    discrete_fraction:
        Largest per-function probability that a coordinate is discrete.
    """

    def __init__(self, max_dim: int = 20, bbob_fraction: float = 0.4, discrete_fraction: float = 0.5):
        self.max_dim = int(max_dim)
        self.bbob_fraction = float(bbob_fraction)
        self.discrete_fraction = float(discrete_fraction)

    def sample_dim(self, rng: np.random.Generator) -> int:
        return int(min(self.max_dim, math.floor(math.exp(rng.uniform(0.0, math.log(self.max_dim + 1))))))

    def sample(self, rng: np.random.Generator) -> SyntheticFunction:
        dim = self.sample_dim(rng)
        if dim >= 2 and rng.random() < self.bbob_fraction:
            function = int(rng.choice(TRAIN_BBOB_FUNCTIONS))
            instance = int(rng.choice(TRAIN_BBOB_INSTANCES))
            base, family = _BBOB(function, instance, dim), "bbob"
            floor = base.optimum
            description = f"BBOB f{function} instance {instance}, d={dim}"
        else:
            base, family = _GPSample(rng, dim), "gp-prior"
            floor = -float(np.sum(np.abs(base.weight)))
            description = f"GP prior sample, d={dim}, bowl {base.bowl:.2f}"
        p_discrete = rng.uniform(0.0, self.discrete_fraction)
        levels = np.where(rng.random(dim) < p_discrete, rng.integers(2, 9, size=dim), 0)
        categorical = (levels > 0) & (rng.random(dim) < 0.5)
        shuffles = {int(i): rng.permutation(int(levels[i])) for i in np.flatnonzero(categorical)}
        log_transform = bool(rng.random() < 0.3)
        noise = float(rng.choice([0.0, 10 ** rng.uniform(-3, -1)]))
        if family == "bbob" and not log_transform:
            noise = 0.0  # its scale spans decades: a fixed noise level means nothing there
        return SyntheticFunction(
            dim=dim,
            family=family,
            description=description,
            base=base,
            levels=levels,
            categorical=categorical,
            shuffles=shuffles,
            log_transform=log_transform,
            noise=noise,
            rng=rng,
            floor=floor,
        )
