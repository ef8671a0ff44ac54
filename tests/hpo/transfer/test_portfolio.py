"""``hpo.transfer.portfolio``: the greedy portfolio and the sampler that evaluates it first."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from hpo.errors import UserError
from hpo.space import SpaceEncoder
from hpo.transfer import (
    PortfolioSampler,
    load_sources,
    nearest_scores,
    portfolio,
)
from tests.hpo.transfer.helpers import SPACE, grid_study, make_study


def test_the_best_configuration_of_a_single_source_comes_first():
    source_study = grid_study()
    (source,) = load_sources([source_study], SPACE)
    chosen = portfolio([source], SPACE, k=3, seed=0)
    assert chosen[0] == source_study.best_params
    assert len(chosen) == 3 and len({repr(sorted(c.items())) for c in chosen}) == 3


def test_the_portfolio_covers_sources_whose_optima_differ():
    grid = np.linspace(0.0, 1.0, 21)
    near_0 = make_study([(float((x - 0.1) ** 2), {"x": float(x)}) for x in grid])
    near_1 = make_study([(float((x - 0.9) ** 2), {"x": float(x)}) for x in grid])
    first, second = portfolio(load_sources([near_0, near_1], SPACE), SPACE, k=2, seed=0)
    # One configuration at each source's optimum: together they serve both.
    assert sorted([first["x"], second["x"]]) == pytest.approx([0.1, 0.9])


def test_each_source_scores_a_point_by_its_nearest_trial():
    grid = np.linspace(0.0, 1.0, 11)
    rising = make_study([(float(x), {"x": float(x)}) for x in grid])
    falling = make_study([(float(-x), {"x": float(x)}) for x in grid])
    sources = load_sources([rising, falling], SPACE)
    encoder = SpaceEncoder({"x": SPACE["x"]})
    points = np.array([encoder.encode({"x": 0.02}), encoder.encode({"x": 0.98})])
    scores = nearest_scores(sources, points, encoder)
    assert scores.shape == (2, 2)
    # x = 0.02 is nearest the trial at 0: best of the rising source, worst of the falling one.
    assert scores[0, 0] == sources[0].scores.min() and scores[0, 1] == sources[1].scores.max()
    assert scores[1, 0] == sources[0].scores.max() and scores[1, 1] == sources[1].scores.min()


def test_seeded_portfolios_repeat_exactly():
    sources = load_sources([grid_study(0.2, seed=s) for s in range(3)], SPACE)
    assert portfolio(sources, SPACE, k=4, seed=7) == portfolio(sources, SPACE, k=4, seed=7)


def test_the_portfolio_sampler_evaluates_the_portfolio_first_then_the_wrapped_sampler():
    configs = [{"x": 0.3, "n": 2, "kind": "b"}, {"x": 0.7}]
    study = optuna.create_study(sampler=PortfolioSampler(optuna.samplers.RandomSampler(seed=0), configs))
    study.optimize(
        lambda t: (
            t.suggest_float("x", 0, 1) + t.suggest_int("n", 1, 5) + (t.suggest_categorical("kind", ["a", "b"]) == "a")
        ),
        n_trials=4,
    )
    trials = study.trials
    assert trials[0].params == configs[0]
    assert trials[1].params["x"] == 0.7  # "n" and "kind" were unset: the wrapped sampler's
    assert trials[2].params["x"] not in (0.3, 0.7)


def test_the_portfolio_sampler_rejects_configurations_that_are_not_dicts():
    with pytest.raises(UserError, match="configs must be a list of dicts"):
        PortfolioSampler(optuna.samplers.RandomSampler(seed=0), {"x": 0.3})
