"""``hpo._gp.search``: local candidates, the discrete search that never reruns a
configuration, the prior's trust and the power transform on a skewed function."""

from __future__ import annotations

import numpy as np
import pytest

import hpo._gp.search as search_module
from hpo._gp.search import N_STARTUP, GPSearch, prior_scale

# The acquisition that exploits most: the smallest exploration weight and radius, all local.
GREEDY = dict(beta=0.01, radius=0.01, local_share=1.0)


def test_a_small_local_radius_proposes_next_to_the_best_point():
    rng = np.random.default_rng(1)
    search = GPSearch(3)
    for point in rng.uniform(-1, 1, (10, 3)):
        search.add(point, float(np.sum((point - 0.3) ** 2)))
    local = search.propose(**GREEDY, rng=rng)
    assert np.linalg.norm(local - search.best_point) < 0.1


def test_local_candidates_keep_or_redraw_categorical_choices():
    rng = np.random.default_rng(6)
    search = GPSearch(2, categorical=np.array([False, True]))
    for point in rng.uniform(-1, 1, (8, 2)):
        point[1] = np.round((point[1] + 1) / 2 * 4) / 4 * 2 - 1
        search.add(point, float(point[0] ** 2 + (point[1] != 0.5)))
    best = search.best_point
    near = search._around(best, 0.02, 2000, rng=rng)
    assert np.mean(near[:, 1] == best[1]) > 0.95  # a small scale rarely changes a choice
    assert np.all(np.abs(near[:, 0] - best[0]) < 0.2)
    far = search._around(best, 2.0, 2000, rng=rng)[:, 1]
    assert np.mean(far == best[1]) < 0.05 and far.min() < -0.9 and far.max() > 0.9  # redrawn anywhere


def test_discrete_search_never_reruns_a_configuration_while_others_remain():
    # 2 coordinates of 3 and 4 levels: 12 configurations in all
    levels = np.array([3, 4])

    def snap(points):
        return np.round((np.clip(points, -1, 1) + 1) / 2 * (levels - 1)) / (levels - 1) * 2 - 1

    rng = np.random.default_rng(5)
    search = GPSearch(2, snap=snap)
    for point in snap(rng.uniform(-1, 1, (N_STARTUP, 2))):
        search.add(point, float(np.sum(point**2)))
    while search.n < 12:
        point = search.propose(**GREEDY, rng=rng)  # greedy and local: tempted to repeat
        assert np.allclose(snap(point[None])[0], point)
        search.add(point, float(np.sum(point**2)))
    assert len({tuple(np.round(p, 9)) for p in search.points}) == len(set(map(tuple, np.round(search.points, 9))))
    assert len({tuple(np.round(p, 9)) for p in search.points}) >= 12 - 1  # start-up trials may coincide


def test_a_prior_is_scaled_by_how_well_it_ranks_the_trials():
    targets = np.array([-1.0, 0.0, 1.0, 2.0])
    model = -targets  # the study's own model, left out trial by trial, ranks them all wrong
    offset, slope = prior_scale(targets, 10.0 * targets + 3.0, model)  # ranks them all right
    # nearly all of it: only the resamples of one trial, with no pair to order, tie
    assert np.allclose(offset + slope * (10.0 * targets + 3.0), targets, atol=0.02)
    assert prior_scale(targets, -targets, model)[1] == 0.0  # ranks them the wrong way round
    assert prior_scale(targets, np.array([0.0, 1.0, 1.0, 0.0]), model)[1] == 0.0  # no better than chance
    assert prior_scale(targets[:2], targets[:2], model[:2])[1] == 0.0  # too few trials to judge it


def test_a_prior_gives_way_to_a_model_that_ranks_the_trials_better():
    rng = np.random.default_rng(0)
    targets = rng.normal(size=30)
    prior = targets + rng.normal(0.0, 0.7, 30)  # ranks them fairly well
    slopes = {
        name: prior_scale(targets, prior, model)[1]
        for name, model in (
            ("worse", targets + rng.normal(0.0, 3.0, 30)),
            ("as good", prior.copy()),
            ("better", targets + rng.normal(0.0, 0.05, 30)),
        )
    }
    assert slopes["worse"] > 0.9 * prior_scale(targets, prior, -targets)[1]  # nearly all its trust
    assert slopes["as good"] == pytest.approx(0.5 * prior_scale(targets, prior, -targets)[1])  # ties: half
    assert slopes["better"] < 0.05 * slopes["worse"]


def test_a_good_prior_guides_the_model_where_no_trial_was_run():
    def f(points):
        return np.sum((np.atleast_2d(points) - np.array([0.6, -0.4])) ** 2, axis=1)

    rng = np.random.default_rng(4)
    start = rng.uniform(-1, 1, (5, 2))
    unseen = rng.uniform(-1, 1, (300, 2))
    errors, deviations = {}, {}
    for name, prior in (("none", None), ("good", lambda p: 2.0 * f(p) + 1.0), ("reversed", lambda p: -f(p))):
        search = GPSearch(2, prior=prior)
        for point in start:
            search.add(point, float(f(point)[0]))
        search.fit()
        mean, deviations[name] = search.predict(unseen)
        errors[name] = 1.0 - np.corrcoef(mean, f(unseen))[0, 1]
    assert errors["good"] < 0.01 < errors["none"]
    assert errors["reversed"] == pytest.approx(errors["none"])  # a misleading prior is ignored
    assert np.allclose(deviations["good"], deviations["none"])  # it moves the mean, not the uncertainty


def test_the_power_transform_finds_the_minimum_of_a_skewed_function(monkeypatch):
    # exp(6 r^2) - 1 spans ten decades on the box: standardized values leave everything near
    # the minimum at one level; the power transform keeps those differences
    centre = np.array([0.37, -0.52])

    def skewed(x):
        return float(np.exp(6 * np.sum((x - centre) ** 2)) - 1)

    def run(seed):
        rng = np.random.default_rng(seed)
        search = GPSearch(2)
        for point in rng.uniform(-1, 1, (3, 2)):
            search.add(point, skewed(point))
        for _ in range(37):
            point = search.propose(0.32, 0.14, 0.5, rng=rng)
            search.add(point, skewed(point))
        return np.linalg.norm(search.best_point - centre), np.log10(search.best_value)

    transformed = np.array([run(seed) for seed in range(8)])
    monkeypatch.setattr(search_module, "power_scores", lambda y: (y - y.mean()) / max(y.std(), 1e-12))
    standardized = np.array([run(seed) for seed in range(8)])
    assert np.median(transformed[:, 0]) < 0.5 * np.median(standardized[:, 0])
    assert transformed[:, 1].mean() < standardized[:, 1].mean() - 1.0


def test_the_trust_region_doubles_after_successes_halves_after_failures_and_restarts():
    search = GPSearch(12)
    assert search.trust_region and not GPSearch(10).trust_region and GPSearch(2, trust_region=True).trust_region
    for value in (5.0, 4.0, 3.0):  # the start-up: no verdicts
        search.add(np.zeros(12), value)
    assert search.trust_length() == search_module.TRUST_INITIAL
    for value in (2.0, 1.0, 0.5):  # three improvements in a row: doubled
        search.add(np.zeros(12), value)
    assert search.trust_length() == 2 * search_module.TRUST_INITIAL
    for _ in range(12):  # max(4, dim) trials without one: halved
        search.add(np.zeros(12), 0.5)
    assert search.trust_length() == search_module.TRUST_INITIAL
    for _ in range(12 * 7):  # below its minimum: the initial side again
        search.add(np.zeros(12), 0.5 + 1e-9)
    lengths = {search_module.TRUST_INITIAL / 2**k for k in range(7)}
    assert search.trust_length() in lengths and search.trust_length() >= search_module.TRUST_MIN


def test_candidates_stay_in_the_trust_region_around_the_best_point():
    rng = np.random.default_rng(0)
    search = GPSearch(16)
    for point in rng.uniform(-1, 1, (20, 16)):
        search.add(point, float(np.sum(point**2)))
    search.fit()
    low, high = search.bounds()
    assert np.all(low <= search.best_point) and np.all(search.best_point <= high)
    assert np.all(high - low < 2.0) and np.all(high - low > 0)
    batch = search.candidates(rng, radius=0.5, local_share=0.5)
    assert np.all(batch >= low - 1e-12) and np.all(batch <= high + 1e-12)
    off = GPSearch(16, trust_region=False)
    off.points, off.values = search.points, search.values
    assert np.all(off.bounds()[0] == -1.0) and np.all(off.bounds()[1] == 1.0)
