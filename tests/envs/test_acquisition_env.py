"""``envs.acquisition_env``: the pre-trained tuner's MDP (actions, observation, rewards) and the
pre-training environment, checked by gymnasium's and SB3's checkers."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from envs.acquisition_env import (
    ACTION_SIZE,
    BETA_RANGE,
    N_STARTUP,
    OBSERVATION_SIZE,
    RADIUS_RANGE,
    AcquisitionEnv,
    AcquisitionEpisode,
    action_to_acquisition,
    log_regret,
)
from hpo.errors import UserError


def test_actions_map_onto_the_documented_ranges():
    low, high, middle = (action_to_acquisition(np.full(ACTION_SIZE, a)) for a in (-1.0, 1.0, 0.0))
    assert np.allclose(low, (BETA_RANGE[0], RADIUS_RANGE[0], 0.0))
    assert np.allclose(high, (BETA_RANGE[1], RADIUS_RANGE[1], 1.0))
    assert np.isclose(middle[0], np.sqrt(BETA_RANGE[0] * BETA_RANGE[1]))  # log-uniform
    assert np.allclose(action_to_acquisition(np.full(ACTION_SIZE, 7.0)), high)  # clipped


@pytest.mark.parametrize("dim", [1, 5, 20])
def test_observation_and_proposals_are_valid_in_any_dimension_with_failures(dim):
    rng = np.random.default_rng(dim)
    episode = AcquisitionEpisode(dim, horizon=30)
    for i in range(12):
        point = rng.uniform(-1, 1, dim)
        episode.record(point, None if i % 5 == 3 else float(np.sum(point**2)), rng.uniform(-1, 1, ACTION_SIZE))
        observation = episode.observation()
        assert observation.shape == (OBSERVATION_SIZE,) and observation.dtype == np.float32
        assert np.all(np.isfinite(observation)) and np.all(np.abs(observation) <= 5)
        proposal = episode.propose(rng.uniform(-1, 1, ACTION_SIZE), rng)
        assert proposal.shape == (dim,) and np.all(np.abs(proposal) <= 1)


def test_improvement_features_count_recent_records_with_failures():
    episode = AcquisitionEpisode(1, horizon=20)
    values = [5.0, None, 4.0, 6.0, 3.0, None, 3.0, 2.5]  # records at 2, 4 and 7; 6 ties
    for i, value in enumerate(values):
        episode.record(np.array([i / 10]), value)
    observation = episode.observation()
    recent = range(len(values) - 5, len(values))
    records = [i for i in recent if values[i] is not None and all(v is None or values[i] < v for v in values[:i])]
    assert records == [4, 7]
    assert observation[3] == 1.0  # the last trial is a record
    assert np.isclose(observation[5], len(records) / 5)


def test_rewards_add_up_to_the_orders_of_magnitude_of_regret_removed():
    rng = np.random.default_rng(2)
    episode = AcquisitionEpisode(2, horizon=20, lower=-1.0, center=4.0)
    rewards = [episode.record(p, float(np.sum(p**2)) - 1.0) for p in rng.uniform(-1, 1, (20, 2))]
    first = float(np.sum(episode.points[0] ** 2)) - 1.0
    assert np.isclose(sum(rewards), log_regret(first, -1.0, 4.0) - log_regret(episode.best_value, -1.0, 4.0))
    assert min(rewards) >= 0.0  # the best value never gets worse
    assert log_regret(-1.0, -1.0, 4.0) == -6.0  # the floor: 1e-6 of the spread


@pytest.mark.filterwarnings("ignore:.*alternative render modes")  # no render modes to test
def test_pretrain_env_passes_gymnasium_and_sb3_checkers():
    env = AcquisitionEnv(min_trials=6, max_trials=9)
    check_env(env)
    sb3_check_env(env)
    obs, info = env.reset(seed=0)
    assert obs.shape == (OBSERVATION_SIZE,) and env.episode.n == N_STARTUP
    returns = 0.0
    while True:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        returns += reward
        if terminated:
            break
    assert env.episode.n == env.budget and "best_value" in info
    start = min(env.episode.values[:N_STARTUP])
    # the return is the log-regret removed after the random start
    assert np.isclose(returns, log_regret(start, env.episode.lower, env.episode.center) - info["log_regret"])


def test_pretrain_env_refuses_budgets_shorter_than_the_random_start():
    with pytest.raises(UserError, match="min_trials"):
        AcquisitionEnv(min_trials=N_STARTUP, max_trials=10)
