"""hpo: hyperparameter and multi-objective optimization toolkit.

Main entry points::

    hpo.tune(objective, space, optimizer="tpe", n_trials=100)   # run a study
    hpo.optimizers()                                             # registry names
    hpo.SpaceEncoder(space)                                      # space <-> [-1, 1]^d
    hpo.pruners()                                                # pruner registry names
    hpo.when(distribution, parent=value)                         # a conditional parameter
    hpo.SearchCV(estimator, space)                               # scikit-learn meta-estimator
"""

import sys
import types

from hpo.errors import UserError

__version__ = "0.1.0"

# The package root is the public facade, above every layer of docs/architecture.md. Every name
# is loaded on first use: ``import hpo`` stays cheap (Optuna, pandas, torch and
# stable-baselines3 load when a name needs them), and so does the start of the ``hpo`` command,
# whose Ctrl-C handling starts in ``hpo.cli.main``.
_EXPORTS = {
    "SpaceEncoder": "hpo.space",
    "TuneResult": "hpo.tuning",
    "as_space": "hpo.space",
    "get_optimizer": "hpo.optimizers",
    "load_space": "hpo.space",
    "make_sampler": "hpo.optimizers",
    "optimizers": "hpo.optimizers",
    "pruners": "hpo.pruners",
    "register": "hpo.optimizers",
    "tune": "hpo.tuning",
    "when": "hpo.space",
    "SACHMR": "hpo.agents.sac_hmr",
    "load_agent": "hpo.agents.persistence",
    "SACHMRSampler": "hpo.samplers.sac_hmr",
    "PretrainedSampler": "hpo.samplers.pretrained",
    "HPOEnv": "envs.hpo_env",
    "SearchCV": "hpo.sklearn",
}
__all__ = ["UserError", *_EXPORTS]


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hpo' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_EXPORTS})


class _Facade(types.ModuleType):
    """The package whose exported names stay the functions: importing the submodule
    ``hpo.optimizers`` (or ``hpo.pruners``) makes Python bind it as an attribute of ``hpo``,
    which would hide the function ``hpo.optimizers()``; the submodule stays reachable
    through ``import hpo.optimizers`` / ``sys.modules``."""

    def __setattr__(self, name, value):
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade
