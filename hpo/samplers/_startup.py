"""Start-up trials spread over each parameter's range: a Latin hypercube.

``LatinHypercubeStart(n, seed)`` is an independent sampler (Optuna's ``sample_independent``):
trial ``k < n`` gets, for each parameter, the value at the ``k``-th point of that parameter's
one-dimensional Latin hypercube of ``n`` points (``scipy.stats.qmc.LatinHypercube``, seeded
by the seed and the parameter's name), so each parameter's ``n`` start-up values fall in
``n`` different strata of its range, and the trials together form a Latin hypercube. A point
of ``[0, 1]`` maps onto the parameter as the search's encoding does (``hpo.space``: log
scales, integer and step grids, one bin per categorical choice). From trial ``n`` on, and for
a parameter first seen after the start-up, values are uniformly random.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study
from optuna.trial import FrozenTrial
from scipy.stats import qmc

from hpo.space import SpaceEncoder
from hpo.validation import check_int, check_seed


class LatinHypercubeStart(BaseSampler):
    """The first ``n`` trials of a Latin hypercube, then random search (module docstring)."""

    def __init__(self, n: int, *, seed: int | None = None):
        check_int("n", n, 1)
        check_seed(seed)
        self.n, self._seed = int(n), seed
        self._random = RandomSampler(seed=seed)
        self._columns: dict[str, np.ndarray] = {}

    def reseed_rng(self) -> None:
        self._random.reseed_rng()

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict:
        return {}

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        if trial.number >= self.n:
            return self._random.sample_independent(study, trial, param_name, param_distribution)
        column = self._columns.get(param_name)
        if column is None:
            entropy = None if self._seed is None else [self._seed, zlib.crc32(param_name.encode())]
            rng = np.random.default_rng(np.random.SeedSequence(entropy))
            column = self._columns[param_name] = qmc.LatinHypercube(d=1, rng=rng).random(self.n)[:, 0]
        encoder = SpaceEncoder({param_name: param_distribution})
        return encoder.decode([2.0 * column[trial.number] - 1.0])[param_name]
