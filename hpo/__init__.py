"""hpo: hyperparameter and multi-objective optimization toolkit.

Main entry points::

    hpo.tune(objective, space, optimizer="tpe", n_trials=100)   # run a study
    hpo.optimizers()                                             # registry names
    hpo.SpaceEncoder(space)                                      # space <-> [-1, 1]^d
"""

from hpo.errors import UserError
from hpo.optimizers import get_optimizer, make_sampler, optimizers, register
from hpo.space import SpaceEncoder, as_space, load_space
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
    "register",
    "tune",
]

# The reinforcement-learning parts import torch and stable-baselines3 (seconds), so they are
# loaded on first use only.
_LAZY_EXPORTS = {
    "SACHMR": ("hpo.agents", "SACHMR"),
    "load_agent": ("hpo.agents", "load_agent"),
    "SACHMRSampler": ("hpo.sampler", "SACHMRSampler"),
    "HPOEnv": ("envs", "HPOEnv"),
}
__all__ += list(_LAZY_EXPORTS)


def __getattr__(name):
    if name in _LAZY_EXPORTS:
        import importlib

        module_name, attribute = _LAZY_EXPORTS[name]
        value = getattr(importlib.import_module(module_name), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hpo' has no attribute {name!r}")
