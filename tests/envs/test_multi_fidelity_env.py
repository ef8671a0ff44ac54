"""``envs.multi_fidelity_env``: the environment checkers, the episode's accounting, the
curve extrapolation, and rewards that favour stopping by the observation over training
everything."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from envs.learning_curves import CurveDistribution, LearningCurve, shape
from envs.multi_fidelity_env import REGRET_CAP, CurveEpisode, MultiFidelityEnv, decide, extrapolate, rungs


def test_the_environment_passes_gymnasiums_and_sb3s_checks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gymnasium: no spec to test render modes with
        check_env(MultiFidelityEnv())
    sb3_check_env(MultiFidelityEnv())


def test_rungs_double_up_to_the_last_epoch():
    assert rungs(50) == [1, 2, 4, 8, 16, 32, 50]
    assert rungs(2) == [1, 2] and rungs(16) == [1, 2, 4, 8, 16]


def test_a_power_law_curve_is_extrapolated_from_its_first_epochs():
    t = np.arange(1, 51)
    curve = 0.1 + 0.5 * t**-0.7
    predicted, uncertainty = extrapolate(curve[:8], 50)
    assert abs(predicted - curve[-1]) < 0.02
    # the uncertainty (how far fits of other powers land) shrinks as the curve grows
    assert 1.0 > uncertainty > extrapolate(curve[:16], 50)[1] > extrapolate(curve[:32], 50)[1]
    assert extrapolate(curve[:2], 50) == (curve[1], 1.0)  # too short: the last value, fully uncertain


def _curve(final, epochs=16):
    values = final + (0.9 - final) * shape("pow", np.arange(1, epochs + 1), 0.7)
    return LearningCurve(values, "pow", final)


def test_the_budget_and_the_incumbent_are_accounted_exactly():
    curves = [_curve(f) for f in (0.5, 0.3, 0.1, 0.4)]
    episode = CurveEpisode(curves, budget=40)
    assert episode.spent == 1 and episode.regret() == REGRET_CAP  # the first epoch of the first trial
    rewards = [episode.step(True) for _ in range(4)]  # trial 0 to epochs 2, 4, 8, 16: completes
    assert episode.completed == [pytest.approx(curves[0].final)] and episode.spent == 17
    assert sum(rewards) == pytest.approx(REGRET_CAP - episode.regret())
    assert episode.step(False) == 0.0 and episode.index == 2 and episode.spent == 18  # trial 1 stopped
    while not episode.done:
        episode.step(True)
    assert episode.spent == 40 and episode.incumbent == pytest.approx(curves[2].final)  # trial 2 completed
    assert episode.regret() == 0.0


def _mean_regret(policy, episodes=150):
    env, regrets = MultiFidelityEnv(), []
    for seed in range(episodes):
        observation, _ = env.reset(seed=seed)
        done = False
        while not done:
            observation, _, done, _, info = env.step(policy(observation))
        regrets.append(info["regret"])
    return float(np.mean(regrets))


def test_stopping_by_the_predicted_final_error_beats_training_every_trial_to_the_end():
    always = _mean_regret(lambda o: np.ones(1))
    # continue while nothing completed, or while the extrapolated final error could beat the incumbent
    by_prediction = _mean_regret(lambda o: np.array([1.0 if o[8] == 0 or o[3] - o[4] <= 0 else -1.0]))
    never = _mean_regret(lambda o: -np.ones(1))
    assert by_prediction < 0.9 * always
    assert never == REGRET_CAP  # stopping everything completes nothing


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="budget_trainings"):
        MultiFidelityEnv(budget_trainings=(0, 2))
    with pytest.raises(ValueError, match="same number of epochs"):
        CurveEpisode([_curve(0.1, 16), _curve(0.2, 8)], budget=10)
    with pytest.raises(RuntimeError, match="reset"):
        MultiFidelityEnv(CurveDistribution(epochs=8)).step(np.ones(1))


def test_a_threshold_action_is_a_margin_on_the_extrapolation_rule():
    env = MultiFidelityEnv(actions="threshold")
    observations = []
    for seed in range(5):
        observation, _ = env.reset(seed=seed)
        done = False
        while not done:
            observations.append(observation)
            observation, _, done, _, _ = env.step(np.zeros(1))
    with_incumbent = [o for o in observations if o[8] == 1]
    assert with_incumbent and all(decide(o, 0.7, "threshold") for o in observations if o[8] == 0)
    for o in with_incumbent:
        margin = o[3] - o[4]
        assert decide(o, 0.0, "threshold") == (margin <= 0)
        # a larger action never stops what a smaller one continues
        assert [decide(o, a, "threshold") for a in (-1.0, -0.3, 0.0, 0.3, 1.0)] == sorted(
            decide(o, a, "threshold") for a in (-1.0, -0.3, 0.0, 0.3, 1.0)
        )
    assert decide(with_incumbent[0], 0.2, "decision") and not decide(with_incumbent[0], -0.2, "decision")
    with pytest.raises(ValueError, match="actions 'vote' is unknown"):
        MultiFidelityEnv(actions="vote")
