"""The pre-trained tuner (issue 8): padded layout, task distribution, ``hpo pretrain``
(determinism, checkpoints, resume) and the shipped agents."""

from __future__ import annotations

import math
import zipfile

import numpy as np
import optuna
import pytest
from gymnasium.utils.env_checker import check_env
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import hpo
from envs.hpo_env import TuningHistory, observation_size
from envs.padded import PaddedHistory, padded_observation_size
from envs.pretrain_env import PretrainEnv
from envs.task_distribution import (
    HELDOUT_BBOB_FUNCTIONS,
    HELDOUT_BBOB_INSTANCES,
    TaskDistribution,
)
from hpo.agents.pretrain import params_sha, pretrain, read_curve
from hpo.agents.pretrained import AGENTS, MAX_DIM, load_pretrained, pretrained_sampler, weights_path
from hpo.cli import main
from hpo.errors import UserError

TINY = dict(steps=240, learning_starts=60, checkpoint_every=80, batch_size=16, net_arch=(16, 16), progress=False)


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


def test_padded_observation_puts_every_entry_in_its_slot():
    rng = np.random.default_rng(0)
    history = TuningHistory(3, horizon=10, window=2, step_scale=2.0)  # every point reachable
    padded = PaddedHistory(history, max_dim=7, slots=[5, 0, 3])
    for value in (1.0, None, 0.3, 2.0):
        point = rng.uniform(-1, 1, 3)
        assert np.allclose(padded.action_for(point)[[1, 2, 4, 6]], 0.0)
        padded.record(point, value)
    inner, outer = history.observation(), padded.observation()
    assert outer.shape == (padded_observation_size(7, 2),) == (observation_size(7, 2) + 7,)
    D = 7
    assert np.array_equal(outer[[5, 0, 3]], inner[:3])  # last point
    assert np.array_equal(outer[[D + 2 + 5, D + 2, D + 2 + 3]], inner[5:8])  # best point
    assert outer[2 * D + 3] == inner[2 * 3 + 3]  # budget used
    assert np.array_equal(outer[-D:], [1, 0, 0, 1, 0, 1, 0])  # mask
    assert np.count_nonzero(outer[:D][[1, 2, 4, 6]]) == 0
    # action <-> point through the slots
    target = np.array([0.2, -0.4, 0.9])
    assert np.allclose(padded.point_for(padded.action_for(target)), target)


def test_padded_history_refuses_too_many_parameters():
    with pytest.raises(UserError, match="at most 4"):
        PaddedHistory(TuningHistory(5, horizon=3), max_dim=4)


def test_task_distribution_never_draws_held_out_functions_or_instances():
    distribution = TaskDistribution(max_dim=20)
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
    distribution = TaskDistribution(max_dim=6, discrete_fraction=1.0)
    rng = np.random.default_rng(3)
    task = next(t for t in (distribution.sample(rng) for _ in range(50)) if t.levels.any())
    i = int(np.flatnonzero(task.levels)[0])
    values = {round(task.discretize(rng.uniform(-1, 1, task.dim))[i], 9) for _ in range(300)}
    assert len(values) == task.levels[i]


@pytest.mark.filterwarnings("ignore:.*alternative render modes")  # no render modes to test
def test_pretrain_env_passes_gymnasium_and_sb3_checkers():
    env = PretrainEnv(max_dim=8, min_trials=5, max_trials=9)
    check_env(env)
    sb3_check_env(env)
    obs, info = env.reset(seed=0)
    assert obs.shape == (padded_observation_size(8, 4),)
    assert obs[-8:].sum() == env.task.dim  # the mask shows the task's slots
    steps = 1  # the first trial is random, made by reset
    while True:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        steps += 1
        if terminated:
            break
    assert steps == env.budget and "best_value" in info


def test_pretrain_is_seeded_checkpoints_and_resumes(tmp_path):
    first = pretrain(tmp_path / "a", seed=3, **TINY)
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


def test_pretrain_command_line_errors_name_the_option(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["pretrain", "--out", str(tmp_path), "--steps", "0"])
    assert exit_info.value.code == 2
    assert "--steps" in capsys.readouterr().err


@pytest.mark.parametrize("name", list(AGENTS))
def test_shipped_agent_is_small_and_loads_without_unpickling(name):
    path = weights_path(name)
    assert path.stat().st_size < 4_000_000
    with zipfile.ZipFile(path) as archive:
        assert "policy.pth" in archive.namelist()
    agent = load_pretrained(name)  # hpo.load_agent: refuses anything it would have to unpickle
    assert agent.observation_space.shape == (padded_observation_size(MAX_DIM, 4),)
    assert agent.action_space.shape == (MAX_DIM,)
    assert (agent.hmr_prob > 0) == (name == "sac-hmr-pretrained")
    assert agent.entropy_mask_slots == MAX_DIM
    assert agent.num_timesteps >= 50_000  # the shipped run, not a test artifact


@pytest.mark.parametrize("dim", [1, 5, 20])
def test_shipped_policy_proposes_valid_configurations(dim):
    space = mixed_space(dim)
    sampler = pretrained_sampler("sac-hmr-pretrained", seed=0, horizon=12)

    def objective(params):
        return sum(len(str(v)) * (i + 1) for i, v in enumerate(params.values())) % 17

    study = hpo.tune(objective, space, optimizer=sampler, n_trials=12).study
    assert len(study.trials) == 12
    for trial in study.trials:
        assert set(trial.params) == set(space)
        for name, value in trial.params.items():
            dist = space[name]
            assert dist._contains(dist.to_internal_repr(value)), (name, value)
    # after the one random start-up trial, the agent proposes every parameter
    relative_space = sampler.infer_relative_search_space(study, study.trials[-1])
    assert set(relative_space) == set(space)
    proposal = sampler.sample_relative(study, study.trials[-1], relative_space)
    assert set(proposal) == set(space)
    assert sampler._trained_transitions == 12  # fine-tuned on every finished trial


def test_frozen_agent_does_not_change_and_fine_tuned_agent_does():
    space = mixed_space(4)

    def run(optimizer):
        sampler = hpo.make_sampler(optimizer, seed=1, n_trials=16)
        before = [p.detach().clone() for p in sampler._agent.policy.actor.parameters()] if sampler._agent else None
        result = hpo.tune(lambda p: (p["p0"] - 1) ** 2 + p["p2"], space, optimizer=sampler, n_trials=16)
        after = list(sampler._agent.policy.actor.parameters())
        return result, all(bool((a == b).all()) for a, b in zip(before, after))

    _, frozen_unchanged = run("sac-hmr-pretrained-frozen")
    _, tuned_unchanged = run("sac-hmr-pretrained")
    assert frozen_unchanged and not tuned_unchanged


def test_too_many_parameters_for_the_shipped_agent_is_a_clear_error():
    space = {f"x{i}": FloatDistribution(0, 1) for i in range(MAX_DIM + 1)}
    with pytest.raises(UserError, match=f"at most {MAX_DIM}"):
        hpo.tune(lambda p: sum(p.values()), space, optimizer="sac-hmr-pretrained", n_trials=3)


def test_incremental_replay_builds_the_same_buffer_as_a_full_replay():
    sampler = pretrained_sampler(None, seed=2, horizon=20)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", -2, 2) ** 2 + t.suggest_int("n", 1, 5), n_trials=15)
    buffer = sampler._agent.replay_buffer
    incremental = buffer.observations[: buffer.pos].copy(), buffer.rewards[: buffer.pos].copy()
    from hpo.sampler import _finished_points
    from hpo.space import SpaceEncoder

    relative_space = sampler.infer_relative_search_space(study, study.trials[-1])  # sorted names
    numbers, points, values = _finished_points(study, SpaceEncoder(relative_space))
    sampler._replayed = None
    sampler._replay(sampler._agent, 2, False, numbers, points, values)
    # the last proposal saw 14 finished trials; the full replay sees all 15
    assert len(incremental[0]) == 14 and buffer.pos == len(points) == 15
    assert np.array_equal(buffer.observations[:14], incremental[0])
    assert np.array_equal(buffer.rewards[:14], incremental[1])


def test_permuted_slots_describe_the_same_tuning_run():
    from envs.padded import permute_slots

    rng = np.random.default_rng(4)
    history = TuningHistory(3, horizon=10, window=2, step_scale=2.0)
    first = PaddedHistory(history, max_dim=6, slots=[4, 1, 2])
    for _ in range(4):
        first.record(rng.uniform(-1, 1, 3), float(rng.normal()))
    target = rng.uniform(-1, 1, 3)
    sigma = np.array([[2, 5, 4, 0, 1, 3]])
    obs, action = permute_slots(first.observation()[None], first.action_for(target)[None], sigma, window=2)
    # the same run seen through slots where coordinate k sits at sigma^-1(old slot of k)
    inverse = np.argsort(sigma[0])
    second = PaddedHistory(history, max_dim=6, slots=inverse[[4, 1, 2]])
    assert np.array_equal(obs[0], second.observation())
    assert np.allclose(second.point_for(action[0]), target)
