"""SACHMR: SB3's SAC with hierarchical mixture regularization."""

from __future__ import annotations

import base64
import json
import zipfile

import gymnasium
import numpy as np
import pytest
import torch as th
from stable_baselines3 import SAC
from stable_baselines3.common.logger import Logger
from torch import nn

import envs  # noqa: F401  (registers hpo/HPO-v0)
from hpo.agents import SACHMR, load_agent
from hpo.agents.sac_hmr import MixPlan, forward_mixed
from hpo.errors import UserError

th.set_num_threads(1)

NET = dict(net_arch=[16, 16])


def make_env():
    return gymnasium.make("hpo/HPO-v0", task="sphere-4d", n_trials=8)


def make_agent(algorithm=SACHMR, seed=0, **kwargs):
    return algorithm("MlpPolicy", make_env(), learning_starts=10, batch_size=16, policy_kwargs=NET, seed=seed, **kwargs)


def parameters(agent):
    state = {f"policy.{k}": v for k, v in agent.policy.state_dict().items()}
    state["log_ent_coef"] = agent.log_ent_coef
    return state


def assert_same_parameters(a, b):
    pa, pb = parameters(a), parameters(b)
    assert pa.keys() == pb.keys()
    for key in pa:
        assert th.equal(pa[key], pb[key]), key


def trained(algorithm, steps, **kwargs):
    # SB3 seeds the global RNGs when the agent is built, and learn() draws from them: build
    # and train one agent at a time so that both see the same random streams.
    agent = make_agent(algorithm, **kwargs)
    initial = {k: v.clone() for k, v in parameters(agent).items()}
    agent.learn(steps)
    return agent, initial


def test_hmr_prob_zero_reproduces_sac_exactly():
    sac, sac_initial = trained(SAC, 60)
    sachmr, sachmr_initial = trained(SACHMR, 60, hmr_prob=0.0)
    assert all(th.equal(sac_initial[k], sachmr_initial[k]) for k in sac_initial)
    assert sac._n_updates == sachmr._n_updates == 50
    assert_same_parameters(sac, sachmr)  # critics, targets, actor and temperature
    assert any(not th.equal(sac_initial[k], v) for k, v in parameters(sac).items())  # it trained


def test_mixing_changes_the_updates_so_the_equivalence_test_can_fail():
    sac, _ = trained(SAC, 30)
    sachmr, _ = trained(SACHMR, 30, hmr_prob=1.0)
    differing = [k for k, v in parameters(sac).items() if not th.equal(v, parameters(sachmr)[k])]
    assert any(k.startswith("policy.critic.") for k in differing)
    assert any(k.startswith("policy.actor.") for k in differing)


def filled_agent(**kwargs):
    agent = make_agent(**kwargs)
    agent.learn(20)  # fills the buffer and trains a little
    agent.set_logger(Logger(folder=None, output_formats=[]))
    return agent


@pytest.mark.parametrize("level", [0, 1, 2])
def test_critic_loss_is_computed_on_mixed_inputs_at_each_level(level):
    agent = filled_agent(hmr_critic_levels=(level,), hmr_actor_levels=())
    agent.train(gradient_steps=1, batch_size=16)
    logged = agent.logger.name_to_value
    assert logged["train/hmr_level"] == level
    assert logged["train/hmr_mixed_fraction"] == 1.0
    assert 0.5 <= logged["train/hmr_lambda_mean"] <= 1.0
    assert logged["train/critic_loss"] != pytest.approx(logged["train/critic_loss_unmixed"], rel=1e-6)


def test_hmr_prob_mixes_that_fraction_of_steps_and_logs_it():
    agent = filled_agent(hmr_prob=0.5)
    agent.train(gradient_steps=200, batch_size=16)
    assert 0.35 < agent.logger.name_to_value["train/hmr_mixed_fraction"] < 0.65


def test_actor_hidden_levels_are_used():
    agent = filled_agent(hmr_critic_levels=(0,), hmr_actor_levels=(2,))
    agent.train(gradient_steps=2, batch_size=16)
    assert agent.logger.name_to_value["train/hmr_actor_level"] == 2


def test_forward_mixed_mixes_exactly_at_the_requested_level():
    th.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 1))
    x = th.randn(6, 3)
    plan = MixPlan(lam=th.rand(6, 1) * 0.5 + 0.5, perm=th.randperm(6), critic_level=None, actor_level=None)
    h1 = net[1](net[0](x))
    h2 = net[3](net[2](h1))
    expected = {
        0: net(plan.blend(x)),
        1: net[4](net[3](net[2](plan.blend(h1)))),
        2: net[4](plan.blend(h2)),
    }
    for level, value in expected.items():
        mixed = forward_mixed(net, x, level, plan=plan)
        assert th.allclose(mixed, value)
        assert not th.allclose(mixed, net(x))
    identity = MixPlan(lam=th.ones(6, 1), perm=th.randperm(6), critic_level=None, actor_level=None)
    assert th.allclose(forward_mixed(net, x, 2, plan=identity), net(x))


def test_mixing_weights_keep_each_sample_dominant():
    agent = make_agent(hmr_alpha=0.3)
    plan = agent._draw_mix_plan(4096)
    assert plan.lam.shape == (4096, 1)
    assert th.all(plan.lam >= 0.5) and th.all(plan.lam <= 1.0)
    assert sorted(plan.perm.tolist()) == list(range(4096))
    assert plan.critic_level in (0, 1, 2) and plan.actor_level == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hmr_alpha": 0.0}, "hmr_alpha must be a finite number > 0, got 0.0"),
        ({"hmr_prob": 1.5}, "hmr_prob must be a finite number in [0, 1], got 1.5"),
        ({"hmr_critic_levels": (0, -1)}, "hmr_critic_levels must hold non-negative integers, got -1"),
        ({"hmr_actor_levels": "0"}, "hmr_actor_levels must be a sequence of non-negative integers"),
        ({"hmr_critic_levels": (1, 1)}, "hmr_critic_levels has repeated levels"),
    ],
)
def test_bad_hmr_options_name_parameter_and_allowed_values(kwargs, message):
    with pytest.raises(UserError) as excinfo:
        make_agent(**kwargs)
    assert message in str(excinfo.value)


def test_levels_deeper_than_the_network_are_refused_at_the_first_update():
    agent = make_agent(hmr_critic_levels=(0, 3))
    with pytest.raises(UserError, match=r"level\(s\) \[3\] exceed the 2 hidden layer\(s\).*allowed: 0..2"):
        agent.learn(20)


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
