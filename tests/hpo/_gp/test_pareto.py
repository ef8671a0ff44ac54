"""``hpo._gp.pareto``: the two-objective front, the exact hypervolume improvement and the
expected-improvement search."""

from __future__ import annotations

import numpy as np
from pymoo.indicators.hv import HV

from hpo._gp.pareto import ParetoSearch, hypervolume_improvement, pareto_front


def test_the_front_keeps_exactly_the_non_dominated_rows_sorted():
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 1, (40, 2))
    front = pareto_front(np.vstack([values, values[:3]]))  # duplicates count once
    dominated = [any(np.all(o <= v) and np.any(o < v) for o in values) for v in values]
    assert {tuple(r) for r in front} == {tuple(v) for v, d in zip(values, dominated) if not d}
    assert np.all(np.diff(front[:, 0]) > 0) and np.all(np.diff(front[:, 1]) < 0)


def test_the_hypervolume_improvement_is_pymoos_hypervolume_difference():
    rng = np.random.default_rng(1)
    reference = np.array([1.2, 1.1])
    for _ in range(100):
        front = pareto_front(rng.uniform(0, 1, (int(rng.integers(1, 12)), 2)))
        points = rng.uniform(-0.2, 1.3, (6, 2))  # some beyond the reference, some dominated
        before = HV(ref_point=reference)(front)
        for point, improvement in zip(points, hypervolume_improvement(points, front, reference)):
            union = np.vstack([front, point])
            union = union[np.all(union < reference, axis=1)]
            assert abs(improvement - (HV(ref_point=reference)(union) - before)) < 1e-12


def _zdt1(x):
    u = (x + 1) / 2
    g = 1 + 9 * u[1:].mean()
    return np.array([u[0], g * (1 - np.sqrt(u[0] / g))])


def test_the_search_fills_the_front_better_than_random_points():
    reference = np.array([1.1, 7.0])
    hypervolumes = {"search": [], "random": []}
    for seed in range(3):
        rng = np.random.default_rng(seed)
        start = rng.uniform(-1, 1, (5, 4))
        search = ParetoSearch(4)
        for point in start:
            search.add(point, _zdt1(point))
        for _ in range(20):
            point = search.propose(rng)
            assert point.shape == (4,) and np.all(np.abs(point) <= 1)
            search.add(point, _zdt1(point))
        found = np.array([_zdt1(p) for p in search.models[0].points])
        hypervolumes["search"].append(HV(ref_point=reference)(found))
        randoms = np.array([_zdt1(p) for p in np.vstack([start, rng.uniform(-1, 1, (20, 4))])])
        hypervolumes["random"].append(HV(ref_point=reference)(randoms))
    assert np.mean(hypervolumes["search"]) > np.mean(hypervolumes["random"]) + 0.3
    assert all(s > r for s, r in zip(hypervolumes["search"], hypervolumes["random"]))


def test_a_failed_trial_counts_as_worst_and_is_not_on_the_front():
    search = ParetoSearch(2)
    rng = np.random.default_rng(2)
    for point in rng.uniform(-1, 1, (6, 2)):
        search.add(point, point**2)
    search.add(np.array([0.0, 0.0]), None)
    front, reference = search.front_and_reference()
    targets = search.targets()
    assert np.all(targets[-1] == targets.max(axis=0))  # the failed trial: worst of each objective
    assert not any(np.allclose(row, targets[-1]) for row in front)
    assert np.all(front < reference)
    assert search.propose(rng).shape == (2,)
