"""hpo.sklearn.SearchCV: GridSearchCV's results on the same candidates, inside a Pipeline;
scikit-learn's conventions (clone, get/set params, pickling, the estimator checks); step-wise
reporting and pruning of iterative estimators; failures and bad input."""

import json
import pickle
import sqlite3

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_iris
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import check_estimator

from hpo.errors import UserError
from hpo.pruners import make_pruner
from hpo.sklearn import SearchCV, _cv_results, _Record

X, Y = load_iris(return_X_y=True)

SVC_GRID = {"C": CategoricalDistribution([0.1, 1.0, 10.0]), "kernel": CategoricalDistribution(["linear", "rbf"])}

C_RANGE = {"C": FloatDistribution(1e-2, 1e2, log=True)}


class FakeTrial:
    """Records reports; asks to prune once ``prune_after`` values were reported."""

    def __init__(self, prune_after=None):
        self.reports = []
        self.prune_after = prune_after

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return self.prune_after is not None and len(self.reports) >= self.prune_after


def test_in_a_pipeline_it_matches_grid_search_on_the_same_candidates():
    search = SearchCV(SVC(), SVC_GRID, optimizer="random", n_trials=8, cv=3, random_state=0, return_train_score=True)
    ours = make_pipeline(StandardScaler(), search).fit(X, Y)
    tried = ours[-1].cv_results_["params"]
    # The same candidates, in the order the trials ran, as a grid of one-point grids.
    grid = GridSearchCV(SVC(), [{k: [v] for k, v in p.items()} for p in tried], cv=3, return_train_score=True)
    theirs = make_pipeline(StandardScaler(), grid).fit(X, Y)
    ours_frame, theirs_frame = pd.DataFrame(ours[-1].cv_results_), pd.DataFrame(theirs[-1].cv_results_)

    assert len({tuple(p.items()) for p in tried}) >= 4  # several candidates, some repeated
    assert set(ours_frame.columns) == set(theirs_frame.columns) | {"state"}
    assert (ours_frame["state"] == "COMPLETE").all()
    results = theirs_frame.drop(columns=[c for c in theirs_frame if c.endswith("_time")])
    pd.testing.assert_frame_equal(ours_frame[results.columns], results)
    for name in ("best_index_", "best_params_", "best_score_", "n_splits_", "multimetric_"):
        assert getattr(ours[-1], name) == getattr(theirs[-1], name), name
    assert ours[-1].best_estimator_.get_params() == theirs[-1].best_estimator_.get_params()
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_array_equal(ours.decision_function(X), theirs.decision_function(X))
    assert ours.score(X, Y) == theirs.score(X, Y)
    np.testing.assert_array_equal(ours[-1].classes_, [0, 1, 2])
    assert ours[-1].n_features_in_ == 4
    assert ours[-1].n_trials_ == 8 == len(ours[-1].study_.trials)
    # The search (4 distinct candidates of 6) found the best of the whole grid here.
    full = GridSearchCV(SVC(), {"C": [0.1, 1.0, 10.0], "kernel": ["linear", "rbf"]}, cv=3)
    full = make_pipeline(StandardScaler(), full).fit(X, Y)[-1]
    assert (ours[-1].best_params_, ours[-1].best_score_) == (full.best_params_, full.best_score_)


def test_the_search_improves_on_its_first_trials_and_is_reproducible():
    # tpe on a continuous range: more trials than a grid, the same trials for the same seed.
    search = SearchCV(LogisticRegression(), C_RANGE, n_trials=12, cv=3, random_state=0).fit(X, Y)
    again = SearchCV(LogisticRegression(), C_RANGE, n_trials=12, cv=3, random_state=0).fit(X, Y)
    assert search.cv_results_["params"] == again.cv_results_["params"]
    assert search.best_score_ >= search.cv_results_["mean_test_score"][:5].max()
    assert search.best_score_ == search.cv_results_["mean_test_score"].max()
    assert search.best_estimator_.C == search.best_params_["C"]


def test_scikit_learn_conventions_clone_get_and_set_params():
    search = SearchCV(make_pipeline(StandardScaler(), SVC()), {"svc__C": FloatDistribution(0.1, 10.0)}, cv=3)
    params = search.get_params()
    assert params["estimator__svc__C"] == 1.0 and params["n_trials"] == 20 and params["pruner"] == "none"
    copy = clone(search)
    assert copy.get_params(deep=False).keys() == params.keys() - {k for k in params if "__" in k}
    copy.set_params(estimator__svc__kernel="linear", n_trials=3, random_state=1)
    assert copy.estimator[-1].kernel == "linear" and search.estimator[-1].kernel == "rbf"
    assert is_classifier(search) and not hasattr(search, "predict_proba")
    copy.fit(X, Y)
    assert not hasattr(clone(copy), "best_estimator_")
    restored = pickle.loads(pickle.dumps(copy))
    np.testing.assert_array_equal(restored.predict(X), copy.predict(X))
    assert restored.study_.best_value == pytest.approx(copy.best_score_)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("estimator", "space"),
    [(LogisticRegression(), C_RANGE), (Ridge(), {"alpha": FloatDistribution(1e-2, 1e2, log=True)})],
)
def test_scikit_learn_estimator_checks(estimator, space):
    search = SearchCV(estimator, space, n_trials=2, cv=2, random_state=0)
    expected = {"check_non_transformer_estimators_n_iter": "max_iter sets pruning steps; the search has no n_iter_"}
    check_estimator(search, expected_failed_checks=expected)


def test_refit_false_keeps_the_results_and_hides_prediction():
    search = SearchCV(SVC(), SVC_GRID, n_trials=4, cv=3, refit=False, random_state=0).fit(X, Y)
    assert search.best_params_ == search.cv_results_["params"][search.best_index_]
    assert not hasattr(search, "best_estimator_")
    assert not hasattr(search, "predict") and not hasattr(search, "score")


def test_partial_fit_estimators_report_each_step_and_are_pruned():
    search = SearchCV(SGDClassifier(random_state=0), {"alpha": FloatDistribution(1e-4, 1e-1, log=True)}, cv=3)
    search.set_params(pruner="median", max_iter=5)
    _, evaluation = search._evaluation(X, Y, None, fit_params={})
    params = {"alpha": 1e-3}

    trial = FakeTrial()
    value = evaluation(params, trial)
    assert [step for step, _ in trial.reports] == [0, 1, 2, 3, 4]
    assert value == trial.reports[-1][1]
    first_epoch = []  # the first report is the mean score after one partial_fit per split
    for train, test in evaluation.splits:
        model = clone(search.estimator).set_params(**params).partial_fit(X[train], Y[train], classes=[0, 1, 2])
        first_epoch.append(model.score(X[test], Y[test]))
    assert trial.reports[0][1] == pytest.approx(np.mean(first_epoch))

    trial = FakeTrial(prune_after=2)
    with pytest.raises(optuna.TrialPruned):
        evaluation(params, trial)
    assert len(trial.reports) == 2
    pruned = evaluation.records[-1]
    assert pruned.state == "PRUNED" and np.mean(pruned.test_scores) == trial.reports[-1][1]


def test_warm_start_estimators_grow_in_chunks_to_their_own_budget():
    model = GradientBoostingClassifier(n_estimators=12, max_depth=2, random_state=0)
    search = SearchCV(model, {"learning_rate": FloatDistribution(0.01, 1.0)}, pruner="hyperband", max_iter=3, cv=3)
    _, evaluation = search._evaluation(X, Y, None, fit_params={})
    trial = FakeTrial()
    value = evaluation({"learning_rate": 0.1}, trial)
    assert len(trial.reports) == 3
    folds = StratifiedKFold(3)
    assert value == pytest.approx(cross_validate(model, X, Y, cv=folds)["test_score"].mean(), abs=1e-12)
    # Without a trial (or without a pruner) a configuration is one cross_validate.
    assert evaluation({"learning_rate": 0.1}) == value
    assert len(trial.reports) == 3


def test_pruned_and_failed_trials_rank_after_complete_ones():
    def record(params, scores, state):
        times = np.zeros(2)
        return _Record(params, np.array(scores, dtype=float), None, times, times, state)

    records = [
        record({"kernel": "linear"}, [0.5, 0.7], "COMPLETE"),
        record({"kernel": "poly", "degree": 3}, [0.9, 0.9], "PRUNED"),
        record({"kernel": "poly", "degree": 2}, [np.nan, 0.8], "FAIL"),
    ]
    results = _cv_results(records, 2, return_train_score=False)
    np.testing.assert_array_equal(results["rank_test_score"], [1, 2, 2])
    np.testing.assert_allclose(results["mean_test_score"], [0.6, 0.9, np.nan])
    assert list(results["state"]) == ["COMPLETE", "PRUNED", "FAIL"]
    # A parameter absent from a trial (a conditional one) is masked there, as in GridSearchCV.
    assert results["param_degree"].tolist() == [None, 3, 2] and results["param_degree"].dtype == np.int64
    assert results["param_kernel"].dtype == object and not results["param_kernel"].mask.any()


def test_failing_configurations_score_error_score_or_raise():
    space = {"C": CategoricalDistribution([-1.0, 1.0])}  # C=-1 fails in fit
    search = SearchCV(SVC(), space, optimizer="random", n_trials=6, cv=3, random_state=0)
    with pytest.warns(FitFailedWarning):
        search.fit(X, Y)
    failed = search.cv_results_["param_C"] == -1.0
    assert failed.any() and not failed.all()
    assert np.isnan(search.cv_results_["mean_test_score"][failed]).all()
    assert (search.cv_results_["state"][failed] == "FAIL").all()
    assert search.best_params_ == {"C": 1.0}
    # The estimator's own error, as with GridSearchCV(error_score="raise").
    with pytest.raises(ValueError, match="'C' parameter of .* must be a float in the range"):
        search.set_params(error_score="raise", n_trials=4).fit(X, Y)
    search.set_params(error_score=np.nan, param_distributions={"C": CategoricalDistribution([-1.0, -2.0])})
    with pytest.warns(FitFailedWarning), pytest.raises(UserError, match="no configuration could be fitted .4 tried.; "):
        search.fit(X, Y)


@pytest.mark.parametrize(
    ("change", "culprit"),
    [
        ({"estimator": "svc"}, "estimator must be a scikit-learn estimator"),
        ({"param_distributions": [("C", 1.0)]}, "param_distributions must map"),
        ({"param_distributions": {"gamma_": FloatDistribution(0.1, 1.0)}}, "'gamma_' is not a parameter of SVC"),
        ({"param_distributions": {"C": {"type": "float", "low": 1, "high": 0}}}, "parameter 'C'"),
        ({"param_distributions": {"degree": IntDistribution(1, 3), "C": "x"}}, "parameter 'C'"),
        ({"optimizer": "bogus"}, "optimizer 'bogus' is unknown; allowed: random"),
        ({"pruner": "bogus"}, "pruner 'bogus' is unknown; allowed: none, median"),
        ({"n_trials": 0}, "n_trials must be an integer >= 1, got 0"),
        ({"max_iter": 2.5}, "max_iter must be an integer >= 1, got 2.5"),
        ({"random_state": -1}, "random_state must be a non-negative integer or None"),
        ({"random_state": "0"}, "random_state must be a non-negative integer or None"),
        ({"n_jobs": 0}, "n_jobs must be an integer >= 1, got 0"),
        ({"verbose": -1}, "verbose must be an integer >= 0, got -1"),
        ({"timeout": 0}, "timeout must be"),
        ({"callbacks": print}, "callbacks must be a list of callables or None"),
        ({"pruner": "median"}, "pruner 'median': SVC cannot report a score per training step"),
        ({"scoring": "acuracy"}, "scoring is 'acuracy'; allowed: accuracy"),
        ({"scoring": ["accuracy", "f1_macro"]}, "scoring must be one metric"),
        ({"error_score": "ignore"}, "error_score must be 'raise' or a number, got 'ignore'"),
        ({"refit": "yes"}, "refit must be True, False or a callable of cv_results_, got 'yes'"),
        ({"return_train_score": 1}, "return_train_score must be True or False"),
        ({"cv": "five"}, "cv='five': Expected `cv` as an integer"),
        ({"cv": 200}, "cv=200: "),
    ],
)
def test_bad_input_names_the_culprit_in_one_line(change, culprit):
    search = SearchCV(SVC(), C_RANGE, n_trials=2, cv=3).set_params(**change)
    with pytest.raises(UserError, match=None) as info:
        search.fit(X, Y)
    assert culprit in str(info.value)
    assert "\n" not in str(info.value)


def test_inconsistent_data_names_x_and_y():
    with pytest.raises(UserError, match=r"X, y, groups: Found input variables with inconsistent numbers"):
        SearchCV(SVC(), C_RANGE, n_trials=2, cv=3).fit(X, Y[:-1])


def test_step_wise_evaluation_with_an_optuna_pruner_records_each_trial_as_it_ended():
    search = SearchCV(SGDClassifier(random_state=0), {"alpha": FloatDistribution(1e-5, 10.0, log=True)}, cv=3)
    search.set_params(pruner="median", max_iter=4)
    _, evaluation = search._evaluation(X, Y, None, fit_params={})
    sampler = optuna.samplers.RandomSampler(seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=make_pruner("median"))
    study.optimize(lambda trial: evaluation({"alpha": trial.suggest_float("alpha", 1e-5, 10.0, log=True)}, trial), 15)
    states = [trial.state.name for trial in study.trials]
    assert "PRUNED" in states and "COMPLETE" in states
    assert [record.state for record in evaluation.records] == states
    assert [record.params for record in evaluation.records] == [trial.params for trial in study.trials]


def test_fit_prunes_iterative_estimators_through_hpo_tune():
    search = SearchCV(
        SGDClassifier(random_state=0),
        {"alpha": FloatDistribution(1e-5, 10.0, log=True)},
        optimizer="random",
        pruner="median",
        n_trials=15,
        max_iter=4,
        cv=3,
        random_state=0,
    ).fit(X, Y)
    states = [trial.state.name for trial in search.study_.trials]
    assert "PRUNED" in states and "COMPLETE" in states
    assert list(search.cv_results_["state"]) == states
    assert search.best_score_ == max(
        score for score, state in zip(search.cv_results_["mean_test_score"], states) if state == "COMPLETE"
    )


def test_a_pruner_is_refused_for_an_estimator_that_cannot_report_steps():
    pipeline = make_pipeline(StandardScaler(), SGDClassifier(random_state=0))
    space = {"sgdclassifier__alpha": FloatDistribution(1e-5, 1e-1, log=True)}
    with pytest.raises(UserError, match=r"pruner 'median': Pipeline cannot report a score per training step"):
        SearchCV(pipeline, space, pruner="median", n_trials=3, cv=3).fit(X, Y)


def test_parallel_trials_run_the_budget_and_results_follow_the_trials():
    search = SearchCV(SVC(), C_RANGE, n_trials=8, cv=3, n_jobs=2, random_state=0).fit(X, Y)
    assert search.n_trials_ == 8 == len(search.study_.trials)
    assert search.cv_results_["params"] == [t.params for t in search.study_.trials]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], [t.value for t in search.study_.trials])


def test_a_callback_stops_the_search_and_the_options_reach_the_tuner(monkeypatch):
    stopper = optuna.study.MaxTrialsCallback(3, states=None)
    search = SearchCV(SVC(), C_RANGE, n_trials=10, cv=3, callbacks=[stopper], random_state=0).fit(X, Y)
    assert search.n_trials_ == 3 and len(search.cv_results_["params"]) == 3
    import hpo.sklearn

    seen = {}
    real = hpo.sklearn.tune
    monkeypatch.setattr(hpo.sklearn, "tune", lambda *a, **kw: (seen.update(kw), real(*a, **kw))[1])
    SearchCV(SVC(), C_RANGE, n_trials=2, cv=3, timeout=60, n_jobs=1, random_state=0).fit(X, Y)
    assert seen["timeout"] == 60 and seen["n_jobs"] == 1


def test_a_search_in_a_storage_resumes_and_reports_every_trial(tmp_path):
    url = f"sqlite:///{tmp_path / 'search.db'}"
    first = SearchCV(SVC(), C_RANGE, n_trials=3, cv=3, random_state=0, storage=url, study_name="svc").fit(X, Y)
    again = clone(first).set_params(n_trials=5).fit(X, Y)
    assert again.n_trials_ == 5 and len(again.study_.trials) == 5
    assert again.cv_results_["params"][:3] == first.cv_results_["params"]
    np.testing.assert_array_equal(again.cv_results_["split0_test_score"][:3], first.cv_results_["split0_test_score"])
    with pytest.raises(UserError, match=r"study 'svc' holds another search \(estimator_params differ\)"):
        clone(first).set_params(estimator__kernel="linear", n_trials=6).fit(X, Y)
    with pytest.raises(UserError, match=r"study 'svc' holds another search \(n_samples, splits differ\)"):
        clone(first).set_params(n_trials=6).fit(X[:120], Y[:120])
    with sqlite3.connect(tmp_path / "search.db") as connection:  # a record changed in the storage
        connection.execute(
            "UPDATE trial_user_attributes SET value_json = ? WHERE key = 'hpo:cv' AND trial_id = "
            "(SELECT trial_id FROM trials WHERE number = 1)",
            (json.dumps({"test_scores": "many"}),),
        )
    with pytest.raises(UserError, match=r"trial 1: its stored cross-validation record 'hpo:cv' is refused"):
        clone(first).set_params(n_trials=5).fit(X, Y)


def test_refit_callable_random_state_objects_and_feature_names():
    frame = pd.DataFrame(X, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    search = SearchCV(SVC(), C_RANGE, n_trials=4, cv=3, refit=lambda results: 0, random_state=np.random.RandomState(0))
    search.fit(frame, Y)
    assert search.best_index_ == 0 and not hasattr(search, "best_score_")
    assert search.best_estimator_.C == search.cv_results_["params"][0]["C"]
    assert list(search.feature_names_in_) == list(frame.columns) and search.n_features_in_ == 4
    repeat = clone(search).set_params(random_state=np.random.RandomState(0)).fit(frame, Y)
    assert repeat.cv_results_["params"] == search.cv_results_["params"]  # one seed drawn per fit
    with pytest.raises(
        UserError, match=r"refit: the callable returned 9; allowed: an index of cv_results_ from 0 to 3"
    ):
        clone(search).set_params(refit=lambda results: 9, random_state=0).fit(X, Y)


def test_error_score_raise_stops_at_the_first_failing_fit():
    storage = optuna.storages.InMemoryStorage()
    search = SearchCV(
        SVC(), {"C": CategoricalDistribution([-1.0])}, n_trials=10, cv=3, error_score="raise", storage=storage
    )
    with pytest.raises(ValueError, match="'C' parameter of .* must be a float in the range"):
        search.set_params(study_name="raise").fit(X, Y)
    assert len(optuna.load_study(study_name="raise", storage=storage).trials) == 1


def test_a_quiet_search_prints_nothing_of_optuna(capfd):
    SearchCV(SVC(), C_RANGE, n_trials=2, cv=3, random_state=0).fit(X, Y)
    assert "A new study created" not in capfd.readouterr().err
    SearchCV(SVC(), C_RANGE, n_trials=2, cv=3, random_state=0, verbose=1).fit(X, Y)
    assert "A new study created" in capfd.readouterr().err
