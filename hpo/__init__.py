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
