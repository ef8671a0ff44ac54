"""``hpo.agents.sac_hmr``: SAC-HMR's mixing inside the SAC update (with ``hmr_prob=0`` it is
SB3's SAC exactly)."""

from __future__ import annotations

import pytest
import torch as th
from stable_baselines3 import SAC
from stable_baselines3.common.logger import Logger
from torch import nn

from hpo.agents import SACHMR
from hpo.agents.sac_hmr import MixPlan, forward_mixed
from hpo.errors import UserError
from tests.hpo.agents.helpers import assert_same_parameters, make_agent, parameters

th.set_num_threads(1)


def trained(algorithm, steps, **kwargs):
    # SB3 seeds the global RNGs when the agent is built, and learn() draws from them: build
    # and train one agent at a time so that both see the same random streams.
    agent = make_agent(algorithm, **kwargs)
    initial = {k: v.clone() for k, v in parameters(agent).items()}
    agent.learn(steps)
    return agent, initial


def filled_agent(**kwargs):
    agent = make_agent(**kwargs)
    agent.learn(20)  # fills the buffer and trains a little
    agent.set_logger(Logger(folder=None, output_formats=[]))
    return agent


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
