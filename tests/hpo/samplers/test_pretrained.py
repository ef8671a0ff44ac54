"""``hpo.samplers.pretrained``: the shipped policy proposes valid configurations, fine-tunes or
stays frozen, is seeded and replays a study incrementally."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

import hpo
from envs.acquisition_env import (
    ACTION_SIZE,
    N_STARTUP,
    OBSERVATION_SIZE,
)
from hpo.errors import UserError
from hpo.samplers._base import Replay
from hpo.samplers.pretrained import SYSTEM_ATTR, PretrainedSampler


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


def test_incremental_episode_equals_a_full_replay():
    sampler = PretrainedSampler(None, seed=2, horizon=20)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", -2, 2) ** 2 + t.suggest_int("n", 1, 5), n_trials=15)
    incremental = dict(sampler._cache["rewards"])
    episode = sampler._cache["episode"]
    sampler._cache["replay"] = Replay()  # forget what was replayed: the next call replays every trial
    trials = [t for t in study.trials if t.number in incremental]
    numbers = [t.number for t in trials]
    records = {t.number: t.system_attrs[SYSTEM_ATTR] for t in trials if SYSTEM_ATTR in t.system_attrs}
    replayed, rewards = sampler._episode(numbers, episode.points, episode.values, records=records)
    assert rewards == incremental
    assert np.allclose(replayed.last_action, episode.last_action)
    assert [v for v in replayed.values] == [v for v in episode.values]


def test_wrong_agent_shapes_are_a_clear_error():
    from stable_baselines3 import SAC

    from envs.hpo_env import HPOEnv

    env = HPOEnv(lambda p: p["x"], {"x": FloatDistribution(0, 1)}, n_trials=3)
    with pytest.raises(UserError, match="do not match the pre-trained tuner"):
        PretrainedSampler(SAC("MlpPolicy", env, device="cpu"))


def test_a_fixed_action_runs_the_search_without_an_agent():
    from hpo.samplers.pretrained import FIXED_ACTION

    space = {"x": FloatDistribution(-1.0, 1.0), "y": FloatDistribution(-1.0, 1.0)}

    def run(warp=False):
        sampler = PretrainedSampler("no such agent", seed=3, fixed_action=FIXED_ACTION, warp=warp)
        study = optuna.create_study(sampler=sampler)
        for _ in range(12):
            trial = study.ask(space)
            study.tell(trial, (trial.params["x"] - 0.3) ** 2 + (trial.params["y"] + 0.4) ** 2)
        return sampler, study

    sampler, study = run()
    assert sampler.agent is None
    recorded = [t.system_attrs[SYSTEM_ATTR]["action"] for t in study.trials if SYSTEM_ATTR in t.system_attrs]
    assert len(recorded) == 12 - 3 and all(a == list(FIXED_ACTION) for a in recorded)  # after 3 start-up trials
    assert [t.params for t in run()[1].trials] == [t.params for t in study.trials]  # seeded
    assert study.best_value < 0.05
    warped = [t.params for t in run(warp=True)[1].trials]  # input warping: its own search, seeded too
    assert warped == [t.params for t in run(warp=True)[1].trials] and warped != [t.params for t in study.trials]


@pytest.mark.parametrize("action", [(0.0, 0.0), (0.0, 0.0, 2.0), "abc", (0.0, float("nan"), 0.0)])
def test_a_bad_fixed_action_is_refused(action):
    with pytest.raises(UserError, match="fixed_action must be 3 numbers in \\[-1, 1\\]"):
        PretrainedSampler(seed=0, fixed_action=action)


BAD_RECORDS = {
    "a list": [1, 2],
    "no action": {"observation": [0.0] * OBSERVATION_SIZE},
    "a NaN observation": {"observation": [float("nan")] * OBSERVATION_SIZE, "action": [0.0] * ACTION_SIZE},
    "a short action": {"observation": [0.0] * OBSERVATION_SIZE, "action": [0.0]},
    "an action out of range": {"observation": [0.0] * OBSERVATION_SIZE, "action": [5.0] * ACTION_SIZE},
    "a text observation": {"observation": ["x"] * OBSERVATION_SIZE, "action": [0.0] * ACTION_SIZE},
}


def test_malformed_stored_records_are_ignored_with_one_warning_each(tmp_path, caplog):
    path = tmp_path / "db.sqlite3"
    storage = f"sqlite:///{path}"
    space = {"x": FloatDistribution(-2.0, 2.0), "y": FloatDistribution(-2.0, 2.0)}

    def objective(params):
        return params["x"] ** 2 + params["y"] ** 2

    options = dict(optimizer="sac-hmr-pretrained", seed=0, storage=storage, study_name="s")
    study = hpo.tune(objective, space, n_trials=N_STARTUP + len(BAD_RECORDS), **options).study
    recorded = [t for t in study.trials if SYSTEM_ATTR in t.system_attrs]
    with sqlite3.connect(path) as connection:  # finished trials: Optuna's API refuses to change them
        connection.executemany(
            "UPDATE trial_system_attributes SET value_json = ? WHERE trial_id = ? AND key = ?",
            [(json.dumps(r), t._trial_id, SYSTEM_ATTR) for t, r in zip(recorded, BAD_RECORDS.values())],
        )
    caplog.clear()
    resumed = hpo.tune(objective, space, n_trials=N_STARTUP + len(BAD_RECORDS) + 4, **options).study
    assert [t.state.name for t in resumed.trials] == ["COMPLETE"] * (N_STARTUP + len(BAD_RECORDS) + 4)
    warnings = [r.getMessage() for r in caplog.records if "is ignored" in r.getMessage()]
    assert len(warnings) == len(BAD_RECORDS)  # one per trial, not one per suggestion
    assert all(f"trial {t.number}: system attribute '{SYSTEM_ATTR}'" in w for t, w in zip(recorded, warnings))


def test_random_mutations_of_a_stored_record_are_usable_or_reported():
    """300 mutations of a real record: each is refused with a reason, or its observation and
    action make the arrays the replay buffer takes."""
    import random

    from hpo.samplers.pretrained import _record_problem

    junk = [None, True, "x", [], {}, float("nan"), float("inf"), 1e308, -2.0, 0.5, [0.1], 2**70]
    base = {"observation": [0.1] * OBSERVATION_SIZE, "action": [0.2] * ACTION_SIZE}
    rng = random.Random(0)
    outcomes = {"usable": 0, "reported": 0}
    for _ in range(300):
        record = json.loads(json.dumps(base))
        field = rng.choice(["observation", "action", "other"])
        kind = rng.random()
        if field == "other":
            record = rng.choice([*junk, {**record, "extra": 1}])
        elif kind < 0.4:
            record[field][rng.randrange(len(record[field]))] = rng.choice(junk)
        elif kind < 0.7:
            record[field] = record[field][: rng.randrange(len(record[field]) + 2)]
        else:
            record[field] = rng.choice(junk)
        problem = _record_problem(record)
        if problem is None:
            observation = np.array(record["observation"], dtype=np.float32)
            action = np.array(record["action"], dtype=np.float32)
            assert observation.shape == (OBSERVATION_SIZE,) and action.shape == (ACTION_SIZE,)
            assert np.isfinite(observation).all() and (np.abs(action) <= 1).all()
            outcomes["usable"] += 1
        else:
            assert isinstance(problem, str) and problem
            outcomes["reported"] += 1
    assert outcomes["usable"] > 0 and outcomes["reported"] > 150
