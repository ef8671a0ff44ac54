"""``hpo.agents.scheduler``: the scheduler pruner observes a study as the MDP observes an
episode, decides only at rungs, stops a hopeless trial and keeps a promising one, reads a
maximized study as the negated minimized one, decides each trial's rung once with two
workers, and the registry builds the shipped agents."""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
import optuna
import pytest

from envs.learning_curves import LearningCurve, shape
from envs.multi_fidelity_env import CurveEpisode
from hpo.agents.scheduler import AgentPolicy, SchedulerPruner, continue_by_prediction, load_scheduler
from hpo.errors import UserError
from hpo.pruners import make_pruner
from hpo.tuning import tune

EPOCHS = 16


def _values(final: float, rate: float = 0.7) -> np.ndarray:
    return final + (0.9 - final) * shape("pow", np.arange(1, EPOCHS + 1), rate)


def _report(study: optuna.Study, values, *, upto: int | None = None, complete: bool = False):
    trial = study.ask()
    for epoch, value in enumerate(values[:upto] if upto else values, start=1):
        trial.report(float(value), epoch)
    if complete:
        study.tell(trial, float(values[-1]))
    return trial


class Recorder:
    """A policy that records what it sees and answers with ``policy``."""

    def __init__(self, policy=continue_by_prediction):
        self.policy, self.seen, self.lock = policy, [], threading.Lock()

    def __call__(self, observation):
        with self.lock:
            self.seen.append(observation)
        return self.policy(observation)


def test_the_pruner_observes_a_study_as_the_episode_observes_the_same_curves():
    curves = [_values(f) for f in (0.3, 0.5, 0.2)]
    episode = CurveEpisode([LearningCurve(v, "pow", float(v[-1])) for v in curves], budget=100)
    episode.step(True), episode.step(True), episode.step(True), episode.step(True)  # trial 0 completes
    episode.step(True), episode.step(True)  # trial 1 at epoch 4
    expected = episode.observation()

    recorder = Recorder()
    study = optuna.create_study(pruner=SchedulerPruner(recorder, max_resource=EPOCHS, budget=100))
    _report(study, curves[0], complete=True)
    trial = _report(study, curves[1], upto=4)
    trial.should_prune()
    # the stored budget is the pool for the completed share: give the study the episode's pool
    assert np.allclose(recorder.seen[-1][[0, 1, 2, 3, 4, 5, 6, 8]], expected[[0, 1, 2, 3, 4, 5, 6, 8]])


def test_decisions_are_made_only_at_rungs_and_stop_a_hopeless_trial():
    recorder = Recorder()
    study = optuna.create_study(pruner=SchedulerPruner(recorder, max_resource=EPOCHS))
    _report(study, _values(0.1), complete=True)
    hopeless = study.ask()
    decisions = {}
    for epoch, value in enumerate(_values(0.6), start=1):
        hopeless.report(float(value), epoch)
        before = len(recorder.seen)
        decisions[epoch] = hopeless.should_prune()
        assert (len(recorder.seen) > before) == (epoch in (1, 2, 4, 8))  # the rungs of 16 epochs, before the last
        if decisions[epoch]:
            break
    assert any(decisions.values())
    promising = study.ask()
    for epoch, value in enumerate(_values(0.05), start=1):
        promising.report(float(value), epoch)
        assert not promising.should_prune()


def test_a_maximized_study_is_observed_as_the_negated_minimized_one():
    seen = {}
    for direction, sign in (("minimize", 1.0), ("maximize", -1.0)):
        recorder = Recorder()
        study = optuna.create_study(direction=direction, pruner=SchedulerPruner(recorder, max_resource=EPOCHS))
        _report(study, sign * _values(0.2), complete=True)
        _report(study, sign * _values(0.4), upto=8).should_prune()
        seen[direction] = recorder.seen[-1]
    assert np.allclose(seen["minimize"], seen["maximize"])


def test_with_auto_resource_nothing_is_pruned_before_a_trial_completes():
    recorder = Recorder(lambda observation: False)  # a policy that always stops
    study = optuna.create_study(pruner=SchedulerPruner(recorder))
    trial = _report(study, _values(0.5), upto=4)
    assert not trial.should_prune() and not recorder.seen
    _report(study, _values(0.3), complete=True)
    assert _report(study, _values(0.5), upto=4).should_prune()


def test_two_workers_decide_each_rung_of_each_trial_once(tmp_path):
    recorder = Recorder()
    decided = Counter()
    lock = threading.Lock()

    def objective(params, trial):
        rng = np.random.default_rng(trial.number)
        values = _values(float(rng.uniform(0.05, 0.6)), rate=float(rng.uniform(0.3, 1.5)))
        for epoch, value in enumerate(values, start=1):
            trial.report(float(value), epoch)
            if epoch < EPOCHS:
                with lock:
                    decided[trial.number, epoch] += 1
                if trial.should_prune():
                    raise optuna.TrialPruned()
        return float(values[-1])

    result = tune(
        objective,
        {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        optimizer="random",
        n_trials=24,
        n_jobs=2,
        pruner=SchedulerPruner(recorder, max_resource=EPOCHS),
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        seed=0,
    )
    states = Counter(t.state for t in result.study.trials)
    assert states[optuna.trial.TrialState.COMPLETE] + states[optuna.trial.TrialState.PRUNED] == 24
    assert states[optuna.trial.TrialState.PRUNED] > 0
    assert max(decided.values()) == 1
    # every decision at a rung was the policy's, once: as many observations as rung decisions
    assert len(recorder.seen) == sum(1 for _, epoch in decided if epoch in (1, 2, 4, 8))


def test_the_registry_builds_the_shipped_schedulers_and_refuses_bad_input():
    for name in ("sac-hmr", "sac-no-hmr", "extrapolation"):
        assert isinstance(make_pruner(name), SchedulerPruner)
    agent = load_scheduler("sac-hmr-scheduler")
    assert agent.observation_space.shape == (9,)
    with pytest.raises(UserError, match="scheduler 'nope' is unknown"):
        load_scheduler("nope")
    with pytest.raises(UserError, match="max_resource"):
        SchedulerPruner(continue_by_prediction, max_resource=1)
    with pytest.raises(UserError, match="policy must be callable"):
        SchedulerPruner("rule")


def test_the_numpy_actor_gives_the_agents_own_deterministic_action():
    agent = load_scheduler("sac-hmr-scheduler")
    policy = AgentPolicy(agent)
    observations = np.random.default_rng(0).uniform(-3, 3, size=(50, 9)).astype(np.float32)
    expected = [float(agent.predict(o, deterministic=True)[0][0]) for o in observations]
    assert np.allclose([policy.action(o) for o in observations], expected, atol=1e-5)


def test_paused_trials_resume_by_their_extrapolated_final_value_not_their_last_one():
    from hpo.checkpoints import PAUSED_AT, resume_order

    study = optuna.create_study(pruner=SchedulerPruner(continue_by_prediction))
    _report(study, _values(0.2), complete=True)  # sets the last epoch
    epochs = np.arange(1, EPOCHS + 1)
    flat = 0.25 + 0.05 / epochs  # low now, little left to gain
    steep = 0.05 + 1.0 / epochs  # higher now, far lower at the end
    for values in (flat, steep):
        trial = _report(study, values, upto=4)
        trial.set_user_attr(PAUSED_AT, 4)
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    paused = study.trials[1:]
    assert flat[3] < steep[3]
    assert [t.number for t in resume_order(study, paused)] == [2, 1]  # the steep curve first
    study.pruner = make_pruner("median")  # without resume_order: by the last value
    assert [t.number for t in resume_order(study, paused)] == [1, 2]
