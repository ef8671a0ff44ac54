"""``hpo.study_record``: a rerun of a study with another search is refused unless allowed, and
always with changes an Optuna study cannot hold."""

import json
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


# ---- a stored record is input: anyone who can write the storage can change it -------------------
def _stored(**fields):
    from hpo.study_record import study_record

    record = study_record(
        SVM_SPACE,
        svm_like,
        ["minimize"],
        optimizer="tpe",
        seed=0,
        worker_objective="tests.hpo.test_study_record:svm_like",
    )
    return {**record, **fields}


def _float_text(**attributes):
    return json.dumps(
        {"name": "FloatDistribution", "attributes": {"low": 0.0, "high": 1.0, "log": False, "step": None, **attributes}}
    )


CRAFTED = {
    "optimizer a list": {"optimizer": ["x"]},
    "seed a text": {"seed": "0"},
    "negative timeout": {"timeout_per_trial": -1},
    "space a list": {"space": ["C"]},
    "a parameter not JSON": {"space": {"C": "{not json"}},
    "a parameter a number": {"space": {"C": 3}},
    "an unknown distribution": {"space": {"C": '{"name": "Evil", "attributes": {}}'}},
    "attributes a list": {"space": {"C": '{"name": "FloatDistribution", "attributes": [1]}'}},
    "a zero step": {"space": {"C": _float_text(step=0.0)}},
    "a step of 1e-300": {"space": {"C": _float_text(high=1e300, step=1e-300)}},
    "infinite bounds": {"space": {"C": _float_text(high=float("inf"))}},
    "a text bound": {"space": {"C": _float_text(low="a")}},
    "an unknown attribute": {"space": {"C": _float_text(evil=1)}},
    "1001 parameters": {"space": {f"p{i}": _float_text() for i in range(1001)}},
    "10 001 choices": {
        "space": {"k": json.dumps({"name": "CategoricalDistribution", "attributes": {"choices": list(range(10_001))}})}
    },
    "a condition on an unknown parameter": {"conditions": {"nope": {"kernel": ["rbf"]}}},
    "a condition a text": {"conditions": {"degree": "kernel"}},
}


@pytest.mark.parametrize("fields", CRAFTED.values(), ids=CRAFTED.keys())
def test_a_crafted_stored_record_is_one_error_naming_the_study_and_the_attribute(fields):
    from hpo.study_record import check_record

    with pytest.raises(hpo.UserError, match="study 'svm': attribute 'hpo:search': "):
        check_record(_stored(**fields), "svm")


def test_random_mutations_of_a_stored_record_give_a_record_or_one_error():
    """Mutations of every field and every stored distribution's attributes: each is accepted
    (and its space then builds) or refused with a UserError, never another exception."""
    import random

    from hpo.study_record import check_record, record_space

    junk = [None, True, -1, 0, 1e308, float("nan"), float("-inf"), "", "x", [], [1, "a"], {}, {"a": 1}, 2**70]
    base = _stored()
    rng = random.Random(0)
    outcomes = {"accepted": 0, "refused": 0}
    for _ in range(400):
        record = json.loads(json.dumps(base))
        if rng.random() < 0.5:
            record[rng.choice(sorted(record))] = rng.choice(junk)
        else:
            name = rng.choice(sorted(record["space"]))
            data = json.loads(record["space"][name])
            key = rng.choice([*sorted(data["attributes"]), "name", "extra"])
            if key == "name":
                data["name"] = rng.choice(["FloatDistribution", "IntDistribution", "CategoricalDistribution", "X"])
            else:
                data["attributes"][key] = rng.choice(junk)
            record["space"][name] = json.dumps(data)
        try:
            check_record(record, "svm")
            assert record_space(record, "svm")
            outcomes["accepted"] += 1
        except hpo.UserError:
            outcomes["refused"] += 1
    assert outcomes["accepted"] > 0 and outcomes["refused"] > 100


def test_a_worker_refuses_a_crafted_space_before_any_trial(tmp_path):
    from hpo.worker import run_worker

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    result = hpo.tune(
        svm_like,
        SVM_SPACE,
        n_trials=4,
        seed=0,
        storage=storage,
        study_name="svm",
        worker_objective="tests.hpo.test_study_record:svm_like",
        create_only=True,
    )
    crafted = {**result.study.user_attrs["hpo:search"], "space": {"C": _float_text(step=0.0)}}
    result.study.set_user_attr("hpo:search", crafted)
    with pytest.raises(hpo.UserError, match="study 'svm': attribute 'hpo:search': search space parameter 'C'"):
        run_worker(storage, "svm", objective="tests.hpo.test_study_record:svm_like")
    assert all(t.state.name == "WAITING" for t in optuna.load_study(study_name="svm", storage=storage).trials)
