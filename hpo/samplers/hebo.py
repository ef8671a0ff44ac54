"""``hebo``: Huawei's HEBO (heteroscedastic evolutionary Bayesian optimization, the winner of
the NeurIPS 2020 black-box optimization challenge) as an Optuna sampler
(``hpo.samplers._ask_tell``).

Floats are HEBO's ``num`` (``pow`` on a log scale), integers ``int`` (``pow_int``), choices
``cat`` over the choice indices. HEBO takes any observed configuration (``observe``), so the
trials it did not propose are told as they are. It draws from the global NumPy and torch
generators: each suggestion runs under a seed drawn from the sampler's, and the caller's
generator states are restored after it.

HEBO 0.3.6 pins ``numpy<1.25`` and ``pymoo==0.6.0`` but runs unchanged on NumPy 2 and pymoo
0.6.2 along the path used here (the GP model, the MACE acquisition, NSGA-II), so it is
installed without its dependencies (``scripts/install_peers.sh``). Importing it sets torch to
one thread; the sampler restores the caller's thread count. HEBO runs pymoo's ``minimize``
without a seed, and pymoo 0.6.2 then draws from a fresh, unseeded generator (0.6.0 drew
from NumPy's global one): the sampler passes each suggestion's seed to it, so that a seed
gives the same run.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

import numpy as np

from hpo.samplers._ask_tell import AskTellSampler, Config, Param, Peer, derive_seed, global_seed, require

CONFIGURATION = (
    "hebo.optimizers.hebo.HEBO(space, model_name='gp', rand_sample=None (1 + dimensions Sobol points), "
    "acq_cls=MACE, es='nsga2', scramble_seed=seed), suggest(n_suggestions=1)"
)


class HeboPeer(Peer):
    def __init__(
        self,
        params: list[Param],
        seed: int,
        budget: int,
        told: list[tuple[Config, float]],
        *,
        model_name: str = "gp",
    ):
        import pandas as pd

        DesignSpace, HEBO = _hebo()
        self._pd = pd
        self.params = params
        self.seed = seed
        self.asked = 0
        self.optimizer = HEBO(
            DesignSpace().parse([_variable(p) for p in params]), model_name=model_name, scramble_seed=seed
        )
        if told:
            self.optimizer.observe(self._frame([c for c, _ in told]), np.array([[loss] for _, loss in told]))

    def ask(self) -> tuple[Config, Any]:
        self.asked += 1
        seed = derive_seed(self.seed, self.asked)
        _PYMOO_SEED.value = seed
        try:
            with global_seed(seed):
                row = self.optimizer.suggest(n_suggestions=1).iloc[0]
        finally:
            _PYMOO_SEED.value = None
        return {p.name: _value(p, row[p.name]) for p in self.params}, None

    def tell(self, config: Config, loss: float, token: Any) -> None:
        self.optimizer.observe(self._frame([config]), np.array([[loss]]))

    def _frame(self, configs: list[Config]):
        columns = {p.name: [f"c{c[p.name]}" if p.kind == "choice" else c[p.name] for c in configs] for p in self.params}
        return self._pd.DataFrame(columns)


_PYMOO_SEED = threading.local()  # the seed of the suggestion under way, per thread


def _hebo():
    import torch

    threads = torch.get_num_threads()
    from hebo.acq_optimizers import evolution_optimizer
    from hebo.design_space.design_space import DesignSpace
    from hebo.optimizers.hebo import HEBO

    torch.set_num_threads(threads)
    if not getattr(evolution_optimizer.minimize, "seeded", False):
        evolution_optimizer.minimize = _seeded(evolution_optimizer.minimize)
    return DesignSpace, HEBO


def _seeded(minimize):
    """pymoo's ``minimize`` given the seed of the suggestion under way in this thread."""

    def seeded_minimize(problem, algorithm, *args, **kwargs):
        kwargs.setdefault("seed", getattr(_PYMOO_SEED, "value", None))
        return minimize(problem, algorithm, *args, **kwargs)

    seeded_minimize.seeded = True
    return seeded_minimize


def _variable(param: Param) -> dict[str, Any]:
    if param.kind == "choice":
        return {"name": param.name, "type": "cat", "categories": [f"c{i}" for i in range(param.n_choices)]}
    kind = {("float", False): "num", ("float", True): "pow", ("int", False): "int", ("int", True): "pow_int"}
    return {"name": param.name, "type": kind[param.kind, param.log], "lb": param.low, "ub": param.high}


def _value(param: Param, value: Any) -> float | int:
    if param.kind == "choice":
        return int(str(value)[1:])
    return float(value) if param.kind == "float" else int(round(float(value)))


def from_registry(
    seed: int | None, n_objectives: int, n_trials: int | None, *, model_name: str = "gp"
) -> AskTellSampler:
    """The registry's ``hebo``: ``CONFIGURATION``; ``model_name``: another of HEBO's surrogates
    (``hebo.models.model_factory.model_dict``)."""
    require("hebo", optimizer="hebo", package="HEBO")
    _hebo()
    return AskTellSampler(partial(HeboPeer, model_name=model_name), seed=seed, n_trials=n_trials)
