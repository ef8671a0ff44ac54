"""HPOEnv: the tuning MDP (the checkers of gymnasium and SB3, and the MDP's documented behaviour)."""

from __future__ import annotations

import math
import warnings

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

import envs
from envs import HPOEnv, TuningEpisode, observation_size
from hpo.errors import UserError

MIXED_SPACE = {
    "width": FloatDistribution(-2.0, 3.0),
    "lr": FloatDistribution(1e-5, 1e-1, log=True),
    "layers": IntDistribution(1, 8),
    "activation": CategoricalDistribution(["relu", "tanh", "gelu"]),
}


def mixed_objective(params):
    penalty = {"relu": 0.0, "tanh": 0.5, "gelu": 1.0}[params["activation"]]
    return (params["width"] - 1.0) ** 2 + (math.log10(params["lr"]) + 3) ** 2 + 0.1 * params["layers"] + penalty


def run_episode(env, actions):
    env.reset(seed=0)
    return [env.step(a) for a in actions]


def failing_every_third(params):
    failing_every_third.calls += 1
    if failing_every_third.calls % 3 == 0:
        raise RuntimeError("diverged")
    return mixed_objective(params)


def test_registered_env_passes_gymnasium_and_sb3_checkers_without_warnings():
    from gymnasium.utils.env_checker import check_env as gymnasium_check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gymnasium.make("hpo/HPO-v0", objective=mixed_objective, space=MIXED_SPACE, n_trials=12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        gymnasium_check_env(env.unwrapped)
        sb3_check_env(env.unwrapped, warn=True)
    assert env.observation_space.shape == (observation_size(4),)
    assert env.action_space.shape == (4,)


def test_module_prefix_make_and_task_shortcut():
    env = gymnasium.make("envs:hpo/HPO-v0", task="sphere-4d", n_trials=3)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (observation_size(4),)
    assert env.unwrapped.episode.direction == "minimize"


def test_episode_ends_after_n_trials_and_info_carries_the_trial():
    env = HPOEnv(mixed_objective, MIXED_SPACE, n_trials=5)
    rng = np.random.default_rng(0)
    steps = run_episode(env, rng.uniform(-1, 1, size=(5, 4)))
    assert [s[2] for s in steps] == [False] * 4 + [True]
    assert not any(s[3] for s in steps)
    values = [s[4]["value"] for s in steps]
    assert steps[-1][4]["best_value"] == min(values)
    for obs, _, _, _, info in steps:
        assert set(info["params"]) == set(MIXED_SPACE)
        assert info["value"] == pytest.approx(mixed_objective(info["params"]))
        assert env.observation_space.contains(obs)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(4))


def test_improvement_reward_is_positive_exactly_on_new_bests():
    env = HPOEnv(mixed_objective, MIXED_SPACE, n_trials=30, action_mode="absolute")
    rng = np.random.default_rng(1)
    steps = run_episode(env, rng.uniform(-1, 1, size=(30, 4)))
    best = math.inf
    for index, (_, reward, _, _, info) in enumerate(steps):
        new_best = info["value"] < best
        if index > 0:
            assert (reward > 0) == new_best
        else:
            assert reward == 0.0  # no baseline for the first trial
        best = min(best, info["value"])


@settings(max_examples=25, deadline=None)
@given(
    scale=st.floats(1e-3, 1e4),
    shift=st.floats(-1e4, 1e4),
    seed=st.integers(0, 2**16),
    reward=st.sampled_from(["improvement", "score"]),
)
def test_normalization_makes_rewards_and_observations_scale_and_sign_free(scale, shift, seed, reward):
    # One agent must work for objectives of any scale and sign: minimizing f and
    # maximizing -(scale * f + shift) are the same MDP.
    actions = np.random.default_rng(seed).uniform(-1, 1, size=(12, 4))
    base = HPOEnv(mixed_objective, MIXED_SPACE, n_trials=12, reward=reward)
    flipped = HPOEnv(
        lambda p: -(scale * mixed_objective(p) + shift), MIXED_SPACE, n_trials=12, direction="maximize", reward=reward
    )
    for a, b in zip(run_episode(base, actions), run_episode(flipped, actions)):
        np.testing.assert_allclose(a[0], b[0], atol=1e-4)
        assert a[1] == pytest.approx(b[1], rel=1e-6, abs=1e-6)


def test_relative_action_steps_from_the_incumbent_and_absolute_does_not():
    history = TuningEpisode(2, horizon=10, action_mode="relative", step_scale=0.5)
    np.testing.assert_allclose(history.point_for(np.array([0.2, -0.4])), [0.2, -0.4])  # no incumbent yet
    history.record(np.array([0.2, -0.4]), 1.0)
    history.record(np.array([0.9, 0.9]), 5.0)  # worse (minimize): incumbent stays
    np.testing.assert_allclose(history.point_for(np.array([1.0, -1.0])), [0.7, -0.9])
    np.testing.assert_allclose(history.action_for(np.array([0.7, -0.9])), [1.0, -1.0])
    # Near a bound the step shrinks on that side only, so it never leaves the box.
    near_bound = TuningEpisode(2, horizon=10, action_mode="relative", step_scale=0.5)
    near_bound.record(np.array([0.9, -0.95]), 1.0)
    np.testing.assert_allclose(near_bound.point_for(np.array([1.0, -1.0])), [1.0, -1.0])
    np.testing.assert_allclose(near_bound.point_for(np.array([0.5, -0.5])), [0.95, -0.975])
    np.testing.assert_allclose(near_bound.point_for(np.array([-1.0, 1.0])), [0.4, -0.45])
    absolute = TuningEpisode(2, horizon=10, action_mode="absolute")
    absolute.record(np.array([0.2, -0.4]), 1.0)
    np.testing.assert_allclose(absolute.point_for(np.array([1.0, -1.0])), [1.0, -1.0])


@settings(max_examples=50, deadline=None)
@given(
    best=st.lists(st.floats(-1, 1), min_size=3, max_size=3),
    action=st.lists(st.floats(-1, 1), min_size=3, max_size=3),
    step_scale=st.floats(0.05, 2.0),
)
def test_relative_points_stay_in_the_box_and_actions_are_recovered(best, action, step_scale):
    history = TuningEpisode(3, horizon=10, action_mode="relative", step_scale=step_scale)
    history.record(np.array(best), 0.0)
    point = history.point_for(np.array(action))
    assert np.all(np.abs(point) <= 1.0)
    recovered = history.point_for(history.action_for(point))
    np.testing.assert_allclose(recovered, point, atol=1e-9)


def test_observation_layout():
    history = TuningEpisode(2, horizon=4, window=2, action_mode="absolute")
    np.testing.assert_array_equal(history.observation(), np.zeros(observation_size(2, 2), dtype=np.float32))
    history.record(np.array([0.5, 0.5]), 3.0)
    history.record(np.array([-0.5, 0.25]), 1.0)  # new best
    history.record(np.array([0.1, 0.1]), None)  # failure
    obs = history.observation()
    np.testing.assert_allclose(obs[0:2], [0.1, 0.1])  # last point
    assert obs[2] == -1.0 and obs[3] == 1.0  # failed: lowest score, failed flag
    np.testing.assert_allclose(obs[4:6], [-0.5, 0.25])  # best point
    assert obs[6] > 0  # best score is above the median
    assert obs[7] == pytest.approx(0.75)  # budget used
    np.testing.assert_allclose(obs[8:10], [-0.5, 0.25])  # window slot 1: the trial before the last
    assert obs[11] == 1.0
    np.testing.assert_allclose(obs[12:14], [0.5, 0.5])  # window slot 2
    assert obs[13 + 2] == 1.0


@pytest.mark.parametrize("reward", ["improvement", "score", "neg_log_regret"])
def test_failed_trials_are_penalized_and_the_episode_goes_on(reward):
    failing_every_third.calls = 0
    env = HPOEnv(failing_every_third, MIXED_SPACE, n_trials=9, reward=reward, optimum=0.0, failure_penalty=2.0)
    steps = run_episode(env, np.random.default_rng(2).uniform(-1, 1, size=(9, 4)))
    assert steps[-1][2] is True
    for index, (obs, reward_value, _, _, info) in enumerate(steps):
        if (index + 1) % 3 == 0:
            assert info["value"] is None and info["error"] == "RuntimeError: diverged"
            assert obs[5] == 1.0  # failed flag after the last point (d=4)
            earlier = [r for i, (_, r, _, _, inf) in enumerate(steps[:index]) if inf["value"] is not None]
            expected = -2.0 if reward == "improvement" else min(earlier, default=0.0) - 2.0
            assert reward_value == pytest.approx(expected)
        else:
            assert info["error"] is None


def test_nan_objective_is_a_failure():
    env = HPOEnv(lambda p: float("nan"), MIXED_SPACE, n_trials=2)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.zeros(4))
    assert info["value"] is None and "NonFinite" in info["error"] and reward == -1.0


def test_neg_log_regret_reward():
    env = HPOEnv(
        lambda p: p["x"] ** 2 + 1.0,
        {"x": FloatDistribution(-1, 1)},
        n_trials=2,
        reward="neg_log_regret",
        optimum=1.0,
        action_mode="absolute",
    )
    env.reset(seed=0)
    _, reward, _, _, _ = env.step(np.array([0.1]))
    assert reward == pytest.approx(-math.log10(0.01))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reward": "accuracy"}, "reward is 'accuracy'; allowed: improvement, score, neg_log_regret"),
        ({"action_mode": "delta"}, "action_mode is 'delta'; allowed: absolute, relative"),
        ({"direction": "up"}, "direction is 'up'; allowed: minimize, maximize"),
        ({"n_trials": 0}, "n_trials must be an integer >= 1, got 0"),
        ({"step_scale": -1.0}, "step_scale must be a finite number > 0, got -1.0"),
        ({"reward": "neg_log_regret"}, "needs optimum="),
        ({"window": 1.5}, "window must be an integer >= 0, got 1.5"),
    ],
)
def test_bad_arguments_name_the_parameter_and_allowed_values(kwargs, message):
    with pytest.raises(UserError) as excinfo:
        HPOEnv(mixed_objective, MIXED_SPACE, **kwargs)
    assert message in str(excinfo.value)


def test_objective_or_task_is_required():
    with pytest.raises(UserError, match="objective= and space="):
        HPOEnv()
    with pytest.raises(UserError, match="not both"):
        HPOEnv(mixed_objective, MIXED_SPACE, task="sphere-4d")
    assert "hpo/HPO-v0" in gymnasium.registry and envs.HPOEnv is HPOEnv
