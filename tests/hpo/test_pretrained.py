"""The pre-trained tuner: the Gaussian process, the acquisition MDP, the task
distribution, ``hpo pretrain`` (determinism, checkpoints, resume), the sampler and the
shipped agents."""

from __future__ import annotations

import math
import tempfile
import zipfile

import numpy as np
import optuna
import pytest
from gymnasium.utils.env_checker import check_env
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from scipy.optimize import approx_fprime
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import hpo
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
from envs.synthetic_functions import (
    HELDOUT_BBOB_FUNCTIONS,
    HELDOUT_BBOB_INSTANCES,
    FunctionDistribution,
)
from hpo._gp.gp import GaussianProcess, power_scores
from hpo._gp.search import prior_scale
from hpo.agents.pretraining import params_sha, pretrain, read_curve
from hpo.agents.shipped import AGENTS, load_pretrained, weights_path
from hpo.cli import main
from hpo.errors import UserError
from hpo.samplers._base import Replay
from hpo.samplers.pretrained import SYSTEM_ATTR, PretrainedSampler

TINY = dict(
    steps=240,
    learning_starts=60,
    checkpoint_every=80,
    batch_size=16,
    net_arch=(16, 16),
    validation_functions=2,
    progress=False,
)


def mixed_space(dim: int) -> dict:
    """``dim`` parameters cycling through every kind the encoding supports."""
    kinds = [
        lambda: FloatDistribution(-3.0, 2.0),
        lambda: FloatDistribution(1e-5, 1e-1, log=True),
        lambda: IntDistribution(1, 9),
        lambda: CategoricalDistribution(["relu", "tanh", "gelu"]),
        lambda: FloatDistribution(0.0, 1.0, step=0.25),
        lambda: IntDistribution(2, 512, log=True),
    ]
    return {f"p{i}": kinds[i % len(kinds)]() for i in range(dim)}


# ---- Gaussian process ---------------------------------------------------------------------


@pytest.mark.parametrize("dim, categorical", [(1, False), (4, False), (12, False), (4, True)])
def test_gp_objective_gradient_matches_finite_differences(dim, categorical):
    rng = np.random.default_rng(dim)
    x = rng.uniform(-1, 1, (25, dim))
    mask = np.arange(dim) % 2 == 1 if categorical else None
    if categorical:
        x[:, mask] = np.round(x[:, mask] * 2) / 2  # 5 choices
    y = np.sin(3 * x[:, 0]) + 0.2 * x.sum(1)
    gp = GaussianProcess(dim, mask)
    diffs = (x[:, None] - x[None]) ** 2
    if categorical:
        diffs[:, :, mask] = (x[:, None, mask] != x[None, :, mask]).astype(float)
    diffs = diffs.reshape(-1, dim)
    theta = gp.theta + rng.normal(0, 0.3, dim + 2)
    value, gradient = gp._objective(theta, x, y - y.mean(), diffs=diffs)
    numeric = approx_fprime(theta, lambda t: gp._objective(t, x, y - y.mean(), diffs=diffs)[0], 1e-6)
    assert np.allclose(gradient, numeric, rtol=1e-4, atol=1e-4)


def test_gp_fit_interpolates_and_learns_which_coordinate_matters():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (40, 3))
    y = power_scores(np.sin(2.5 * x[:, 0]))  # only the first coordinate matters
    gp = GaussianProcess(3).fit(x, y)
    mean, std = gp.predict(x)
    assert np.max(np.abs(mean - y)) < 0.1 and np.all(std < 0.2)
    far_mean, far_std = gp.predict(np.array([[5.0, 5.0, 5.0]]))
    assert far_std[0] > 0.8 * np.sqrt(gp.signal_variance)  # uncertain away from the data
    lengths = gp.length_scales
    assert lengths[0] < 0.5 * min(lengths[1], lengths[2])


def test_gp_leave_one_out_means_are_the_predictions_of_the_process_without_each_point():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (12, 2))
    y = np.sin(3 * x[:, 0]) + x[:, 1] ** 2
    gp = GaussianProcess(2).fit(x, y)
    loo = gp.loo_mean()
    covariance = gp._factor @ gp._factor.T  # the kernel plus noise at the points
    for i in range(len(y)):
        rest = np.arange(len(y)) != i
        weights = np.linalg.solve(covariance[np.ix_(rest, rest)], covariance[rest, i])
        assert gp.mean + weights @ (y[rest] - gp.mean) == pytest.approx(loo[i])
    assert not np.allclose(loo, y)  # not the fitted values, which interpolate


def test_gp_categorical_choices_have_no_order():
    # one categorical coordinate of 5 choices; the value depends on the choice, not its position
    rng = np.random.default_rng(4)
    choices = np.linspace(-0.8, 0.8, 5)
    effect = {c: e for c, e in zip(choices, [0.0, 2.0, -1.0, 2.0, 0.5])}
    x = np.column_stack([rng.uniform(-1, 1, 40), rng.choice(choices[:4], 40)])  # choice 0.8 never seen
    y = np.array([np.sin(2 * a) + effect[c] for a, c in x])
    gp = GaussianProcess(2, np.array([False, True])).fit(x, y)
    kernel = gp._kernel(np.array([[0.0, -0.8], [0.0, 0.0], [0.0, 0.8]]), np.array([[0.0, -0.4]]), gp.theta)
    assert np.isclose(kernel[0, 0], kernel[1, 0]) and np.isclose(kernel[0, 0], kernel[2, 0])  # all "other"
    mean, _ = gp.predict(np.array([[0.3, -0.4], [0.3, 0.0]]))
    assert mean[0] > mean[1] + 2.0  # choices 1 and 2 told apart, though neighbours as bins
    unseen, _ = gp.predict(np.array([[0.3, 0.8]]))
    assert abs(unseen[0] - np.mean(list(effect.values())[:4]) - np.sin(0.6)) < 1.5
    with pytest.raises(ValueError, match="categorical: expected 2 flags"):
        GaussianProcess(2, np.array([True]))


def test_power_scores_keep_the_order_ignore_scale_and_pull_in_tails():
    rng = np.random.default_rng(3)
    values = rng.lognormal(0.0, 3.0, 60)  # heavy right tail, as BBOB values are
    scores = power_scores(values)
    assert np.array_equal(np.argsort(scores), np.argsort(values))
    assert abs(scores.mean()) < 1e-9 and abs(scores.std() - 1.0) < 1e-9
    assert np.allclose(power_scores(1e6 * values - 3.0), scores)  # any scale and offset
    plain = (values - values.mean()) / values.std()
    good = values < np.median(values)  # the better half, where a minimizer searches
    assert np.ptp(scores[good]) > 10 * np.ptp(plain[good])  # no longer squashed by the tail
    assert np.array_equal(power_scores(np.full(5, 2.0)), np.zeros(5))


# ---- the acquisition MDP -------------------------------------------------------------------


def test_actions_map_onto_the_documented_ranges():
    low, high, middle = (action_to_acquisition(np.full(ACTION_SIZE, a)) for a in (-1.0, 1.0, 0.0))
    assert np.allclose(low, (BETA_RANGE[0], RADIUS_RANGE[0], 0.0))
    assert np.allclose(high, (BETA_RANGE[1], RADIUS_RANGE[1], 1.0))
    assert np.isclose(middle[0], np.sqrt(BETA_RANGE[0] * BETA_RANGE[1]))  # log-uniform
    assert np.allclose(action_to_acquisition(np.full(ACTION_SIZE, 7.0)), high)  # clipped


@pytest.mark.parametrize("dim", [1, 5, 20])
def test_observation_and_proposals_are_valid_in_any_dimension_with_failures(dim):
    rng = np.random.default_rng(dim)
    history = AcquisitionEpisode(dim, horizon=30)
    for i in range(12):
        point = rng.uniform(-1, 1, dim)
        history.record(point, None if i % 5 == 3 else float(np.sum(point**2)), rng.uniform(-1, 1, ACTION_SIZE))
        observation = history.observation()
        assert observation.shape == (OBSERVATION_SIZE,) and observation.dtype == np.float32
        assert np.all(np.isfinite(observation)) and np.all(np.abs(observation) <= 5)
        proposal = history.propose(rng.uniform(-1, 1, ACTION_SIZE), rng)
        assert proposal.shape == (dim,) and np.all(np.abs(proposal) <= 1)


def test_improvement_features_count_recent_records_with_failures():
    history = AcquisitionEpisode(1, horizon=20)
    values = [5.0, None, 4.0, 6.0, 3.0, None, 3.0, 2.5]  # records at 2, 4 and 7; 6 ties
    for i, value in enumerate(values):
        history.record(np.array([i / 10]), value)
    observation = history.observation()
    recent = range(len(values) - 5, len(values))
    records = [i for i in recent if values[i] is not None and all(v is None or values[i] < v for v in values[:i])]
    assert records == [4, 7]
    assert observation[3] == 1.0  # the last trial is a record
    assert np.isclose(observation[5], len(records) / 5)


def test_a_small_local_radius_proposes_next_to_the_best_point():
    rng = np.random.default_rng(1)
    history = AcquisitionEpisode(3, horizon=30)
    for point in rng.uniform(-1, 1, (10, 3)):
        history.record(point, float(np.sum((point - 0.3) ** 2)))
    local = history.propose(np.array([-1.0, -1.0, 1.0]), rng)  # exploit, smallest radius, all local
    assert np.linalg.norm(local - history.search.best_point) < 0.1


def test_local_candidates_keep_or_redraw_categorical_choices():
    rng = np.random.default_rng(6)
    history = AcquisitionEpisode(2, horizon=30, categorical=np.array([False, True]))
    for point in rng.uniform(-1, 1, (8, 2)):
        point[1] = np.round((point[1] + 1) / 2 * 4) / 4 * 2 - 1
        history.record(point, float(point[0] ** 2 + (point[1] != 0.5)))
    best = history.search.best_point
    near = history.search._around(best, 0.02, 2000, rng=rng)
    assert np.mean(near[:, 1] == best[1]) > 0.95  # a small scale rarely changes a choice
    assert np.all(np.abs(near[:, 0] - best[0]) < 0.2)
    far = history.search._around(best, 2.0, 2000, rng=rng)[:, 1]
    assert np.mean(far == best[1]) < 0.05 and far.min() < -0.9 and far.max() > 0.9  # redrawn anywhere


def test_discrete_search_never_reruns_a_configuration_while_others_remain():
    # 2 coordinates of 3 and 4 levels: 12 configurations in all
    levels = np.array([3, 4])

    def snap(points):
        return np.round((np.clip(points, -1, 1) + 1) / 2 * (levels - 1)) / (levels - 1) * 2 - 1

    rng = np.random.default_rng(5)
    history = AcquisitionEpisode(2, horizon=12, snap=snap)
    for point in snap(rng.uniform(-1, 1, (N_STARTUP, 2))):
        history.record(point, float(np.sum(point**2)))
    while history.n < 12:
        point = history.propose(np.array([-1.0, -1.0, 1.0]), rng)  # greedy and local: tempted to repeat
        assert np.allclose(snap(point[None])[0], point)
        history.record(point, float(np.sum(point**2)))
    assert len({tuple(np.round(p, 9)) for p in history.points}) == len(set(map(tuple, np.round(history.points, 9))))
    assert len({tuple(np.round(p, 9)) for p in history.points}) >= 12 - 1  # start-up trials may coincide


def test_a_prior_is_scaled_by_how_well_it_ranks_the_trials():
    targets = np.array([-1.0, 0.0, 1.0, 2.0])
    model = -targets  # the study's own model, left out trial by trial, ranks them all wrong
    offset, slope = prior_scale(targets, 10.0 * targets + 3.0, model)  # ranks them all right
    # nearly all of it: only the resamples of one trial, with no pair to order, tie
    assert np.allclose(offset + slope * (10.0 * targets + 3.0), targets, atol=0.02)
    assert prior_scale(targets, -targets, model)[1] == 0.0  # ranks them the wrong way round
    assert prior_scale(targets, np.array([0.0, 1.0, 1.0, 0.0]), model)[1] == 0.0  # no better than chance
    assert prior_scale(targets[:2], targets[:2], model[:2])[1] == 0.0  # too few trials to judge it


def test_a_prior_gives_way_to_a_model_that_ranks_the_trials_better():
    rng = np.random.default_rng(0)
    targets = rng.normal(size=30)
    prior = targets + rng.normal(0.0, 0.7, 30)  # ranks them fairly well
    slopes = {
        name: prior_scale(targets, prior, model)[1]
        for name, model in (
            ("worse", targets + rng.normal(0.0, 3.0, 30)),
            ("as good", prior.copy()),
            ("better", targets + rng.normal(0.0, 0.05, 30)),
        )
    }
    assert slopes["worse"] > 0.9 * prior_scale(targets, prior, -targets)[1]  # nearly all its trust
    assert slopes["as good"] == pytest.approx(0.5 * prior_scale(targets, prior, -targets)[1])  # ties: half
    assert slopes["better"] < 0.05 * slopes["worse"]


def test_a_good_prior_guides_the_model_where_no_trial_was_run():
    def f(points):
        return np.sum((np.atleast_2d(points) - np.array([0.6, -0.4])) ** 2, axis=1)

    rng = np.random.default_rng(4)
    start = rng.uniform(-1, 1, (5, 2))
    unseen = rng.uniform(-1, 1, (300, 2))
    errors, deviations = {}, {}
    for name, prior in (("none", None), ("good", lambda p: 2.0 * f(p) + 1.0), ("reversed", lambda p: -f(p))):
        history = AcquisitionEpisode(2, horizon=30, prior=prior)
        for point in start:
            history.record(point, float(f(point)[0]))
        history.observation()  # fits the model
        mean, deviations[name] = history.search.predict(unseen)
        errors[name] = 1.0 - np.corrcoef(mean, f(unseen))[0, 1]
    assert errors["good"] < 0.01 < errors["none"]
    assert errors["reversed"] == pytest.approx(errors["none"])  # a misleading prior is ignored
    assert np.allclose(deviations["good"], deviations["none"])  # it moves the mean, not the uncertainty


def test_rewards_add_up_to_the_orders_of_magnitude_of_regret_removed():
    rng = np.random.default_rng(2)
    history = AcquisitionEpisode(2, horizon=20, lower=-1.0, center=4.0)
    rewards = [history.record(p, float(np.sum(p**2)) - 1.0) for p in rng.uniform(-1, 1, (20, 2))]
    first = float(np.sum(history.points[0] ** 2)) - 1.0
    assert np.isclose(sum(rewards), log_regret(first, -1.0, 4.0) - log_regret(history.best_value, -1.0, 4.0))
    assert min(rewards) >= 0.0  # the best value never gets worse
    assert log_regret(-1.0, -1.0, 4.0) == -6.0  # the floor: 1e-6 of the spread


def test_task_distribution_never_draws_held_out_functions_or_instances():
    distribution = FunctionDistribution(max_dim=20)
    rng = np.random.default_rng(1)
    dims, families = [], set()
    for _ in range(400):
        task = distribution.sample(rng)
        dims.append(task.dim)
        families.add(task.family)
        if task.family == "bbob":
            function = int(task.description.split()[1][1:])
            instance = int(task.description.split()[3].rstrip(","))
            assert function not in HELDOUT_BBOB_FUNCTIONS
            assert instance not in HELDOUT_BBOB_INSTANCES
        value = task(rng.uniform(-1, 1, task.dim))
        assert math.isfinite(value)
    assert families == {"bbob", "gp-prior"}
    assert min(dims) == 1 and max(dims) == 20
    assert np.mean(np.array(dims) <= 5) > 0.4  # log-uniform: small spaces are common


def test_discrete_coordinates_take_only_their_levels():
    distribution = FunctionDistribution(max_dim=6, discrete_fraction=1.0)
    rng = np.random.default_rng(3)
    task = next(t for t in (distribution.sample(rng) for _ in range(50)) if t.levels.any())
    i = int(np.flatnonzero(task.levels)[0])
    values = {round(task.discretize(rng.uniform(-1, 1, task.dim))[i], 9) for _ in range(300)}
    assert len(values) == task.levels[i]


def test_categorical_task_coordinates_shuffle_their_levels():
    distribution = FunctionDistribution(max_dim=6, discrete_fraction=1.0)
    rng = np.random.default_rng(8)
    tasks = [distribution.sample(rng) for _ in range(60)]
    task = next(t for t in tasks if t.categorical.any() and t.levels[np.argmax(t.categorical)] >= 4)
    assert all(t.levels[t.categorical].min() >= 2 for t in tasks if t.categorical.any())
    assert 0.2 < np.mean([t.categorical[t.levels > 0].mean() for t in tasks if t.levels.any()]) < 0.8
    i = int(np.argmax(task.categorical))
    k = task.levels[i]
    task.noise = 0.0
    point = task.discretize(rng.uniform(-1, 1, task.dim))
    grid = np.linspace(-1, 1, k)
    values = []
    for level in grid:
        point[i] = level
        values.append(task(point))
    expected = []
    for level in range(k):  # what the unshuffled function gives at the shuffled levels
        moved = point.copy()
        moved[i] = grid[level]
        for j, permutation in task.shuffles.items():
            index = int(round((moved[j] + 1) / 2 * (task.levels[j] - 1)))
            moved[j] = np.linspace(-1, 1, task.levels[j])[permutation[index]]
        expected.append(task.transform(task.base(moved)))
    assert np.allclose(values, expected)
    assert not np.array_equal(task.shuffles[i], np.arange(k))


def test_task_minimum_is_below_every_value_of_the_task():
    rng = np.random.default_rng(7)
    distribution = FunctionDistribution(max_dim=6)
    for _ in range(12):
        task = distribution.sample(rng)
        task.noise = 0.0
        minimum = task.minimum(rng)
        values = [task(x) for x in rng.uniform(-1, 1, (300, task.dim))]
        assert minimum <= min(values) + 1e-9, task.description


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


def test_pretrain_is_seeded_checkpoints_and_resumes(tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    first = pretrain(tmp_path / "a", seed=3, **TINY)
    assert not list(temp.glob("SB3-*"))  # SB3 made no log folder in the temp dir
    again = pretrain(tmp_path / "b", seed=3, **TINY)
    other = pretrain(tmp_path / "c", seed=4, **TINY)
    curve_a, curve_b = read_curve(first.curve_path), read_curve(again.curve_path)
    assert [row["step"] for row in curve_a] == ["80", "160", "240"]
    assert [row["params_sha"] for row in curve_a] == [row["params_sha"] for row in curve_b]
    assert read_curve(other.curve_path)[-1]["params_sha"] != curve_a[-1]["params_sha"]
    for name in ("agent.zip", "curve.csv", "curve.png", "checkpoint/agent.zip", "checkpoint/buffer.npz"):
        assert (tmp_path / "a" / name).is_file()

    # An interrupted run (160 of 240 steps) resumes from its checkpoint to the full length.
    short = pretrain(tmp_path / "d", seed=3, **{**TINY, "steps": 160})
    # a run of N steps gives the agent any longer run had at step N (the shipped weights rely on it)
    assert params_sha(hpo.load_agent(short.agent_path)) == curve_a[1]["params_sha"]
    resumed = pretrain(tmp_path / "d", seed=3, **TINY)
    assert resumed.resumed_from == 160
    curve_d = read_curve(resumed.curve_path)
    assert [row["step"] for row in curve_d] == ["80", "160", "240"]
    assert curve_d[1]["params_sha"] == curve_a[1]["params_sha"]  # identical up to the checkpoint
    agent = hpo.load_agent(resumed.agent_path)
    assert agent.num_timesteps == 240

    with pytest.raises(UserError, match="other settings"):
        pretrain(tmp_path / "d", seed=5, **TINY)


@pytest.mark.parametrize("option, value", [("--steps", "0"), ("--gamma", "1.5"), ("--target-entropy", "nan")])
def test_pretrain_command_line_errors_name_the_option(capsys, tmp_path, option, value):
    try:  # argparse exits; a value it lets through is refused by pretrain() with exit status 2
        code = main(["pretrain", "--out", str(tmp_path), option, value, "--no-progress"])
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 2
    assert option.lstrip("-").replace("-", "_") in capsys.readouterr().err.replace("-", "_")


@pytest.mark.parametrize("name", list(AGENTS))
def test_shipped_agent_is_small_and_loads_without_unpickling(name):
    path = weights_path(name)
    assert path.stat().st_size < 1_000_000
    with zipfile.ZipFile(path) as archive:
        assert "policy.pth" in archive.namelist()
    agent = load_pretrained(name)  # hpo.load_agent: refuses anything it would have to unpickle
    assert agent.observation_space.shape == (OBSERVATION_SIZE,)
    assert agent.action_space.shape == (ACTION_SIZE,)
    assert (agent.hmr_prob > 0) == (name == "sac-hmr-pretrained")
    assert agent.num_timesteps >= 20_000  # the shipped run, not a test artifact


@pytest.mark.parametrize("dim", [1, 5, 20])
def test_shipped_policy_proposes_valid_configurations(dim):
    space = mixed_space(dim)
    sampler = PretrainedSampler("sac-hmr-pretrained", seed=0, horizon=12)

    def objective(params):
        return sum(len(str(v)) * (i + 1) for i, v in enumerate(params.values())) % 17

    study = hpo.tune(objective, space, optimizer=sampler, n_trials=12).study
    assert len(study.trials) == 12
    for trial in study.trials:
        assert set(trial.params) == set(space)
        for name, value in trial.params.items():
            dist = space[name]
            assert dist._contains(dist.to_internal_repr(value)), (name, value)
    # after the random start, the agent proposes every parameter and records what it saw
    relative_space = sampler.infer_relative_search_space(study, study.trials[-1])
    assert set(relative_space) == set(space)
    recorded = [t.number for t in study.trials if SYSTEM_ATTR in t.system_attrs]
    assert recorded == list(range(N_STARTUP, 12))
    record = study.trials[-1].system_attrs[SYSTEM_ATTR]
    assert len(record["observation"]) == OBSERVATION_SIZE and len(record["action"]) == ACTION_SIZE
    # one transition per recorded trial but the last (its successor is not known yet)
    assert sampler.agent.replay_buffer.pos == len(recorded) - 1


def test_frozen_agent_does_not_change_and_fine_tuned_agent_does():
    space = mixed_space(4)

    def unchanged(optimizer):
        sampler = hpo.make_sampler(optimizer, seed=1, n_trials=16)
        before = [p.detach().clone() for p in sampler.agent.policy.actor.parameters()]
        hpo.tune(lambda p: (p["p0"] - 1) ** 2 + p["p2"], space, optimizer=sampler, n_trials=16)
        after = list(sampler.agent.policy.actor.parameters())
        return all(bool((a == b).all()) for a, b in zip(before, after))

    assert unchanged("sac-hmr-pretrained-frozen") and not unchanged("sac-hmr-pretrained")


def test_maximizing_the_negative_proposes_what_minimizing_does():
    def run(direction, sign):
        sampler = PretrainedSampler("sac-hmr-pretrained", seed=3, horizon=14)
        study = optuna.create_study(sampler=sampler, direction=direction)
        study.optimize(lambda t: sign * ((t.suggest_float("x", -2, 2) - 0.5) ** 2 + t.suggest_int("n", 1, 4)), 14)
        return [t.params for t in study.trials]

    assert run("minimize", 1.0) == run("maximize", -1.0)


def test_sampler_is_seeded_and_leaves_the_global_rngs_alone():
    import torch

    def run(seed):
        study = optuna.create_study(sampler=PretrainedSampler(None, seed=seed, horizon=10))
        study.optimize(lambda t: (t.suggest_float("x", -1, 1) - 0.2) ** 2, n_trials=10)
        return [t.params["x"] for t in study.trials]

    np.random.seed(11)
    torch.manual_seed(11)
    first = run(0)
    numpy_draw, torch_draw = np.random.rand(), torch.rand(1).item()
    np.random.seed(11)
    torch.manual_seed(11)
    assert first == run(0) != run(1)
    assert (np.random.rand(), torch.rand(1).item()) == (numpy_draw, torch_draw)


def test_incremental_history_equals_a_full_replay():
    sampler = PretrainedSampler(None, seed=2, horizon=20)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", -2, 2) ** 2 + t.suggest_int("n", 1, 5), n_trials=15)
    incremental = dict(sampler._cache["rewards"])
    history = sampler._cache["episode"]
    sampler._cache["replay"] = Replay()  # forget what was replayed: the next call replays every trial
    trials = [t for t in study.trials if t.number in incremental]
    numbers = [t.number for t in trials]
    records = {t.number: t.system_attrs[SYSTEM_ATTR] for t in trials if SYSTEM_ATTR in t.system_attrs}
    replayed, rewards = sampler._episode(numbers, history.points, history.values, records=records)
    assert rewards == incremental
    assert np.allclose(replayed.last_action, history.last_action)
    assert [v for v in replayed.values] == [v for v in history.values]


def test_wrong_agent_shapes_are_a_clear_error():
    from stable_baselines3 import SAC

    from envs.hpo_env import HPOEnv

    env = HPOEnv(lambda p: p["x"], {"x": FloatDistribution(0, 1)}, n_trials=3)
    with pytest.raises(UserError, match="do not match the pre-trained tuner"):
        PretrainedSampler(SAC("MlpPolicy", env, device="cpu"))


# ---- leverage benchmark (benchmarks/pretrained/leverage.py) --------------------------------
def test_best_values_never_increase_and_agree_with_run_policy():
    from hpo.agents.pretraining import best_values, make_validation_functions, run_policy

    task, lower, center = make_validation_functions(3, 1)[0]
    best = best_values("uniform", task, 12, rng=np.random.default_rng(0))
    assert len(best) == 12 and all(b <= a for a, b in zip(best, best[1:]))
    assert run_policy("uniform", task, 12, rng=np.random.default_rng(0), lower=lower, center=center) == log_regret(
        best[-1], lower, center
    )


def test_leverage_oracle_is_scored_on_runs_it_did_not_choose_with():
    import pandas as pd

    from benchmarks.pretrained.leverage import GRID, constant_name, summarize

    lucky, steady = constant_name(GRID[0]), constant_name(GRID[1])
    rows = []
    for function in range(2):
        for seed in range(4):
            for entry in ["uniform", "agent", "gp", "tpe"] + [constant_name(a) for a in GRID]:
                regret = 0.5
                if entry == lucky:  # best of all on the first two runs, worst on the last two
                    regret = 0.0 if seed < 2 else 1.0
                elif entry == steady:
                    regret = 0.2
                rows.append({"entry": entry, "function": function, "seed": seed, "regret_25": regret})
    summary = summarize(pd.DataFrame(rows), 25)
    # chosen on runs 0-1 it scores 1.0 on runs 2-3; chosen on runs 2-3 (steady) it scores 0.2
    assert summary.loc["oracle", "mean regret"] == pytest.approx(0.6)
    assert summary.attrs["best constants"] == [lucky, steady]
    assert summary.loc["uniform", "mean regret"] == pytest.approx(0.5)
    # ranks among the six entries: 5.5 (last two of six, tied) on one split, 1.5 on the other
    assert summary.loc["oracle", "mean rank"] == pytest.approx(3.5)
