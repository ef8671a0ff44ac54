"""``hpo.trials``: Ctrl-C at the moments where a run could hang or lose work: right after the heartbeat thread
and the progress bar (with tqdm's monitor thread) start and stop, and between taking a trial
from the queue and running it. Each time the run stops with ``KeyboardInterrupt``, no
non-daemon thread is left, the bar is closed, no trial stays RUNNING, the finished ones are
kept and a rerun completes the budget."""

import importlib
import os
import signal
import threading

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.storages._heartbeat import get_heartbeat_thread

import hpo
import hpo.trials
from hpo.trials import INTERRUPTED

tune_module = importlib.import_module("hpo.tuning")

SPACE = {"x": FloatDistribution(-1.0, 1.0), "y": FloatDistribution(-1.0, 1.0)}

N_TRIALS = 6

INTERRUPTED_TRIAL = 2  # the third trial; the first two finish


def square(params):
    return params["x"] ** 2 + params["y"] ** 2


@pytest.fixture
def ctrl_c():
    """A Ctrl-C sent to this process, handled as in a terminal (pytest may run with SIGINT
    ignored when started in the background)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield lambda: os.kill(os.getpid(), signal.SIGINT)
    signal.signal(signal.SIGINT, previous)


def interrupt_heartbeat(monkeypatch, ctrl_c, method: str) -> None:
    """Ctrl-C right after the heartbeat thread of the interrupted trial starts or stops."""
    seen = []

    def heartbeat_thread(trial_id, storage):
        thread = get_heartbeat_thread(trial_id, storage)
        original = getattr(thread, method)

        def then_interrupt():
            original()
            seen.append(trial_id)
            if len(seen) == INTERRUPTED_TRIAL + 1:
                ctrl_c()

        setattr(thread, method, then_interrupt)
        return thread

    monkeypatch.setattr(hpo.trials, "get_heartbeat_thread", heartbeat_thread)


def interrupt_progress_bar(monkeypatch, ctrl_c, method: str) -> list:
    """Ctrl-C right after the bar (and tqdm's monitor thread) starts, or after it closes;
    returns the bars made, to check that they were closed."""
    bars = []
    base = tune_module.tqdm

    class Bar(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            bars.append(self)
            if method == "start":
                ctrl_c()

        def close(self):
            closing = not self.disable
            super().close()
            if method == "stop" and closing:
                ctrl_c()

    monkeypatch.setattr(tune_module, "tqdm", Bar)
    return bars


def interrupt_before_the_trial_runs(monkeypatch, ctrl_c) -> None:
    """Ctrl-C after a trial is taken from the queue (RUNNING) and before it starts."""
    seen = []
    original = hpo.trials.run_trial

    def run_trial(*args, **kwargs):
        seen.append(1)
        if len(seen) == INTERRUPTED_TRIAL + 1:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(hpo.trials, "run_trial", run_trial)


@pytest.mark.parametrize(
    "where",
    ["heartbeat start", "heartbeat stop", "progress start", "progress stop", "before the trial runs"],
)
def test_ctrl_c_leaves_no_thread_no_running_trial_and_loses_nothing(tmp_path, monkeypatch, ctrl_c, where):
    storage = f"sqlite:///{tmp_path / 'study.db'}"  # an RDB storage: trials run with heartbeats
    bars = []
    thing, moment = where.split(" ", 1)
    if thing == "heartbeat":
        interrupt_heartbeat(monkeypatch, ctrl_c, "start" if moment == "start" else "join")
    elif thing == "progress":
        bars = interrupt_progress_bar(monkeypatch, ctrl_c, moment)
    else:
        interrupt_before_the_trial_runs(monkeypatch, ctrl_c)
    threads_before = set(threading.enumerate())

    with pytest.raises(KeyboardInterrupt):
        hpo.tune(square, SPACE, n_trials=N_TRIALS, seed=0, storage=storage, study_name="s", show_progress_bar=True)
    monkeypatch.undo()  # the rerun below runs uninterrupted

    left = [t.name for t in set(threading.enumerate()) - threads_before if t.is_alive() and not t.daemon]
    assert left == []
    assert all(bar.disable for bar in bars)  # closed (tqdm stops its monitor with the last bar)
    trials = optuna.load_study(study_name="s", storage=storage).get_trials()
    states = [t.state.name for t in trials]
    assert "RUNNING" not in states
    if thing == "progress" and moment == "start":  # before any trial: none made ahead of its run
        assert states == []
    elif thing == "progress":  # after the last one
        assert states == ["COMPLETE"] * N_TRIALS
    else:
        assert states[:INTERRUPTED_TRIAL] == ["COMPLETE"] * INTERRUPTED_TRIAL
        assert states[INTERRUPTED_TRIAL] == "FAIL" and trials[INTERRUPTED_TRIAL].user_attrs["error"] == INTERRUPTED
    finished = {t.number: t.params for t in trials if t.state.name == "COMPLETE"}

    again = hpo.tune(square, SPACE, n_trials=N_TRIALS, seed=0, storage=storage, study_name="s").study.get_trials()
    assert len(again) == N_TRIALS and "RUNNING" not in {t.state.name for t in again}
    assert finished.items() <= {t.number: t.params for t in again}.items()


def _options(params, verbose=False):
    return float(verbose is not False)


def _reporter(params, trial=None):
    return float(trial is None)


@pytest.mark.parametrize(
    ("objective", "takes"),
    [
        (lambda params: 0.0, False),
        (lambda params, reporter: 0.0, True),
        (_reporter, True),
        (_options, False),  # an option of the objective, not a place for the reporter
        (lambda params, *rest: 0.0, True),
        (lambda params, *, verbose=False: 0.0, False),
    ],
)
def test_the_reporter_goes_to_a_second_parameter_only_where_one_is_meant_for_it(objective, takes):
    from hpo.trials import takes_trial

    assert takes_trial(objective) is takes


def test_an_objective_option_with_a_default_keeps_its_default():
    result = hpo.tune(_options, {"x": optuna.distributions.FloatDistribution(0, 1)}, n_trials=3, seed=0)
    assert [t.value for t in result.study.trials] == [0.0, 0.0, 0.0]
    reported = hpo.tune(_reporter, {"x": optuna.distributions.FloatDistribution(0, 1)}, n_trials=3, seed=0)
    assert [t.value for t in reported.study.trials] == [0.0, 0.0, 0.0]  # it got the reporter


SPACE_X = {"x": FloatDistribution(0, 1)}


def test_an_optuna_style_objective_stops_after_the_first_failures_instead_of_the_budget(tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    for n_jobs, name in ((1, "one"), (2, "two")):
        with pytest.raises(
            hpo.UserError, match=r"first 5 trials all failed with AttributeError: .*catch=\(AttributeError,\)"
        ):
            hpo.tune(
                lambda trial: trial.suggest_float("x", 0, 1),
                SPACE_X,
                n_trials=20,
                seed=0,
                n_jobs=n_jobs,
                storage=storage,
                study_name=name,
            )
        states = [t.state.name for t in optuna.load_study(study_name=name, storage=storage).trials]
        assert 5 <= states.count("FAIL") <= 4 + n_jobs and set(states) == {"FAIL"}  # nothing left queued


def test_caught_types_outcomes_of_a_working_objective_and_a_success_never_stop_the_run():
    def nan(params):
        return float("nan")

    assert len(hpo.tune(nan, SPACE_X, n_trials=8, seed=0).study.trials) == 8  # NaN: an outcome
    caught = hpo.tune(
        lambda trial: trial.suggest_float("x", 0, 1), SPACE_X, n_trials=8, seed=0, catch=(AttributeError,)
    )
    assert [t.state.name for t in caught.study.trials] == ["FAIL"] * 8
    calls = []

    def late(params):
        calls.append(1)
        if len(calls) in (1, 2, 3, 4, 6, 7, 8, 9, 10):
            raise ValueError("flaky")
        return params["x"]

    states = [t.state.name for t in hpo.tune(late, SPACE_X, n_trials=12, seed=0).study.trials]
    assert states.count("COMPLETE") == 3 and len(states) == 12  # a success in the first 5: no stop later
    mixed = []

    def alternating(params):
        mixed.append(1)
        raise (ValueError if len(mixed) % 2 else KeyError)("x")

    assert len(hpo.tune(alternating, SPACE_X, n_trials=8, seed=0).study.trials) == 8  # two types: not one error
    with pytest.raises(hpo.UserError, match="catch must be a tuple of exception classes"):
        hpo.tune(lambda p: 0.0, SPACE_X, n_trials=2, catch=("ValueError",))
