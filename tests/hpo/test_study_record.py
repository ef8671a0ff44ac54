"""``hpo.study_record``: a rerun of a study with another search is refused unless allowed, and
always with changes an Optuna study cannot hold."""

import math
import re

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

import hpo

SVM_SPACE = {
    "C": FloatDistribution(1e-3, 1e3, log=True),
    "degree": IntDistribution(2, 5),
    "kernel": CategoricalDistribution(["rbf", "poly"]),
}

NARROWED_SPACE = {"C": FloatDistribution(100, 1000, log=True), "degree": IntDistribution(2, 5)}


def svm_like(params):
    return math.log10(params["C"]) ** 2 + params["degree"] + (params["kernel"] == "poly")


def another_objective(params):
    return -math.log10(params["C"]) * params["degree"]


def test_a_rerun_with_a_narrowed_space_and_another_objective_is_refused_unless_allowed(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = hpo.tune(svm_like, SVM_SPACE, n_trials=8, seed=0, storage=storage, study_name="svm")
    recorded = dict(first.study.user_attrs)

    with pytest.raises(hpo.UserError) as refused:
        hpo.tune(another_objective, NARROWED_SPACE, n_trials=10, seed=0, storage=storage, study_name="svm")
    message = str(refused.value)
    assert "parameter 'C': float in [0.001, 1000.0] log -> float in [100.0, 1000.0] log" in message
    assert "parameter 'kernel' removed" in message
    assert "objective: tests.hpo.test_study_record:svm_like -> tests.hpo.test_study_record:another_objective" in message
    assert "--study-name NEW" in message and "--allow-changed-space" in message
    study = optuna.load_study(study_name="svm", storage=storage)
    assert len(study.get_trials()) == 8 and study.user_attrs == recorded  # untouched

    result = hpo.tune(
        another_objective,
        NARROWED_SPACE,
        n_trials=10,
        seed=0,
        storage=storage,
        study_name="svm",
        allow_changed_space=True,
    )
    trials = result.study.get_trials()
    assert len(trials) == 10 and all(t.state.name == "COMPLETE" for t in trials)
    assert all(100 <= t.params["C"] <= 1000 and "kernel" not in t.params for t in trials[8:])
    [change] = result.study.user_attrs["hpo:changes"]
    assert change["after_finished_trials"] == 8 and len(change["changes"]) == 3
    # the new definition is the study's now: the same rerun resumes without a word
    assert (
        len(hpo.tune(another_objective, NARROWED_SPACE, n_trials=11, storage=storage, study_name="svm").history) == 11
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"space": {**SVM_SPACE, "C": FloatDistribution(1e-3, 1e3)}}, "cannot hold this change"),
        ({"directions": ["maximize"]}, "directions: ['minimize'] -> ['maximize']"),
    ],
)
def test_changes_an_optuna_study_cannot_hold_are_refused_even_when_allowed(tmp_path, change, message):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    arguments = {"objective": svm_like, "space": SVM_SPACE, "n_trials": 3, "storage": storage, "study_name": "s"}
    hpo.tune(**arguments)
    for allow in (False, True):
        with pytest.raises(hpo.UserError, match=re.escape(message)):
            hpo.tune(**{**arguments, **change, "n_trials": 5}, allow_changed_space=allow)
    assert len(optuna.load_study(study_name="s", storage=storage).get_trials()) == 3


def test_another_optimizer_is_a_change_of_search(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    arguments = {"objective": svm_like, "space": SVM_SPACE, "storage": storage, "study_name": "s"}
    hpo.tune(**arguments, n_trials=3)
    with pytest.raises(hpo.UserError, match="optimizer: tpe -> random"):
        hpo.tune(**arguments, n_trials=5, optimizer="random")
    assert len(hpo.tune(**arguments, n_trials=5, optimizer="random", allow_changed_space=True).history) == 5


def test_an_objective_edit_counts_as_a_change_of_search_and_a_comment_does_not(tmp_path):
    from hpo.loading import load_callable
    from hpo.study_record import source_digest

    def digest(name, source):
        (tmp_path / f"{name}.py").write_text(source)
        return source_digest(load_callable(f"{tmp_path / name}.py:objective"))

    original = digest("a", "def objective(p):\n    return p['x'] ** 2\n")
    assert digest("b", "def objective(p):  # squared\n\n    return p['x']**2\n") == original
    assert digest("c", "def objective(p):\n    return p['x'] ** 3\n") != original
