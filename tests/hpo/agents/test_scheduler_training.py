"""``hpo.agents.scheduler_training``: a short run writes the agent and its validation curve,
a rerun resumes from its checkpoint, and a run with other settings in the same folder is
refused."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from hpo.agents.scheduler import AgentPolicy, load_scheduler
from hpo.agents.scheduler_training import CURVE_COLUMNS, mean_regret, train_scheduler
from hpo.errors import UserError


def test_a_short_run_writes_its_agent_and_curve_and_a_rerun_resumes(tmp_path):
    options = dict(eval_every=150, validation_episodes=2, progress=lambda line: None)
    path = train_scheduler(tmp_path, steps=300, seed=1, **options)
    with open(tmp_path / "curve.csv") as lines:
        rows = list(csv.DictReader(lines))
    assert tuple(rows[0]) == CURVE_COLUMNS and [int(r["step"]) for r in rows] == [150, 300]
    assert all(0 <= float(r["agent"]) <= 2 for r in rows)
    train_scheduler(tmp_path, steps=450, seed=1, **options)  # resumes at 300: one more validation
    with open(tmp_path / "curve.csv") as lines:
        assert [int(r["step"]) for r in csv.DictReader(lines)] == [150, 300, 450]
    with pytest.raises(UserError, match="holds a run with other settings"):
        train_scheduler(tmp_path, steps=450, seed=2, **options)
    from hpo.agents.persistence import load_agent

    agent = load_agent(path, device="cpu")
    assert 0 <= mean_regret(AgentPolicy(agent), seed=5, episodes=2) <= 2


def test_the_shipped_scheduler_validates_at_least_as_well_as_training_everything():
    # the curve the shipped weights were made with: the agent's validation regret
    agent = load_scheduler("sac-hmr-scheduler")
    everything = mean_regret(lambda observation: True, seed=7, episodes=40)
    assert mean_regret(AgentPolicy(agent), seed=7, episodes=40) < everything


def test_the_same_seed_trains_the_same_weights(tmp_path):
    from hpo.agents.persistence import load_agent

    options = dict(steps=1_200, seed=3, eval_every=1_200, validation_episodes=1, progress=lambda line: None)
    weights = []
    for name in ("a", "b"):
        agent = load_agent(train_scheduler(tmp_path / name, **options), device="cpu")
        weights.append([p.detach().numpy().copy() for p in agent.actor.parameters()])
    assert all(np.array_equal(x, y) for x, y in zip(*weights))
