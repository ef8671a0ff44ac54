"""``hpo.transfer.sources``: loading and normalizing source studies, and warm-starting CMA-ES
from them."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo.errors import UserError
from hpo.transfer import (
    load_sources,
    source_trials,
)
from tests.hpo.transfer.helpers import SPACE, grid_study, make_study


def test_scores_are_quantiles_best_first_per_source():
    small = make_study([(1.0, {"x": 0.1}), (2.0, {"x": 0.2}), (3.0, {"x": 0.3})])
    huge = make_study([(1e9, {"x": 0.1}), (1.0, {"x": 0.2}), (5.0, {"x": 0.3})])
    a, b = load_sources([small, huge], SPACE)
    np.testing.assert_allclose(a.scores, [1 / 6, 3 / 6, 5 / 6])
    # An outlier cannot flatten the others: the ranks alone count.
    np.testing.assert_allclose(b.scores, [5 / 6, 1 / 6, 3 / 6])


def test_a_maximized_source_feeds_a_minimized_target():
    accuracy = make_study([(0.9, {"x": 0.1}), (0.5, {"x": 0.2})], direction="maximize")
    (source,) = load_sources([accuracy], SPACE, direction="minimize")
    assert source.best() == {"x": 0.1}


def test_a_data_frame_source_takes_the_direction_it_is_told():
    frame = pd.DataFrame({"params_x": [0.1, 0.2], "value": [0.9, 0.5], "state": ["COMPLETE", "COMPLETE"]})
    (as_target,) = load_sources([frame], SPACE, direction="minimize")
    (told,) = load_sources([frame], SPACE, direction="minimize", directions="maximize")
    assert as_target.best() == {"x": 0.2}
    assert told.best() == {"x": 0.1}


def test_failed_pruned_and_running_trials_are_ignored():
    study = make_study([(1.0, {"x": 0.1})])
    for state in (optuna.trial.TrialState.FAIL, optuna.trial.TrialState.PRUNED):
        study.add_trial(optuna.trial.create_trial(params={"x": 0.5}, distributions={"x": SPACE["x"]}, state=state))
    frame = pd.DataFrame(
        {"params_x": [0.1, 0.2, 0.3], "value": [1.0, None, 0.0], "state": ["COMPLETE", "FAIL", "PRUNED"]}
    )
    (from_study, from_frame) = load_sources([study, frame], SPACE)
    assert from_study.params == ({"x": 0.1},)
    assert from_frame.params == ({"x": 0.1},)


def test_overlapping_spaces_keep_shared_parameters_and_drop_out_of_bounds_trials():
    other = {
        "x": FloatDistribution(0.0, 2.0),
        "depth": IntDistribution(1, 9),
        "kind": CategoricalDistribution(("a", "c")),
    }
    study = make_study(
        [
            (1.0, {"x": 0.5, "depth": 3, "kind": "a"}),  # depth: not a target parameter, dropped
            (2.0, {"x": 1.5, "depth": 3, "kind": "a"}),  # x outside [0, 1]: trial dropped
            (3.0, {"x": 0.2, "depth": 3, "kind": "c"}),  # "c" not a target choice: trial dropped
        ],
        space=other,
    )
    (source,) = load_sources([study], SPACE)
    assert source.params == ({"x": 0.5, "kind": "a"},)
    # "n" is unset in the source: left to the target's optimizer (NaN in the encoding).
    points = source.points(__import__("hpo.space", fromlist=["SpaceEncoder"]).SpaceEncoder(SPACE))
    assert np.isnan(points[0, 1]) and not np.isnan(points[0, 0])


def test_named_sources_load_from_the_storage(tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    make_study([(1.0, {"x": 0.25})], name="earlier", storage=storage)
    (source,) = load_sources(["earlier"], SPACE, storage=storage)
    assert source.name == "earlier" and source.params == ({"x": 0.25},)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda s: ["missing"], "no study named 'missing'"),
        (lambda s: ["earlier"], "no storage was given"),
        (lambda s: [optuna.create_study(study_name="empty")], "source 'empty' has no complete trial"),
        (lambda s: [optuna.create_study(study_name="mo", directions=["minimize"] * 2)], "'mo' has 2 objectives"),
        (
            lambda s: [make_study([(1.0, {"y": 1.0})], space={"y": FloatDistribution(0, 2)})],
            "shares no parameter with the search space",
        ),
        (lambda s: [pd.DataFrame({"params_x": [0.1], "values_0": [1.0], "values_1": [2.0]})], "'frame0' has several"),
        (lambda s: [42], "neither a study name"),
        (lambda s: [], "non-empty list"),
    ],
)
def test_unusable_sources_are_errors_naming_them(tmp_path, make, message):
    storage = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    optuna.create_study(study_name="missing-not", storage=storage)
    with pytest.raises(UserError, match=message):
        load_sources(make(storage), SPACE, storage=storage if message != "no storage was given" else None)


def test_source_trials_warm_start_cma_es():
    sources = load_sources([grid_study()], SPACE)
    trials = source_trials(sources, {"x": SPACE["x"], "n": SPACE["n"], "kind": SPACE["kind"]}, direction="minimize")
    assert len(trials) == 20 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    sampler = optuna.samplers.CmaEsSampler(seed=0, source_trials=trials, warn_independent_sampling=False)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: (t.suggest_float("x", 0, 1) - 0.3) ** 2 + t.suggest_int("n", 1, 5), n_trials=3)
    assert len(study.trials) == 3


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_warm_started_cma_es_starts_near_the_sources_best_in_either_direction(direction):
    # The sources are best at x = 0.3 and worst at x = 1; the target study has the same
    # direction. Drawn around the sources' best configurations, the first generation's mean
    # stays below 0.6 (0.38-0.49 over seeds 0-5); drawn around their worst, it is above 0.7.
    sources = load_sources([grid_study(center=0.3, direction=direction)], SPACE, direction=direction)
    sampler = optuna.samplers.CmaEsSampler(
        seed=0,
        source_trials=source_trials(sources, {"x": SPACE["x"]}, direction=direction),
        warn_independent_sampling=False,
    )
    study = optuna.create_study(direction=direction, sampler=sampler)
    sign = 1.0 if direction == "minimize" else -1.0
    study.optimize(lambda t: sign * (t.suggest_float("x", 0, 1) - 0.3) ** 2, n_trials=6)
    first_generation = [t.params["x"] for t in study.trials]
    assert np.mean(first_generation) < 0.6, first_generation


def test_source_trials_refuses_an_unknown_direction():
    sources = load_sources([grid_study()], SPACE)
    with pytest.raises(UserError, match="direction"):
        source_trials(sources, {"x": SPACE["x"]}, direction="max")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://", "is an in-memory SQLite database"),
        ("postgresql://u:secret@127.0.0.1:1/db", "cannot open it"),
        ("postgresql://u@127.0.0.1:99999/db", "cannot open it"),
        ("sqlite:////nonexistent-folder/sources.db", "no such SQLite file"),
    ],
)
def test_a_sources_storage_url_is_opened_with_the_checks_of_every_storage(url, message):
    with pytest.raises(UserError, match=f"transfer_from: the sources' storage .*{message}") as caught:
        load_sources(["a"], {"x": FloatDistribution(0.0, 1.0)}, storage=url)
    assert "secret" not in str(caught.value)


def test_a_missing_sources_file_is_refused_without_creating_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    with pytest.raises(UserError, match="no such SQLite file"):
        load_sources(["wine"], {"x": FloatDistribution(0.0, 1.0)}, storage=url)
    assert list(tmp_path.iterdir()) == []
