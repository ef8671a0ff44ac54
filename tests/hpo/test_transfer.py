"""Transfer from source studies: the loading rules, the per-source normalization and the
greedy portfolio, on small synthetic source studies."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo.errors import UserError
from hpo.space import SpaceEncoder
from hpo.transfer import (
    PRIOR_MIN_AGREEMENT,
    PortfolioSampler,
    SourcePrior,
    SourceSurrogate,
    load_sources,
    nearest_scores,
    portfolio,
    prior_agreement,
    source_trials,
)

SPACE = {"x": FloatDistribution(0.0, 1.0), "n": IntDistribution(1, 5), "kind": CategoricalDistribution(("a", "b"))}


def _study(values_params, direction="minimize", name=None, storage=None, space=SPACE):
    study = optuna.create_study(direction=direction, study_name=name, storage=storage)
    for value, params in values_params:
        dists = {p: space[p] for p in params}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=value))
    return study


def _grid_study(center=0.3, direction="minimize", seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(20):
        params = {"x": float(rng.uniform()), "n": int(rng.integers(1, 6)), "kind": str(rng.choice(["a", "b"]))}
        loss = (params["x"] - center) ** 2 + 0.01 * params["n"] + (0.0 if params["kind"] == "a" else 0.1)
        trials.append((loss if direction == "minimize" else -loss, params))
    return _study(trials, direction)


def test_scores_are_quantiles_best_first_per_source():
    small = _study([(1.0, {"x": 0.1}), (2.0, {"x": 0.2}), (3.0, {"x": 0.3})])
    huge = _study([(1e9, {"x": 0.1}), (1.0, {"x": 0.2}), (5.0, {"x": 0.3})])
    a, b = load_sources([small, huge], SPACE)
    np.testing.assert_allclose(a.scores, [1 / 6, 3 / 6, 5 / 6])
    # An outlier cannot flatten the others: the ranks alone count.
    np.testing.assert_allclose(b.scores, [5 / 6, 1 / 6, 3 / 6])


def test_a_maximized_source_feeds_a_minimized_target():
    accuracy = _study([(0.9, {"x": 0.1}), (0.5, {"x": 0.2})], direction="maximize")
    (source,) = load_sources([accuracy], SPACE, direction="minimize")
    assert source.best() == {"x": 0.1}


def test_a_data_frame_source_takes_the_direction_it_is_told():
    frame = pd.DataFrame({"params_x": [0.1, 0.2], "value": [0.9, 0.5], "state": ["COMPLETE", "COMPLETE"]})
    (as_target,) = load_sources([frame], SPACE, direction="minimize")
    (told,) = load_sources([frame], SPACE, direction="minimize", directions="maximize")
    assert as_target.best() == {"x": 0.2}
    assert told.best() == {"x": 0.1}


def test_failed_pruned_and_running_trials_are_ignored():
    study = _study([(1.0, {"x": 0.1})])
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
    study = _study(
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
    _study([(1.0, {"x": 0.25})], name="earlier", storage=storage)
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
            lambda s: [_study([(1.0, {"y": 1.0})], space={"y": FloatDistribution(0, 2)})],
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


def test_the_best_configuration_of_a_single_source_comes_first():
    source_study = _grid_study()
    (source,) = load_sources([source_study], SPACE)
    chosen = portfolio([source], SPACE, k=3, seed=0)
    assert chosen[0] == source_study.best_params
    assert len(chosen) == 3 and len({repr(sorted(c.items())) for c in chosen}) == 3


def test_the_portfolio_covers_sources_whose_optima_differ():
    grid = np.linspace(0.0, 1.0, 21)
    near_0 = _study([(float((x - 0.1) ** 2), {"x": float(x)}) for x in grid])
    near_1 = _study([(float((x - 0.9) ** 2), {"x": float(x)}) for x in grid])
    first, second = portfolio(load_sources([near_0, near_1], SPACE), SPACE, k=2, seed=0)
    # One configuration at each source's optimum: together they serve both.
    assert sorted([first["x"], second["x"]]) == pytest.approx([0.1, 0.9])


def test_each_source_scores_a_point_by_its_nearest_trial():
    grid = np.linspace(0.0, 1.0, 11)
    rising = _study([(float(x), {"x": float(x)}) for x in grid])
    falling = _study([(float(-x), {"x": float(x)}) for x in grid])
    sources = load_sources([rising, falling], SPACE)
    encoder = SpaceEncoder({"x": SPACE["x"]})
    points = np.array([encoder.encode({"x": 0.02}), encoder.encode({"x": 0.98})])
    scores = nearest_scores(sources, points, encoder)
    assert scores.shape == (2, 2)
    # x = 0.02 is nearest the trial at 0: best of the rising source, worst of the falling one.
    assert scores[0, 0] == sources[0].scores.min() and scores[0, 1] == sources[1].scores.max()
    assert scores[1, 0] == sources[0].scores.max() and scores[1, 1] == sources[1].scores.min()


def test_seeded_portfolios_repeat_exactly():
    sources = load_sources([_grid_study(0.2, seed=s) for s in range(3)], SPACE)
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


def test_source_trials_warm_start_cma_es():
    sources = load_sources([_grid_study()], SPACE)
    trials = source_trials(sources, {"x": SPACE["x"], "n": SPACE["n"], "kind": SPACE["kind"]})
    assert len(trials) == 20 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    sampler = optuna.samplers.CmaEsSampler(seed=0, source_trials=trials, warn_independent_sampling=False)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: (t.suggest_float("x", 0, 1) - 0.3) ** 2 + t.suggest_int("n", 1, 5), n_trials=3)
    assert len(study.trials) == 3


def test_a_source_task_follows_its_trials_and_perturbs_with_a_seed():
    from hpo.space import SpaceEncoder

    study = _grid_study()
    (source,) = load_sources([study], SPACE)
    encoder = SpaceEncoder(SPACE)
    task = SourceSurrogate.from_source(source, encoder)
    best, worst = (encoder.encode(source.params[i]) for i in (np.argmin(source.scores), np.argmax(source.scores)))
    assert task(best) < 0.25 and task(worst) > 0.6  # the source's best trial scores near 0, its worst near 1
    assert task.lower == source.scores.min()
    a = task.perturbed(np.random.default_rng(3))
    b = task.perturbed(np.random.default_rng(3))
    assert a(best) == b(best) and a.offset is not None and a.lower == task.lower**a.power


def test_a_source_task_evaluates_a_batch_as_its_shifted_warped_model_mean():
    encoder = SpaceEncoder(SPACE)
    (source,) = load_sources([_grid_study()], SPACE)
    task = SourceSurrogate.from_source(source, encoder).perturbed(np.random.default_rng(2))
    points = np.random.default_rng(5).uniform(-1, 1, (7, encoder.dim))
    shifted, _ = task.model.predict(points - task.offset)
    assert np.allclose(task.values(points), np.clip(shifted, 0, 1) ** task.power)
    assert np.allclose([task(p) for p in points], task.values(points))  # no rng: no noise


def test_the_source_prior_is_the_mean_of_its_tasks():
    encoder = SpaceEncoder(SPACE)
    study = _grid_study()
    (source,) = load_sources([study], SPACE)
    tasks = [SourceSurrogate.from_source(source, encoder).perturbed(np.random.default_rng(i)) for i in range(2)]
    points = np.random.default_rng(5).uniform(-1, 1, (7, encoder.dim))
    assert np.allclose(SourcePrior(tasks)(points), (tasks[0].values(points) + tasks[1].values(points)) / 2)
    with pytest.raises(ValueError, match="at least one surrogate"):
        SourcePrior([])


def test_sources_that_agree_on_the_good_region_pass_the_prior_check_and_others_do_not():
    encoder = SpaceEncoder(SPACE)

    def agreement(centers):
        sources = load_sources([_grid_study(center=c, seed=i) for i, c in enumerate(centers)], SPACE)
        return prior_agreement(sources, [SourceSurrogate.from_source(s, encoder) for s in sources], encoder)

    assert agreement([0.3, 0.3, 0.3]) >= PRIOR_MIN_AGREEMENT
    assert agreement([0.1, 0.9, 0.1, 0.9]) < PRIOR_MIN_AGREEMENT  # half of them say the opposite
    assert agreement([0.3]) == -np.inf  # one source: nothing to judge it by


def test_any_registry_optimizer_runs_after_the_portfolio():
    from hpo.optimizers import make_transfer_sampler

    sources = load_sources([_grid_study()], SPACE)
    sampler = make_transfer_sampler("tpe", sources, SPACE, seed=0, portfolio_size=2)
    assert isinstance(sampler, PortfolioSampler) and isinstance(sampler.sampler, optuna.samplers.TPESampler)
    assert sampler.configs == portfolio(sources, SPACE, k=2, seed=0)
    with pytest.raises(UserError, match="portfolio_size must be an integer >= 1"):
        make_transfer_sampler("tpe", sources, SPACE, portfolio_size=0)


def test_suites_of_every_optimizer_leave_out_those_that_need_source_studies():
    from benchmarks.suites import make_jobs

    assert "sac-hmr-transfer" not in {job.optimizer for job in make_jobs("standard", problems=["bbob-f01-d2"])}
