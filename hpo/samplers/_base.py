"""What our agent-driven Optuna samplers share: the ``AgentSampler`` base, the finished
trials of a study as encoded points (``finished_points``), the incremental replay of those
trials (``Replay``) and SB3's silent logger."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from hpo.errors import UserError
from hpo.pruners import model_value
from hpo.space import SpaceEncoder
from hpo.validation import check_seed

DEFAULT_HORIZON = 100
_FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)


class AgentSampler(BaseSampler):
    """What every sampler driven by an SB3 agent shares: pickling without its lock, an
    independent sampler for start-up trials and parameters outside the relative search
    space, and private RNGs. SB3 draws from the global torch and NumPy RNGs, so the agent
    runs on private copies of them, seeded from the sampler's ``_rng`` (``with
    self._private_global_rngs():``), and the caller's global states are given back.
    Subclasses call ``super().__init__(seed, independent_sampler)`` first.
    """

    def __init__(self, seed: int | None, independent_sampler: BaseSampler | None):
        check_seed(seed)
        if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
            raise UserError(
                f"independent_sampler must be an optuna BaseSampler, got {type(independent_sampler).__name__}"
            )
        self._rng = np.random.RandomState(seed)
        self._independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self._lock = threading.RLock()
        self._fresh_agent_rng_states()

    # ---- pickling (process pools, Dask): everything but the lock travels ------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def reseed_rng(self) -> None:
        with self._lock:
            self._rng.seed()
            self._independent_sampler.reseed_rng()
            self._fresh_agent_rng_states()

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        """The parameters any completed trial set, each with the one distribution every trial
        that set it used (``UnionSearchSpace``), minus single-valued ones (they carry no
        choice, as in Optuna's samplers); empty for multi-objective studies. Conditional
        parameters are in it: trials where one is inactive encode it as 0, the centre
        (``finished_points``), and the agent's proposal for it is used only where it is active."""
        if len(study.directions) > 1:
            return {}
        if getattr(self, "_search_space", None) is None:
            self._search_space = UnionSearchSpace()
        space = self._search_space.calculate(study)
        return {name: dist for name, dist in space.items() if not dist.single()}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._independent_sampler.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._independent_sampler.before_trial(study, trial)

    def after_trial(self, study, trial, state, values) -> None:
        self._independent_sampler.after_trial(study, trial, state, values)

    def _fresh_agent_rng_states(self) -> None:
        import torch

        seeds = self._rng.randint(0, 2**31 - 1, size=2)
        self._torch_state = torch.Generator().manual_seed(int(seeds[0])).get_state()
        self._numpy_state = np.random.RandomState(int(seeds[1])).get_state()

    @staticmethod
    def _relative_encoder(study: Study, search_space: dict[str, BaseDistribution]):
        """The encoder of the relative search space, or ``None`` where the agent proposes
        nothing (an empty space, or several objectives: the independent sampler runs)."""
        if not search_space or len(study.directions) > 1:
            return None
        return SpaceEncoder(search_space)

    @contextmanager
    def _private_global_rngs(self):
        """Run SB3 (which draws from the global torch and NumPy RNGs) on this sampler's own
        RNG states, and give the caller's global states back afterwards."""
        import torch

        saved_torch, saved_numpy = torch.get_rng_state(), np.random.get_state()
        torch.set_rng_state(self._torch_state)
        np.random.set_state(self._numpy_state)
        try:
            yield
        finally:
            self._torch_state, self._numpy_state = torch.get_rng_state(), np.random.get_state()
            torch.set_rng_state(saved_torch)
            np.random.set_state(saved_numpy)


class UnionSearchSpace:
    """Optuna's ``IntersectionSearchSpace`` for conditional spaces: the union of the
    parameters of the completed trials, dropping a parameter seen with two different
    distributions; updated incrementally, sorted by name as Optuna's."""

    def __init__(self) -> None:
        self._seen: set[int] = set()
        self._distributions: dict[str, BaseDistribution] = {}
        self._conflicting: set[str] = set()

    def calculate(self, study: Study) -> dict[str, BaseDistribution]:
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if trial.number in self._seen:
                continue
            self._seen.add(trial.number)
            for name, dist in trial.distributions.items():
                if name in self._conflicting:
                    continue
                if self._distributions.setdefault(name, dist) != dist:
                    del self._distributions[name]
                    self._conflicting.add(name)
        return dict(sorted(self._distributions.items()))


class Replay:
    """Which finished trials a sampler's state already holds. Finished trials never change,
    so while the trials replayed at the last call are still the first ones (the usual case)
    only the new ones are replayed; a trial that finished out of order (another worker) or
    a new ``key`` (agent, space, direction) makes a full replay from a fresh state. Both
    give the same state."""

    def __init__(self) -> None:
        self._key: Any = object()
        self._numbers: list[int] = []

    def pending(self, key: Any, numbers: list[int]) -> int:
        """The index in ``numbers`` of the first trial not replayed yet; 0 asks the caller
        to start from a fresh state."""
        if key != self._key or numbers[: len(self._numbers)] != self._numbers:
            self._key, self._numbers = key, []
        return len(self._numbers)

    def done(self, numbers: list[int]) -> None:
        self._numbers = list(numbers)


def silent_logger():
    from stable_baselines3.common.logger import Logger

    return Logger(folder=None, output_formats=[])


def finished_points(
    study: Study, encoder, encoded: dict[int, np.ndarray] | None = None
) -> tuple[list[FrozenTrial], list[np.ndarray], list[float | None]]:
    """The finished trials (failed ones only where they set every parameter of the space;
    a parameter absent from a completed or pruned trial was inactive), in trial-number order,
    with their encoded configurations and values: a pruned trial's is its last finite
    reported value, as Optuna's TPE and ``CmaEsSampler(consider_pruned_trials=True)`` read
    them (``None``: failed, or pruned before any report).
    ``encoded``: a cache of encodings by trial number, filled as it goes (finished trials
    never change; give a fresh one when the space changes)."""
    kept, points, values = [], [], []
    trials = study.get_trials(deepcopy=False, states=_FINISHED)
    for trial in sorted(trials, key=lambda t: t.number):
        point = None if encoded is None else encoded.get(trial.number)
        if point is None:
            params = trial.params
            # A completed or pruned trial set every parameter active in it; the others are
            # inactive conditional ones. A failed trial may have stopped while sampling.
            if trial.state == TrialState.FAIL and any(name not in params for name in encoder.names):
                continue
            try:
                point = encoder.encode(params, inactive_missing=True)
            except ValueError:  # a value outside the current (changed) range: not comparable
                continue
            if encoded is not None:
                encoded[trial.number] = point
        kept.append(trial)
        points.append(point)
        values.append(model_value(trial))
    return kept, points, values
