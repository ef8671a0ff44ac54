"""``envs.synthetic_functions``: the distribution never draws held-out BBOB functions or
instances, discrete coordinates take their levels, minima are below every value."""

from __future__ import annotations

import math

import numpy as np

from envs.synthetic_functions import (
    HELDOUT_BBOB_FUNCTIONS,
    HELDOUT_BBOB_INSTANCES,
    FunctionDistribution,
)


def test_the_distribution_never_draws_held_out_functions_or_instances():
    distribution = FunctionDistribution(max_dim=20)
    rng = np.random.default_rng(1)
    dims, families = [], set()
    for _ in range(400):
        f = distribution.sample(rng)
        dims.append(f.dim)
        families.add(f.family)
        if f.family == "bbob":
            function = int(f.description.split()[1][1:])
            instance = int(f.description.split()[3].rstrip(","))
            assert function not in HELDOUT_BBOB_FUNCTIONS
            assert instance not in HELDOUT_BBOB_INSTANCES
        value = f(rng.uniform(-1, 1, f.dim))
        assert math.isfinite(value)
    assert families == {"bbob", "gp-prior"}
    assert min(dims) == 1 and max(dims) == 20
    assert np.mean(np.array(dims) <= 5) > 0.4  # log-uniform: small spaces are common


def test_discrete_coordinates_take_only_their_levels():
    distribution = FunctionDistribution(max_dim=6, discrete_fraction=1.0)
    rng = np.random.default_rng(3)
    f = next(t for t in (distribution.sample(rng) for _ in range(50)) if t.levels.any())
    i = int(np.flatnonzero(f.levels)[0])
    values = {round(f.discretize(rng.uniform(-1, 1, f.dim))[i], 9) for _ in range(300)}
    assert len(values) == f.levels[i]


def test_categorical_coordinates_shuffle_their_levels():
    distribution = FunctionDistribution(max_dim=6, discrete_fraction=1.0)
    rng = np.random.default_rng(8)
    functions = [distribution.sample(rng) for _ in range(60)]
    f = next(t for t in functions if t.categorical.any() and t.levels[np.argmax(t.categorical)] >= 4)
    assert all(t.levels[t.categorical].min() >= 2 for t in functions if t.categorical.any())
    assert 0.2 < np.mean([t.categorical[t.levels > 0].mean() for t in functions if t.levels.any()]) < 0.8
    i = int(np.argmax(f.categorical))
    k = f.levels[i]
    f.noise = 0.0
    point = f.discretize(rng.uniform(-1, 1, f.dim))
    grid = np.linspace(-1, 1, k)
    values = []
    for level in grid:
        point[i] = level
        values.append(f(point))
    expected = []
    for level in range(k):  # what the unshuffled function gives at the shuffled levels
        moved = point.copy()
        moved[i] = grid[level]
        for j, permutation in f.shuffles.items():
            index = int(round((moved[j] + 1) / 2 * (f.levels[j] - 1)))
            moved[j] = np.linspace(-1, 1, f.levels[j])[permutation[index]]
        expected.append(f.transform(f.base(moved)))
    assert np.allclose(values, expected)
    assert not np.array_equal(f.shuffles[i], np.arange(k))


def test_the_minimum_is_below_every_value_of_the_function():
    rng = np.random.default_rng(7)
    distribution = FunctionDistribution(max_dim=6)
    for _ in range(12):
        f = distribution.sample(rng)
        f.noise = 0.0
        minimum = f.minimum(rng)
        values = [f(x) for x in rng.uniform(-1, 1, (300, f.dim))]
        assert minimum <= min(values) + 1e-9, f.description
