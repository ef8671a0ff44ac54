"""hpo.tune's Optuna-parity features: pruning, conditional and define-by-run spaces,
constraints, callbacks, whole-run timeout, parallel trials and initial configurations."""

import time

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

import hpo
from hpo.errors import UserError
from hpo.optimizers import get_optimizer
from hpo.space import when

CONDITIONAL = {
    "kernel": CategoricalDistribution(["linear", "poly"]),
    "degree": when(IntDistribution(1, 4), kernel="poly"),
    "x": FloatDistribution(-1.0, 1.0),
}


def _conditional_objective(params):
    return params["x"] ** 2 + params.get("degree", 0)


def _single_objective_optimizers():
    return [
        name
        for name in hpo.optimizers()
        if get_optimizer(name).single_objective and get_optimizer(name).transfer_factory is None
    ]


@pytest.mark.parametrize("optimizer", _single_objective_optimizers())
def test_inactive_parameters_are_absent_for_every_optimizer(optimizer):
    result = hpo.tune(_conditional_objective, CONDITIONAL, optimizer=optimizer, n_trials=14, seed=0)
    trials = result.study.trials
    assert len(trials) == 14 and all(t.state.name == "COMPLETE" for t in trials)
    assert {t.params["kernel"] for t in trials} == {"linear", "poly"}
    for trial in trials:
        assert ("degree" in trial.params) == (trial.params["kernel"] == "poly")


@pytest.mark.parametrize("optimizer", ["nsga2", "motpe"])
def test_inactive_parameters_are_absent_for_multi_objective_optimizers(optimizer):
    result = hpo.tune(
        lambda p: (_conditional_objective(p), -p["x"]),
        CONDITIONAL,
        optimizer=optimizer,
        directions=["minimize", "minimize"],
        n_trials=12,
        seed=0,
    )
    for trial in result.study.trials:
        assert ("degree" in trial.params) == (trial.params["kernel"] == "poly")


def test_define_by_run_objective_suggests_its_own_parameters():
    def objective(trial):
        kind = trial.suggest_categorical("kind", ["a", "b"])
        return trial.suggest_float("y", 0.0, 1.0) if kind == "b" else 1.0

    result = hpo.tune(objective, n_trials=12, seed=0)
    assert len(result.study.trials) == 12
    for trial in result.study.trials:
        assert ("y" in trial.params) == (trial.params["kind"] == "b")


def _curve_objective(params, trial):
    for step in range(8):
        trial.report(params["x"] ** 2 + 1.0 / (step + 1), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return params["x"] ** 2


def test_pruned_trials_are_pruned_and_count_toward_the_budget():
    result = hpo.tune(_curve_objective, {"x": FloatDistribution(-1, 1)}, pruner="median", n_trials=30, seed=0)
    states = [t.state.name for t in result.study.trials]
    assert len(states) == 30
    assert states.count("PRUNED") > 0 and states.count("COMPLETE") > 0
    pruned = [t for t in result.study.trials if t.state.name == "PRUNED"]
    assert all(len(t.intermediate_values) < 8 for t in pruned)
    plain = hpo.tune(_curve_objective, {"x": FloatDistribution(-1, 1)}, pruner="none", n_trials=10, seed=0)
    assert all(t.state.name == "COMPLETE" for t in plain.study.trials)


def test_constraints_give_a_feasible_best():
    def constraints(params):
        return params["x"] - 0.5  # feasible where x <= 0.5

    result = hpo.tune(lambda p: -p["x"], {"x": FloatDistribution(-1, 1)}, n_trials=25, seed=0, constraints=constraints)
    assert result.best_params["x"] <= 0.5
    values = [t.params["x"] for t in result.study.trials]
    assert max(values) > 0.5  # infeasible points were tried, yet not chosen as best


def test_constraints_can_read_what_the_objective_recorded():
    def objective(params, trial):
        trial.set_user_attr("cost", params["x"] * 10)
        return -params["x"]

    result = hpo.tune(
        objective,
        {"x": FloatDistribution(0, 1)},
        optimizer="gp",
        n_trials=15,
        seed=0,
        constraints=lambda params, attrs: attrs["cost"] - 3.0,
    )
    assert result.best_params["x"] <= 0.3


def test_constraints_are_recorded_on_each_trial_without_optuna_deprecation_warnings(recwarn):
    result = hpo.tune(
        lambda p: (p["x"], p["y"]),
        {"x": FloatDistribution(0, 1), "y": FloatDistribution(0, 1)},
        directions=["minimize", "maximize"],
        optimizer="nsga2",
        n_trials=8,
        seed=0,
        constraints=lambda p: np.array([p["x"] - 0.5, p["y"] - 0.5]),
    )
    for trial in result.study.trials:
        assert trial.constraints == {"0": trial.params["x"] - 0.5, "1": trial.params["y"] - 0.5}
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)]


def test_a_failing_or_malformed_constraint_fails_its_trial_and_the_run_goes_on():
    def constraints(params):
        if params["x"] < 0.5:
            raise RuntimeError("no constraint here")
        return "feasible"

    result = hpo.tune(lambda p: p["x"], {"x": FloatDistribution(0, 1)}, n_trials=6, seed=0, constraints=constraints)
    errors = [t.user_attrs["error"] for t in result.study.trials]
    assert len(errors) == 6 and all(t.state.name == "FAIL" for t in result.study.trials)
    assert any("RuntimeError: no constraint here" in e for e in errors)
    assert any("constraints must return a number or a sequence of numbers, got 'feasible'" in e for e in errors)


def test_a_sampler_instance_uses_the_recorded_constraints():
    result = hpo.tune(
        lambda p: -p["x"],
        {"x": FloatDistribution(-1, 1)},
        optimizer=optuna.samplers.TPESampler(seed=0, n_startup_trials=5),
        n_trials=20,
        constraints=lambda p: p["x"] - 0.5,
    )
    assert result.best_params["x"] <= 0.5
    assert max(t.params["x"] for t in result.study.trials) > 0.5


def test_callbacks_see_every_trial_in_order():
    seen = []
    hpo.tune(
        lambda p: p["x"],
        {"x": FloatDistribution(0, 1)},
        n_trials=7,
        seed=0,
        callbacks=[lambda study, trial: seen.append((study.study_name, trial.number, trial.state.name))],
    )
    assert [number for _, number, _ in seen] == list(range(7))
    assert {state for _, _, state in seen} == {"COMPLETE"}


def test_timeout_stops_starting_trials_and_keeps_the_rest_queued():
    def slow(params):
        time.sleep(0.1)
        return params["x"]

    result = hpo.tune(slow, {"x": FloatDistribution(0, 1)}, n_trials=200, timeout=0.5, seed=0)
    states = [t.state.name for t in result.study.get_trials(deepcopy=False)]
    assert 1 <= states.count("COMPLETE") < 200
    assert states.count("WAITING") == 200 - states.count("COMPLETE")


@pytest.mark.parametrize("storage", [None, "sqlite"])
def test_parallel_trials_run_exactly_the_budget(storage, tmp_path):
    url = None if storage is None else f"sqlite:///{tmp_path / 'study.db'}"
    result = hpo.tune(
        lambda p: (time.sleep(0.01), p["x"])[1],
        {"x": FloatDistribution(0, 1)},
        n_trials=24,
        n_jobs=4,
        seed=0,
        storage=url,
        study_name="parallel" if url else None,
    )
    trials = result.study.get_trials(deepcopy=False)
    assert len(trials) == 24 and all(t.state.name == "COMPLETE" for t in trials)
    assert sorted(t.number for t in trials) == list(range(24))
    assert all(t.datetime_start is not None and t.datetime_start <= t.datetime_complete for t in trials)


def test_initial_configs_are_evaluated_first_and_not_repeated_on_resume(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    configs = [{"x": 0.25}, {"x": 0.75}]
    first = hpo.tune(
        lambda p: p["x"],
        {"x": FloatDistribution(0, 1)},
        n_trials=5,
        seed=0,
        storage=url,
        study_name="s",
        initial_configs=configs,
    )
    assert [t.params["x"] for t in first.study.trials[:2]] == [0.25, 0.75]
    again = hpo.tune(
        lambda p: p["x"],
        {"x": FloatDistribution(0, 1)},
        n_trials=8,
        seed=0,
        storage=url,
        study_name="s",
        initial_configs=configs,
    )
    assert [t.params["x"] for t in again.study.trials].count(0.25) == 1
    assert len(again.study.trials) == 8


def test_history_has_no_internal_columns():
    result = hpo.tune(lambda p: p["x"], {"x": FloatDistribution(0, 1)}, n_trials=12, seed=0)
    columns = list(result.history.columns)
    assert not [c for c in columns if c.startswith("system_attrs_") or c.startswith("user_attrs_hpo:")]
    assert "params_x" in columns and "best_so_far" in columns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            dict(pruner="median", directions=["minimize", "minimize"]),
            r"pruner 'median': Optuna prunes single-objective",
        ),
        (dict(pruner="asha"), r"pruner 'asha' is unknown"),
        (dict(constraints=lambda p: 0.0, optimizer="cmaes"), r"optimizer 'cmaes' does not handle constraints"),
        (dict(n_jobs=0), r"n_jobs must be an integer >= 1, got 0"),
        (dict(timeout=-1), r"timeout"),
        (dict(initial_configs=[{"z": 1}]), r"initial_configs\[0\]: 'z' is not a parameter"),
        (dict(initial_configs=[{"x": 5.0}]), r"initial_configs\[0\]: x=5.0 is outside"),
        (dict(callbacks=[1]), r"callbacks: 1 is not callable"),
    ],
)
def test_bad_arguments_name_the_culprit(kwargs, message):
    with pytest.raises(UserError, match=message):
        hpo.tune(
            lambda p: [1.0, 1.0] if "directions" in kwargs else 1.0,
            {"x": FloatDistribution(0, 1)},
            n_trials=3,
            **kwargs,
        )


def test_a_when_naming_an_unknown_parameter_is_refused_before_anything_runs():
    ran = []
    space = {"x": {"type": "float", "low": 0, "high": 1, "when": {"mode": "a"}}}
    with pytest.raises(UserError, match=r"'when' names 'mode'"):
        hpo.tune(lambda p: ran.append(p) or 0.0, space, n_trials=3)
    assert ran == []


def test_workers_and_reruns_keep_the_conditions(tmp_path):
    import math

    from hpo.space import load_space
    from hpo.worker import run_worker

    path = tmp_path / "space.yaml"
    path.write_text(
        "kernel: {type: categorical, choices: [linear, poly]}\n"
        "degree: {type: int, low: 1, high: 4, when: {kernel: poly}}\n"
    )
    space = load_space(path)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    hpo.tune(
        math.hypot,
        space,
        optimizer="random",
        n_trials=12,
        seed=0,
        storage=url,
        study_name="conditional",
        create_only=True,
        worker_objective="math:hypot",
    )
    # math.hypot(params) fails (a dict is not a number): the trials still show what was suggested
    study, ran = run_worker(url, "conditional", objective="math:hypot", seed=0)
    assert ran == 12
    for trial in study.trials:
        assert ("degree" in trial.params) == (trial.params["kernel"] == "poly")
    path.write_text(
        "kernel: {type: categorical, choices: [linear, poly]}\n"
        "degree: {type: int, low: 1, high: 4, when: {kernel: linear}}\n"
    )
    hpo.tune(_conditional_objective_2, space, optimizer="random", n_trials=3, storage=url, study_name="rerun")
    changed = load_space(path)
    with pytest.raises(UserError, match=r"parameter 'degree': active when \{'kernel': \['poly'\]\}"):
        hpo.tune(_conditional_objective_2, changed, optimizer="random", n_trials=4, storage=url, study_name="rerun")


def _conditional_objective_2(params):
    return float(params.get("degree", 0))


def test_the_built_in_boosting_task_reports_per_step_and_keeps_its_value():
    from hpo.tasks import get_task

    task = get_task("hgb-breast-cancer")
    config = {
        "learning_rate": 0.1,
        "max_iter": 60,
        "max_leaf_nodes": 8,
        "min_samples_leaf": 10,
        "l2_regularization": 1e-3,
    }
    result = hpo.tune(
        task.objective, task.space, n_trials=1, pruner="median", direction="maximize", initial_configs=[config]
    )
    trial = result.study.trials[0]
    assert len(trial.intermediate_values) == 10  # one report per tenth of max_iter
    assert trial.value == pytest.approx(task.objective(config), abs=1e-12)  # same score as one fit
