"""``hpo.checkpoints`` through ``hpo.tune(checkpoint_dir=, resumes=)``: a pruned trial with a
saved checkpoint is paused, and resumed from it, the most promising first, once each, also
with two workers on one storage; the arguments are checked."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.pruners import BasePruner
from optuna.trial import TrialState

import hpo
from hpo.checkpoints import PAUSED_AT, RESUMED_FROM, START_STEP, resume_order
from hpo.errors import UserError

STEPS = 6
SPACE = {"x": FloatDistribution(0.0, 1.0)}


class StopAtStepTwo(BasePruner):
    """Stops every trial with x above 0.5 at step 2 the first time it gets there."""

    def prune(self, study, trial):
        return trial.params["x"] > 0.5 and trial.last_step == 2 and RESUMED_FROM not in trial.user_attrs


def curve(x: float, step: int) -> float:
    return x + 1.0 / step


def checkpointing(trained: list):
    """An objective that saves its state after each step and resumes from it; ``trained``
    gets (trial number, steps trained in this call)."""

    def objective(params, reporter):
        state = reporter.checkpoint / "state.json"
        start = 0
        if reporter.resumed:
            start = json.loads(state.read_text())["step"]
            assert start == reporter.start_step
        steps = []
        for step in range(start + 1, STEPS + 1):
            steps.append(step)
            state.write_text(json.dumps({"step": step}))
            reporter.report(curve(params["x"], step), step)
            if reporter.should_prune():
                trained.append((reporter.number, steps))
                raise optuna.TrialPruned()
        trained.append((reporter.number, steps))
        return curve(params["x"], STEPS)

    return objective


def test_a_paused_trial_is_resumed_from_its_checkpoint_and_trains_only_the_steps_left(tmp_path):
    trained: list = []
    result = hpo.tune(
        checkpointing(trained),
        SPACE,
        n_trials=8,
        seed=0,
        pruner=StopAtStepTwo(),
        checkpoint_dir=tmp_path / "checkpoints",
        resumes=2,
    )
    trials = result.study.trials
    paused = [t for t in trials if PAUSED_AT in t.user_attrs]
    resumed = [t for t in trials if RESUMED_FROM in t.user_attrs]
    assert len(trials) == 8 + 2 and len(paused) >= 2 and len(resumed) == 2
    assert all(t.state == TrialState.PRUNED and t.user_attrs[PAUSED_AT] == 2 for t in paused)
    by_number = {t.number: t for t in trials}
    for trial in resumed:
        source = by_number[trial.user_attrs[RESUMED_FROM]]
        assert trial.params == source.params and trial.user_attrs[START_STEP] == 2
        assert trial.state == TrialState.COMPLETE and trial.value == pytest.approx(curve(trial.params["x"], STEPS))
        # the curve goes on: the paused steps copied, the rest trained by the resumption alone
        assert sorted(trial.intermediate_values) == list(range(1, STEPS + 1))
        assert dict(trained)[trial.number] == list(range(3, STEPS + 1))
        assert (tmp_path / "checkpoints" / f"trial-{source.number}" / "state.json").is_file()
    # the most promising paused trials first: the lowest values at step 2
    expected = sorted(paused, key=lambda t: t.intermediate_values[2])[:2]
    assert [t.user_attrs[RESUMED_FROM] for t in resumed] == [t.number for t in expected]


def test_a_pruned_trial_without_a_checkpoint_is_not_paused_nor_resumed(tmp_path):
    def no_checkpoint(params, reporter):
        for step in range(1, STEPS + 1):
            reporter.report(curve(params["x"], step), step)
            if reporter.should_prune():
                raise optuna.TrialPruned()
        return curve(params["x"], STEPS)

    result = hpo.tune(
        no_checkpoint, SPACE, n_trials=6, seed=0, pruner=StopAtStepTwo(), checkpoint_dir=tmp_path, resumes=3
    )
    states = [t.state for t in result.study.trials]
    assert len(states) == 6 and TrialState.PRUNED in states
    assert not any(PAUSED_AT in t.user_attrs or RESUMED_FROM in t.user_attrs for t in result.study.trials)


def test_two_workers_on_one_storage_never_resume_a_trial_twice(tmp_path):
    options = dict(
        n_trials=12,
        seed=1,
        pruner=StopAtStepTwo(),
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        study_name="freeze-thaw",
        checkpoint_dir=tmp_path / "checkpoints",
        resumes=20,
    )
    trained: list = []
    trials = hpo.tune(checkpointing(trained), SPACE, n_jobs=2, **options).study.trials
    paused = [t.number for t in trials if PAUSED_AT in t.user_attrs]
    sources = [t.user_attrs[RESUMED_FROM] for t in trials if RESUMED_FROM in t.user_attrs]
    assert paused and sorted(sources) == sorted(paused)  # every paused trial resumed, each once
    assert sum(RESUMED_FROM not in t.user_attrs for t in trials) == 12
    assert all(t.state == TrialState.COMPLETE for t in trials if RESUMED_FROM in t.user_attrs)
    # a rerun of the finished study runs nothing more
    assert len(hpo.tune(checkpointing(trained), SPACE, **options).study.trials) == len(trials)


def test_without_a_pruner_order_the_paused_trials_go_by_their_best_last_value_then_the_later_step():
    study = optuna.create_study(direction="maximize")
    for values, step in (([0.2, 0.5], 2), ([0.1, 0.2, 0.5], 3), ([0.9], 1)):
        trial = study.ask()
        for index, value in enumerate(values, start=1):
            trial.report(value, index)
        trial.set_user_attr(PAUSED_AT, step)
        study.tell(trial, state=TrialState.PRUNED)
    ordered = resume_order(study, study.trials)
    assert [t.number for t in ordered] == [2, 1, 0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"resumes": 2}, "give checkpoint_dir too"),
        ({"resumes": 2, "checkpoint_dir": "c"}, "give a pruner"),
        ({"resumes": -1, "checkpoint_dir": "c", "pruner": "median"}, r"resumes must be an integer in \[0, "),
        ({"checkpoint_dir": 3, "pruner": "median"}, "checkpoint_dir must be a path"),
    ],
)
def test_bad_pause_and_resume_arguments_are_refused_with_their_name(options, message):
    with pytest.raises(UserError, match=message):
        hpo.tune(lambda params, trial: params["x"], SPACE, n_trials=2, **options)


def test_a_checkpoint_dir_that_is_a_file_is_refused_before_any_trial(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("")
    with pytest.raises(UserError, match="checkpoint_dir .*taken.*not a folder"):
        hpo.tune(lambda params, trial: params["x"], SPACE, n_trials=2, pruner="median", checkpoint_dir=taken)


def test_the_reporter_has_no_checkpoint_without_a_checkpoint_directory():
    def objective(params, reporter):
        assert not reporter.resumed and reporter.start_step == 0
        return float(reporter.checkpoint is None)

    result = hpo.tune(objective, SPACE, n_trials=1, catch=(UserError,))
    assert "no checkpoint directory" in result.study.trials[0].user_attrs["error"]
