"""``smac``: SMAC3's Bayesian optimization as an Optuna sampler (``hpo.samplers._ask_tell``).

The registry's ``smac`` runs SMAC3's ``BlackBoxFacade``: a Gaussian process (Matern 5/2 plus
Hamming for choices, its hyperparameters fitted by marginal likelihood), expected
improvement, a Sobol initial design of ``min(8 * dimensions, n_trials / 4)`` points. SMAC3's
documentation recommends it for few evaluations of an expensive black box, the setting the
registry's optimizers are compared in (tens of trials); ``HyperparameterOptimizationFacade``
(``facade="hpo"``: a random forest, log EI, a Sobol design of ``min(10 * dimensions,
n_trials / 4)``) is built for hundreds of cheap evaluations.

Floats are ConfigSpace ``Float`` (``log=``), integers ``Integer``, choices ``Categorical``
over the choice indices; the scenario is deterministic (one evaluation per configuration).
Trials SMAC did not propose are told as ``TrialInfo(config, seed=scenario seed)``. A peer
rebuilt with ``k`` trials shortens its initial design by ``k``. SMAC writes its run history
into a temporary directory, removed with the peer; its log is kept at warnings.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from functools import partial
from pathlib import Path
from typing import Any

from hpo.errors import UserError
from hpo.samplers._ask_tell import AskTellSampler, Config, Param, Peer, require

CONFIGURATION = (
    "smac.BlackBoxFacade(Scenario(configspace, deterministic=True, n_trials=n_trials or 100, seed=seed), "
    "initial_design=BlackBoxFacade.get_initial_design(scenario) (Sobol, n_configs_per_hyperparameter=8, "
    "max_ratio=0.25)), ask/tell"
)
FACADES = ("blackbox", "hpo")


class SmacPeer(Peer):
    def __init__(
        self,
        params: list[Param],
        seed: int,
        budget: int,
        told: list[tuple[Config, float]],
        *,
        facade: str = "blackbox",
    ):
        from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer
        from smac import BlackBoxFacade, HyperparameterOptimizationFacade, Scenario

        space = ConfigurationSpace(seed=seed)
        for p in params:
            if p.kind == "choice":
                space.add(Categorical(p.name, [str(i) for i in range(p.n_choices)]))
            elif p.kind == "float":
                space.add(Float(p.name, (p.low, p.high), log=p.log))
            else:
                space.add(Integer(p.name, (int(p.low), int(p.high)), log=p.log))
        self.params, self.space, self.seed = params, space, seed
        folder = tempfile.mkdtemp(prefix="hpo-smac-")
        weakref.finalize(self, shutil.rmtree, folder, True)
        scenario = Scenario(
            space, deterministic=True, n_trials=budget, seed=seed, output_directory=Path(folder) / "smac"
        )
        Facade = BlackBoxFacade if facade == "blackbox" else HyperparameterOptimizationFacade
        design = Facade.get_initial_design(scenario)
        remaining = max(len(design.select_configurations()) - len(told), 1)
        self.smac = Facade(
            scenario,
            _never_called,
            initial_design=Facade.get_initial_design(scenario, n_configs=remaining),
            overwrite=True,
            logging_level=logging.WARNING,
        )
        for config, loss in told:
            self.tell(config, loss, None)

    def ask(self) -> tuple[Config, Any]:
        info = self.smac.ask()
        values = dict(info.config)
        return {p.name: int(values[p.name]) if p.kind == "choice" else values[p.name] for p in self.params}, info

    def tell(self, config: Config, loss: float, token: Any) -> None:
        from ConfigSpace import Configuration
        from smac.runhistory.dataclasses import TrialInfo, TrialValue

        if token is None:
            values = {p.name: str(config[p.name]) if p.kind == "choice" else config[p.name] for p in self.params}
            token = TrialInfo(config=Configuration(self.space, values=values), seed=self.seed)
        self.smac.tell(token, TrialValue(cost=loss), save=False)


def _never_called(config, seed: int = 0) -> float:
    raise RuntimeError("the study evaluates the configurations; SMAC only asks and is told")


def from_registry(
    seed: int | None, n_objectives: int, n_trials: int | None, *, facade: str = "blackbox"
) -> AskTellSampler:
    """The registry's ``smac``: ``CONFIGURATION``; ``facade="hpo"``: SMAC3's
    ``HyperparameterOptimizationFacade`` instead (see the module docstring)."""
    require("smac", optimizer="smac", package="SMAC3")
    if facade not in FACADES:
        raise UserError(f"facade is {facade!r}; allowed: {', '.join(FACADES)}")
    return AskTellSampler(partial(SmacPeer, facade=facade), seed=seed, n_trials=n_trials)
