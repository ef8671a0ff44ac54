"""``hpo.tune``: optimizers, failures, multi-objective studies, resume, constraints, callbacks,
timeouts, threads, initial configurations, the history, transfer from source studies."""

import math
import sys
import threading
import time
import types
import warnings

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

import hpo
from hpo.errors import UserError
from hpo.optimizers import get_optimizer
from hpo.space import when

SPACE = {"x": FloatDistribution(-1.0, 1.0), "y": FloatDistribution(-1.0, 1.0)}


def target(params):
    return (params["x"] - 0.5) ** 2 + (params["y"] - 0.5) ** 2


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
        if get_optimizer(name).single_objective
        and not get_optimizer(name).needs_sources
        and get_optimizer(name).extra is None  # the peers: tests/hpo/samplers/test_peers.py
    ]


def _curve_objective(params, trial):
    for step in range(8):
        trial.report(params["x"] ** 2 + 1.0 / (step + 1), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return params["x"] ** 2


SPHERE_SPACE = {f"x{i}": FloatDistribution(-1.0, 1.0) for i in range(4)}


def sphere(params):
    return sum((value - 0.3) ** 2 for value in params.values())


def param_columns(result):
    return result.history.filter(like="params_")


def test_a_budget_stored_larger_than_asked_runs_only_what_is_asked(tmp_path):
    import hpo
    from hpo.trials import budget

    def objective(params):
        return params["x"]

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    space = {"x": {"type": "float", "low": 0, "high": 1}}
    created = hpo.tune(
        objective, space, optimizer="random", n_trials=40, storage=url, study_name="big", create_only=True
    )
    assert budget(created.study) == 40 and created.study.trials == []  # no trial made ahead of its run
    result = hpo.tune(objective, space, optimizer="random", n_trials=5, storage=url, study_name="big")
    states = [t.state.name for t in result.study.get_trials(deepcopy=False)]
    assert states == ["COMPLETE"] * 5 and budget(result.study) == 5  # the last n_trials asked is the budget
    with pytest.raises(UserError, match="n_trials must be an integer in"):
        hpo.tune(lambda p: p["x"], space, n_trials=10**9)


def test_any_optimizer_starts_with_the_sources_portfolio(source_studies):
    seen = [
        t.params for i in range(2) for t in optuna.load_study(study_name=f"source{i}", storage=source_studies).trials
    ]
    result = hpo.tune(
        target,
        SPACE,
        optimizer="tpe",
        n_trials=12,
        seed=0,
        transfer_from=["source0", "source1"],
        transfer_storage=source_studies,
    )
    assert all(t.params in seen for t in result.study.trials[:5])  # the portfolio: source configurations
    assert not any(t.params in seen for t in result.study.trials[5:])  # then TPE's own
    scratch = hpo.tune(target, SPACE, optimizer="tpe", n_trials=12, seed=0)
    assert result.best_value < scratch.best_value  # the sources' optima are near the target's


def test_portfolio_size_sets_how_many_source_configurations_come_first(source_studies):
    from hpo.transfer import load_sources, portfolio

    transfer = dict(transfer_from=["source0", "source1"], transfer_storage=source_studies)
    result = hpo.tune(target, SPACE, optimizer="gp-search", n_trials=6, seed=0, portfolio_size=3, **transfer)
    sources = load_sources(["source0", "source1"], SPACE, "minimize", storage=source_studies)
    assert [t.params for t in result.study.trials[:3]] == portfolio(sources, SPACE, 3, seed=0)
    assert len(result.study.trials) == 6
    with pytest.raises(UserError, match="portfolio_size: the portfolio comes from source studies"):
        hpo.tune(target, SPACE, n_trials=3, portfolio_size=3)
    with pytest.raises(UserError, match="portfolio_size must be an integer >= 1"):
        hpo.tune(target, SPACE, n_trials=3, portfolio_size=0, **transfer)


def test_transfer_refusals_name_the_culprit(source_studies):
    with pytest.raises(UserError, match=r"no study named 'nope'"):
        hpo.tune(target, SPACE, n_trials=3, transfer_from=["nope"], transfer_storage=source_studies)
    with pytest.raises(UserError, match="only single-objective studies transfer"):
        hpo.tune(
            lambda p: (1.0, 2.0),
            SPACE,
            directions=["minimize", "minimize"],
            optimizer="nsga2",
            n_trials=3,
            transfer_from=["source0"],
            transfer_storage=source_studies,
        )
    with pytest.raises(UserError, match="needs source studies"):
        hpo.tune(target, SPACE, optimizer="sac-hmr-transfer", n_trials=3)


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


def test_the_history_keeps_the_constraint_values_and_feasibility():
    def constraints(params):
        return [params["x"] - 0.5, -1.0]  # feasible where x <= 0.5

    result = hpo.tune(lambda p: -p["x"], {"x": FloatDistribution(-1, 1)}, n_trials=20, seed=0, constraints=constraints)
    history = result.history
    assert history["constraint_0"].tolist() == pytest.approx([x - 0.5 for x in history["params_x"]])
    assert (history["constraint_1"] == -1.0).all()
    assert history["feasible"].tolist() == [x <= 0.5 for x in history["params_x"]]
    # the best so far counts feasible trials only: it ends at the feasible best, not at -max(x)
    assert history["best_so_far"].iloc[-1] == result.best_value == -history.loc[history["feasible"], "params_x"].max()


def test_a_run_with_no_feasible_trial_says_so():
    result = hpo.tune(lambda p: -p["x"], {"x": FloatDistribution(0, 1)}, n_trials=4, seed=0, constraints=lambda p: 1.0)
    assert result.history["feasible"].tolist() == [False] * 4 and result.history["best_so_far"].isna().all()
    with pytest.raises(hpo.UserError, match="no completed trial is feasible"):
        _ = result.best_params


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


@pytest.mark.parametrize("storage", [None, "sqlite"])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_timeout_stops_starting_trials_and_leaves_nothing_queued(storage, n_jobs, tmp_path, monkeypatch):
    url = None if storage is None else f"sqlite:///{tmp_path / 'study.db'}"
    clock = {"now": 0.0}  # the run's clock, advanced only by the trials: 1/8 s each
    lock = threading.Lock()
    monkeypatch.setattr(sys.modules["hpo.tuning"], "time", types.SimpleNamespace(monotonic=lambda: clock["now"]))

    def eighth_of_a_second(params):
        with lock:
            clock["now"] += 0.125
        return params["x"]

    result = hpo.tune(
        eighth_of_a_second,
        {"x": FloatDistribution(0, 1)},
        n_trials=100_000,
        timeout=0.5,
        seed=0,
        n_jobs=n_jobs,
        storage=url,
        study_name="s",
    )
    states = [t.state.name for t in result.study.get_trials(deepcopy=False)]
    # the 5th trial would start at 0.5 s: only a thread already past the check runs one more
    assert states == ["COMPLETE"] * len(states) and 4 <= len(states) <= 3 + n_jobs


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
    assert [t.state.name for t in stored] == ["COMPLETE"] * 6 + ["FAIL"]
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


def test_a_refused_run_creates_no_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    with pytest.raises(hpo.UserError, match="multi-objective only"):
        hpo.tune(sphere, SPHERE_SPACE, optimizer="nsga2", n_trials=5, storage=storage, study_name="refused")
    assert not (tmp_path / "study.db").exists()
    hpo.tune(sphere, SPHERE_SPACE, n_trials=2, storage=storage, study_name="other")
    with pytest.raises(hpo.UserError, match="multi-objective only"):
        hpo.tune(sphere, SPHERE_SPACE, optimizer="nsga2", n_trials=5, storage=storage, study_name="refused")
    assert optuna.get_all_study_names(storage=storage) == ["other"]


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


def test_a_progress_bar_into_a_log_writes_few_frames(capsys):
    def slow(params):
        time.sleep(0.01)
        return params["x"]

    hpo.tune(slow, {"x": FloatDistribution(0, 1)}, n_trials=40, seed=0, show_progress_bar=True)
    err = capsys.readouterr().err  # not a terminal, as a log file or a pipe
    assert "40/40" in err and err.count("\r") <= 4  # first and last frames (about 0.5 s in all)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_study_stop_from_a_callback_ends_the_run_as_in_optuna(n_jobs):
    from optuna.study import MaxTrialsCallback

    result = hpo.tune(
        lambda p: p["x"],
        {"x": FloatDistribution(0, 1)},
        n_trials=20,
        seed=0,
        n_jobs=n_jobs,
        callbacks=[lambda study, trial: study.stop() if trial.number == 4 else None],
    )
    assert 5 <= len(result.study.trials) <= 4 + n_jobs  # the trials already running finish
    capped = hpo.tune(
        lambda p: p["x"], {"x": FloatDistribution(0, 1)}, n_trials=20, seed=0, callbacks=[MaxTrialsCallback(3)]
    )
    assert [t.state.name for t in capped.study.trials] == ["COMPLETE"] * 3


def test_study_stop_from_the_objective_and_a_rerun_goes_on(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"

    def objective(params, trial):
        if trial.number == 2:
            trial.study.stop()
        return params["x"]

    first = hpo.tune(objective, {"x": FloatDistribution(0, 1)}, n_trials=10, seed=0, storage=url, study_name="s")
    assert len(first.study.trials) == 3
    again = hpo.tune(objective, {"x": FloatDistribution(0, 1)}, n_trials=10, seed=0, storage=url, study_name="s")
    assert [t.state.name for t in again.study.trials] == ["COMPLETE"] * 10  # an earlier stop() does not carry over


@pytest.mark.parametrize("name", ["RetryHeartbeatStaleTrialCallback", "RetryFailedTrialCallback"])
def test_retry_callbacks_retry_failures_within_the_budget(name):
    retry_callback = getattr(optuna.storages, name)
    calls = []

    def flaky(params):
        calls.append(params["x"])
        if len(calls) == 2:
            raise RuntimeError("flaky")
        return params["x"]

    with warnings.catch_warnings():  # RetryFailedTrialCallback is deprecated since Optuna 4.9
        warnings.simplefilter("ignore", FutureWarning)
        callback = retry_callback(max_retry=1)
    result = hpo.tune(flaky, {"x": FloatDistribution(0, 1)}, n_trials=6, seed=0, callbacks=[callback])
    trials = result.study.trials
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL"] + ["COMPLETE"] * 4
    retry = [t for t in trials if retry_callback.retried_trial_number(t) == 1]
    assert len(retry) == 1 and retry[0].params == trials[1].params


def test_a_per_trial_time_limit_where_it_cannot_hold_is_refused():
    with pytest.raises(UserError, match=r"timeout_per_trial=0.3 needs n_jobs=1, got n_jobs=2"):
        hpo.tune(lambda p: p["x"], {"x": FloatDistribution(0, 1)}, n_trials=4, n_jobs=2, timeout_per_trial=0.3)
    errors = []

    def in_a_thread():
        try:
            hpo.tune(lambda p: p["x"], {"x": FloatDistribution(0, 1)}, n_trials=4, timeout_per_trial=0.3)
        except UserError as err:
            errors.append(str(err))

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "needs the main thread" in errors[0]


def test_a_stored_budget_that_is_not_a_trial_count_is_refused(tmp_path):
    from hpo.trials import BUDGET_KEY, work

    url = f"sqlite:///{tmp_path / 'study.db'}"
    space = {"x": FloatDistribution(0, 1)}
    study = hpo.tune(lambda p: p["x"], space, n_trials=3, storage=url, study_name="s", create_only=True).study
    for value in ("3", -1, True, 1e9, 10**12):
        study.set_user_attr(BUDGET_KEY, value)
        with pytest.raises(UserError, match=r"stored budget 'hpo:budget' is .*allowed: an integer from 0"):
            work(study, lambda p: p["x"], space)
    assert study.trials == []
