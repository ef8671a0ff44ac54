"""``hpo.agents.shipped``: the shipped agents are small and load without unpickling."""

from __future__ import annotations

import zipfile

import pytest

from envs.acquisition_env import (
    ACTION_SIZE,
    OBSERVATION_SIZE,
)
from hpo.agents.shipped import AGENTS, load_pretrained, weights_path


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
