"""hpo.tune: optimizers of the registry, determinism, failures, errors, resume."""

import math
import re

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

import hpo

SPHERE_SPACE = {f"x{i}": FloatDistribution(-1.0, 1.0) for i in range(4)}


def sphere(params):
    return sum((value - 0.3) ** 2 for value in params.values())


def param_columns(result):
    return result.history.filter(like="params_")


@pytest.mark.parametrize("optimizer", ["tpe", "cmaes", "gp"])
def test_model_based_optimizers_improve_on_their_first_ten_trials(optimizer):
    result = hpo.tune(sphere, SPHERE_SPACE, optimizer=optimizer, n_trials=60, seed=0)
    first_ten = result.history["value"][:10].min()
    assert len(result.history) == 60
    assert result.best_value < first_ten
    assert result.best_value == pytest.approx(sphere(result.best_params))
    again = hpo.tune(sphere, SPHERE_SPACE, optimizer=optimizer, n_trials=60, seed=0)
    assert param_columns(again).equals(param_columns(result))


@pytest.mark.parametrize("optimizer", ["random", "qmc"])
def test_space_filling_optimizers(optimizer):
    # They do not learn, so the best of 60 lies in the first 10 with probability ~1/6 for
    # random search (seed 0 is such a case): assert the rate of improvement over seeds.
    improved = 0
    for seed in range(20):
        result = hpo.tune(sphere, SPHERE_SPACE, optimizer=optimizer, n_trials=60, seed=seed)
        improved += result.best_value < result.history["value"][:10].min()
    assert improved >= 12
    one = hpo.tune(sphere, SPHERE_SPACE, optimizer=optimizer, n_trials=60, seed=3)
    two = hpo.tune(sphere, SPHERE_SPACE, optimizer=optimizer, n_trials=60, seed=3)
    assert param_columns(one).equals(param_columns(two))
    other = hpo.tune(sphere, SPHERE_SPACE, optimizer=optimizer, n_trials=60, seed=4)
    assert not param_columns(other).equals(param_columns(one))


def test_maximize_and_mixed_space():
    space = {
        "lr": FloatDistribution(1e-4, 1.0, log=True),
        "layers": IntDistribution(1, 8),
        "act": CategoricalDistribution(["relu", "tanh", "gelu"]),
    }

    def score(p):
        return -abs(math.log10(p["lr"]) + 2) - abs(p["layers"] - 3) + (p["act"] == "gelu")

    result = hpo.tune(score, space, optimizer="tpe", n_trials=40, direction="maximize", seed=1)
    assert result.best_value == result.history["value"].max()
    assert result.history["best_so_far"].is_monotonic_increasing
    assert isinstance(result.study, optuna.Study)


def test_failures_are_recorded_and_the_run_goes_on():
    calls = []

    def flaky(params):
        calls.append(params)
        n = len(calls)
        if n % 5 == 0:
            raise RuntimeError(f"boom at call {n}")
        if n == 3:
            return float("nan")
        if n == 4:
            return float("inf")
        return sphere(params)

    result = hpo.tune(flaky, SPHERE_SPACE, optimizer="tpe", n_trials=25, seed=0)
    history = result.history
    assert len(history) == 25 and len(calls) == 25
    failed = history[history["state"] == "FAIL"]
    assert list(failed["number"]) == [2, 3, 4, 9, 14, 19, 24]
    assert failed["user_attrs_error"].str.contains("RuntimeError: boom").sum() == 5
    assert failed["user_attrs_error"].str.contains("returned nan").sum() == 1
    assert failed["user_attrs_error"].str.contains("returned inf").sum() == 1
    best = result.study.best_trial
    assert best.state == optuna.trial.TrialState.COMPLETE
    assert best.number not in set(failed["number"])


def test_multi_objective_returns_the_pareto_front():
    space = {"x": FloatDistribution(0.0, 1.0), "y": FloatDistribution(0.0, 1.0)}

    def two(params):
        return params["x"], (1 - params["x"]) ** 2 + params["y"]

    for optimizer in ("nsga2", "motpe", "random"):
        result = hpo.tune(two, space, optimizer=optimizer, n_trials=30, directions=["minimize", "minimize"], seed=0)
        front = result.best_trials
        assert result.multi_objective and front
        for a in front:  # no front member dominates another
            for b in front:
                assert not (all(u <= v for u, v in zip(a.values, b.values)) and a.values != b.values)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"optimizer": "bogus"}, "optimizer 'bogus' is unknown; allowed: random"),
        ({"n_trials": 0}, "n_trials must be an integer .*, got 0"),
        ({"direction": "up"}, "direction 'up' is not allowed"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"optimizer": "nsga2"}, "'nsga2' is multi-objective only"),
        ({"optimizer": "cmaes", "directions": ["minimize", "maximize"]}, "'cmaes' handles a single objective"),
        ({"storage": "nosuchdb://x"}, "storage 'nosuchdb://x': cannot open it"),
    ],
)
def test_bad_arguments_raise_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        hpo.tune(sphere, SPHERE_SPACE, **kwargs)


def test_bad_space_is_rejected_before_any_trial():
    with pytest.raises(ValueError, match="'x'"):
        hpo.tune(sphere, {"x": {"type": "float", "low": 1, "high": 0}})


def test_interrupted_sqlite_run_resumes_to_the_requested_total(tmp_path, caplog):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    calls = []

    def interrupted_at_seventh_call(params):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return sphere(params)

    def run():
        return hpo.tune(
            interrupted_at_seventh_call, SPHERE_SPACE, n_trials=20, seed=0, storage=storage, study_name="resume"
        )

    with pytest.raises(KeyboardInterrupt):
        run()
    stored = optuna.load_study(study_name="resume", storage=storage).get_trials()
    assert [t.state.name for t in stored] == ["COMPLETE"] * 6 + ["FAIL"] + ["WAITING"] * 13
    kept = stored[:7]
    assert "interrupted" in kept[-1].user_attrs["error"]

    with caplog.at_level("INFO", logger="hpo"):
        result = run()
    assert "resuming study 'resume': 7 finished, running 13 more" in caplog.text
    trials = result.study.get_trials()
    assert len(trials) == 20 and len(result.history) == 20
    assert [t.params for t in trials[:6]] == [t.params for t in kept[:6]]  # nothing lost
    assert all(t.state.name == "COMPLETE" for t in trials[7:])
    # the resumed sampler does not replay the first run's random start
    first = {tuple(t.params.values()) for t in trials[:7]}
    assert not first & {tuple(t.params.values()) for t in trials[7:]}
    # a rerun of a finished study runs nothing more
    assert len(run().history) == 20


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
    assert "objective: tests.hpo.test_tune:svm_like -> tests.hpo.test_tune:another_objective" in message
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


def test_a_refused_run_creates_no_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    with pytest.raises(hpo.UserError, match="multi-objective only"):
        hpo.tune(sphere, SPHERE_SPACE, optimizer="nsga2", n_trials=5, storage=storage, study_name="refused")
    assert not (tmp_path / "study.db").exists()
    hpo.tune(sphere, SPHERE_SPACE, n_trials=2, storage=storage, study_name="other")
    with pytest.raises(hpo.UserError, match="multi-objective only"):
        hpo.tune(sphere, SPHERE_SPACE, optimizer="nsga2", n_trials=5, storage=storage, study_name="refused")
    assert optuna.get_all_study_names(storage=storage) == ["other"]


def test_registry_lists_the_required_names():
    names = hpo.optimizers()
    assert {"random", "qmc", "tpe", "cmaes", "gp", "nsga2", "motpe"} <= set(names)
    assert all(isinstance(text, str) and text for text in names.values())


def test_per_trial_timeout_fails_the_trial_and_the_run_goes_on():
    import time

    def sometimes_slow(params):
        if params["x0"] > 0.5:
            time.sleep(5)
        return sphere(params)

    result = hpo.tune(sometimes_slow, SPHERE_SPACE, optimizer="random", n_trials=12, seed=0, timeout_per_trial=0.2)
    history = result.history
    slow = history["params_x0"] > 0.5
    assert slow.any() and (~slow).any()
    assert (history.loc[slow, "state"] == "FAIL").all()
    assert history.loc[slow, "user_attrs_error"].str.contains("per-trial time limit of 0.2 s").all()
    assert (history.loc[~slow, "state"] == "COMPLETE").all()


def test_objective_raising_trial_pruned_marks_it_pruned():
    def prune_half(params):
        if params["x0"] < 0:
            raise optuna.TrialPruned()
        return sphere(params)

    result = hpo.tune(prune_half, SPHERE_SPACE, optimizer="random", n_trials=10, seed=0)
    states = set(result.history["state"])
    assert states == {"PRUNED", "COMPLETE"}


def test_an_objective_edit_counts_as_a_change_of_search_and_a_comment_does_not(tmp_path):
    from hpo.loading import load_callable
    from hpo.study_record import source_digest

    def digest(name, source):
        (tmp_path / f"{name}.py").write_text(source)
        return source_digest(load_callable(f"{tmp_path / name}.py:objective"))

    original = digest("a", "def objective(p):\n    return p['x'] ** 2\n")
    assert digest("b", "def objective(p):  # squared\n\n    return p['x']**2\n") == original
    assert digest("c", "def objective(p):\n    return p['x'] ** 3\n") != original
