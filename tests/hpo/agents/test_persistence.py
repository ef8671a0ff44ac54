"""``hpo.agents.persistence``: saved agents load back without unpickling anything they cannot
rebuild."""

from __future__ import annotations

import base64
import json
import zipfile

import numpy as np
import pytest
import torch as th
from stable_baselines3 import SAC

from hpo.agents import SACHMR, load_agent
from hpo.errors import UserError
from tests.hpo.agents.helpers import assert_same_parameters, make_agent, make_env

th.set_num_threads(1)


def test_save_and_safe_load_round_trip(tmp_path, monkeypatch):
    agent = make_agent(hmr_alpha=0.4, hmr_critic_levels=(1, 2))
    agent.learn(20)
    path = tmp_path / "agent.zip"
    agent.save(path)

    import cloudpickle

    def refuse(*args, **kwargs):
        raise AssertionError("the safe loader must not unpickle")

    monkeypatch.setattr(cloudpickle, "loads", refuse)
    loaded = load_agent(path)
    assert isinstance(loaded, SACHMR)
    assert loaded.hmr_alpha == 0.4 and list(loaded.hmr_critic_levels) == [1, 2]
    assert_same_parameters(agent, loaded)
    obs, _ = make_env().reset(seed=0)
    np.testing.assert_array_equal(agent.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    resumed = load_agent(path, env=make_env())
    resumed.learn(10)  # training goes on after a safe load


def test_safe_load_refuses_pickled_objects_it_cannot_rebuild(tmp_path):
    agent = make_agent(SAC, learning_rate=lambda progress: 3e-4 * progress)  # a pickled callable
    path = tmp_path / "agent.zip"
    agent.save(path)
    with pytest.raises(UserError, match=r"would unpickle \['learning_rate'\].*trust_pickled_objects=True"):
        load_agent(path)
    trusted = load_agent(path, trust_pickled_objects=True)
    assert type(trusted) is SAC


def test_safe_load_rejects_tampered_classes(tmp_path):
    agent = make_agent(SAC)
    path = tmp_path / "agent.zip"
    agent.save(path)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "data":
                data = json.loads(content)
                data["policy_class"]["__module__"] = "evil.module"
                data["policy_class"][":serialized:"] = base64.b64encode(b"not a pickle").decode()
                content = json.dumps(data).encode()
            target.writestr(item, content)
    with pytest.raises(UserError, match=r"would unpickle \['policy_class'\]"):
        load_agent(tampered)
    with pytest.raises(UserError, match="no such file"):
        load_agent(tmp_path / "missing.zip")
