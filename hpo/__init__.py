"""hpo: hyperparameter and multi-objective optimization toolkit.

Main entry points::

    hpo.tune(objective, space, optimizer="tpe", n_trials=100)   # run a study
    hpo.optimizers()                                             # registry names
    hpo.SpaceEncoder(space)                                      # space <-> [-1, 1]^d
    hpo.pruners()                                                # pruner registry names
    hpo.when(distribution, parent=value)                         # a conditional parameter
    hpo.SearchCV(estimator, space)                               # scikit-learn meta-estimator
"""

from hpo.errors import UserError
from hpo.optimizers import get_optimizer, make_sampler, optimizers, register
from hpo.pruners import pruners
from hpo.space import SpaceEncoder, as_space, load_space, when
from hpo.tune import TuneResult, tune

__version__ = "0.1.0"

__all__ = [
    "SpaceEncoder",
    "TuneResult",
    "UserError",
    "as_space",
    "get_optimizer",
    "load_space",
    "make_sampler",
    "optimizers",
    "pruners",
    "register",
    "tune",
    "when",
]

# The package root is the public facade, above every layer of docs/architecture.md. The
# reinforcement-learning parts import torch and stable-baselines3 (seconds), so they are
# loaded on first use only.
_LAZY_EXPORTS = ("SACHMR", "load_agent", "SACHMRSampler", "PretrainedSampler", "HPOEnv", "SearchCV")
__all__ += list(_LAZY_EXPORTS)


def __getattr__(name):
    if name == "SACHMR":
        from hpo.agents.sac_hmr import SACHMR as value
    elif name == "load_agent":
        from hpo.agents.persistence import load_agent as value
    elif name == "SACHMRSampler":
        from hpo.samplers.sac_hmr import SACHMRSampler as value
    elif name == "PretrainedSampler":
        from hpo.samplers.pretrained import PretrainedSampler as value
    elif name == "HPOEnv":
        from envs.hpo_env import HPOEnv as value
    elif name == "SearchCV":  # scikit-learn's model selection: loaded on first use too
        from hpo.sklearn import SearchCV as value
    else:
        raise AttributeError(f"module 'hpo' has no attribute {name!r}")
    globals()[name] = value
    return value
