"""Reinforcement-learning agents for tuning: SAC with hierarchical mixture regularization.

``SACHMR`` is stable-baselines3's ``SAC`` with HMR in its update (``sac_hmr``);
``load_agent`` loads a saved ``SAC``/``SACHMR`` zip without unpickling by default.
"""

from hpo.agents.persistence import load_agent
from hpo.agents.sac_hmr import SACHMR

__all__ = ["SACHMR", "load_agent"]
