"""What the agent tests share: a small agent on the 4-D sphere and a check that two agents hold
the same parameters."""

from __future__ import annotations

import gymnasium
import torch as th

import envs  # noqa: F401  (registers hpo/HPO-v0)
from hpo.agents import SACHMR

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
