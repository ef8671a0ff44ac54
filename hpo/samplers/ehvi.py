"""``EHVISampler``: the Gaussian-process search for two objectives as an Optuna sampler.

The first ``n_startup_trials`` trials are the independent sampler's (random search by
default); then each trial is the point of largest expected hypervolume improvement over the
Pareto front of the finished trials (``hpo._gp.pareto.ParetoSearch``: one Gaussian process
per objective, a Monte Carlo expectation, candidates around the front). The registry's
``gp-search`` builds it for two-objective studies.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from hpo._gp.pareto import ParetoSearch
from hpo.errors import UserError
from hpo.samplers._base import Replay, UnionSearchSpace
from hpo.space import SpaceEncoder
from hpo.validation import check_int, check_seed

DEFAULT_N_STARTUP_TRIALS = 5


class EHVISampler(BaseSampler):
    """Expected hypervolume improvement on our Gaussian-process search, for two objectives
    (see the module docstring).

    Parameters
    ----------
    seed:
        Seeds the independent sampler and the candidate search.
    n_startup_trials:
        Finished trials of the independent sampler before the models are used.
    independent_sampler:
        For start-up trials and parameters outside the relative search space.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup_trials: int = DEFAULT_N_STARTUP_TRIALS,
        independent_sampler: BaseSampler | None = None,
    ):
        check_seed(seed)
        check_int("n_startup_trials", n_startup_trials, 1)
        if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
            raise UserError(
                f"independent_sampler must be an optuna BaseSampler, got {type(independent_sampler).__name__}"
            )
        self._rng = np.random.RandomState(seed)
        self._independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self.n_startup_trials = int(n_startup_trials)
        self._search_space = UnionSearchSpace()
        self._cache: dict[str, Any] | None = None

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._independent_sampler.reseed_rng()

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        space = self._search_space.calculate(study)
        return {name: dist for name, dist in space.items() if not dist.single()}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if len(study.directions) != 2:
            raise UserError(f"EHVISampler handles studies of two objectives; this one has {len(study.directions)}")
        if not search_space:
            return {}
        encoder = SpaceEncoder(search_space)
        signs = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in study.directions])
        numbers, points, values = [], [], []
        for finished in sorted(
            study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)), key=lambda t: t.number
        ):
            params = finished.params
            if finished.state == TrialState.FAIL and any(name not in params for name in encoder.names):
                continue
            try:
                point = encoder.encode(params, inactive_missing=True)
            except ValueError:  # outside a changed range: not comparable
                continue
            result = finished.values if finished.state == TrialState.COMPLETE else None
            if result is not None and not np.all(np.isfinite(result)):
                result = None
            numbers.append(finished.number)
            points.append(point)
            values.append(None if result is None else signs * np.asarray(result, dtype=np.float64))
        if sum(v is not None for v in values) < self.n_startup_trials:
            return {}
        search = self._search(encoder, numbers, points=points, values=values)
        point = search.propose(np.random.default_rng(self._rng.randint(0, 2**31 - 1)))
        return encoder.decode(point)

    def _search(self, encoder, numbers, *, points, values) -> ParetoSearch:
        """The search over the finished trials; only those not added yet are added, so the
        models stay warm-started."""
        key = tuple((name, repr(dist)) for name, dist in encoder.space.items())
        if self._cache is None:
            self._cache = {"replay": Replay()}
        start = self._cache["replay"].pending(key, numbers)
        if start == 0:
            self._cache["search"] = ParetoSearch(encoder.dim, snap=encoder.snap, categorical=encoder.categorical)
        search = self._cache["search"]
        for point, value in zip(points[start:], values[start:]):
            search.add(point, value)
        self._cache["replay"].done(numbers)
        return search

    def sample_independent(self, study, trial, param_name, param_distribution) -> Any:
        return self._independent_sampler.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._independent_sampler.before_trial(study, trial)

    def after_trial(self, study, trial, state, values) -> None:
        self._independent_sampler.after_trial(study, trial, state, values)
