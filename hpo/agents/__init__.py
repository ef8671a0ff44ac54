"""Reinforcement-learning agents for tuning: SAC with hierarchical mixture regularization.

``SACHMR`` is stable-baselines3's ``SAC`` with HMR in its update (``sac_hmr``);
``load_agent`` loads a saved ``SAC``/``SACHMR`` zip without unpickling by default;
``pretraining`` trains an agent on synthetic tasks and ``shipped`` loads the agents that ship
with the package. torch and SB3 are imported on first use, so the command line stays quick.
"""

__all__ = ["SACHMR", "load_agent"]


def __getattr__(name):
    if name == "SACHMR":
        from hpo.agents.sac_hmr import SACHMR as value
    elif name == "load_agent":
        from hpo.agents.persistence import load_agent as value
    else:
        raise AttributeError(f"module 'hpo.agents' has no attribute {name!r}")
    globals()[name] = value
    return value
