"""What the peers' samplers share: an ask/tell optimizer of another library as an Optuna sampler.

``AskTellSampler`` runs a peer (HEBO, SMAC3, Nevergrad, Syne Tune; one module each) on the
study's search space (``infer_relative_search_space`` + ``sample_relative``; parameters
outside it, as in conditional spaces, are sampled independently at random). The peer sees
each parameter as ``Param``: a float or an integer range, linear or log, or a choice of
``n`` unordered indices; a stepped float or integer is an integer grid index.

**State from the study alone.** At each suggestion the sampler reads the study's finished
trials and tells the peer those it has not seen; a peer is kept per study in memory (keyed
by the storage object, the study and the search space) and rebuilt from all the finished
trials where it cannot be updated: in a new process (a resumed study, a worker joining a
shared storage), after the space changed, or when a trial another worker asked appears and
the peer cannot be told configurations it did not propose. Nothing is read back from the
storage but the trials, never a pickle. A lock serializes the peer across ``n_jobs``
threads; running trials are not told.

**What a peer is told.** A complete trial: its value. A pruned trial: its last intermediate
value (the point where it was judged bad enough to stop), skipped if it reported none. A
failed trial, or a value that is not finite: nothing. Peers minimize: a maximized study's
values are negated.

**Seeds.** A peer is seeded from the sampler's seed and the number of trials it is built
with, so a fresh study gives the same run for a seed on one machine, and a resumed one does
not replay the start of the peer's initial design.
"""

from __future__ import annotations

import contextlib
import importlib
import random
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import intersection_search_space
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from hpo.errors import UserError
from hpo.pruners import model_value

INSTALL_PEERS = "sh scripts/install_peers.sh"
DEFAULT_BUDGET = 100  # the peers that plan for a budget assume this many trials where it is unknown
_CACHED_STUDIES = 4

Config = dict[str, float | int]  # a configuration as a peer sees it: parameter name -> value


@dataclass(frozen=True)
class Param:
    """One parameter as the peers see it. ``kind``: ``"float"`` (``low``..``high``, ``log``),
    ``"int"`` (the integers ``low``..``high``, ``log``) or ``"choice"`` (the indices
    ``0``..``high`` of unordered choices). ``grid``: an ``"int"`` that indexes the values of a
    stepped distribution, ``low + index * step``."""

    name: str
    kind: str
    low: float
    high: float
    log: bool
    distribution: BaseDistribution
    grid: bool = False

    @property
    def n_choices(self) -> int:
        return int(self.high) + 1

    def to_peer(self, value: Any) -> float | int:
        """The trial's parameter ``value`` in the peer's terms."""
        dist = self.distribution
        if self.kind == "choice":
            return int(dist.to_internal_repr(value))
        if self.grid:
            return int(round((value - dist.low) / dist.step))
        return float(value) if self.kind == "float" else int(value)

    def from_peer(self, value: Any) -> Any:
        """The peer's ``value`` as the distribution's value, rounded and clipped into it (a log
        scale's round trip may leave its bounds by an ulp)."""
        dist = self.distribution
        if self.kind == "float":
            return min(max(float(value), dist.low), dist.high)
        index = min(max(int(round(float(value))), int(self.low)), int(self.high))
        if self.kind == "choice":
            return dist.choices[index]
        if self.grid:
            return min(dist.low + index * dist.step, dist.high)
        return index


def peer_params(search_space: Mapping[str, BaseDistribution]) -> list[Param]:
    """The parameters of ``search_space`` as ``Param``, in the order given."""
    params = []
    for name, dist in search_space.items():
        if isinstance(dist, CategoricalDistribution):
            params.append(Param(name, "choice", 0, len(dist.choices) - 1, False, dist))
        elif isinstance(dist, (FloatDistribution, IntDistribution)) and dist.step not in (None, 1):
            steps = int(round((dist.high - dist.low) / dist.step))
            params.append(Param(name, "int", 0, steps, False, dist, grid=True))
        elif isinstance(dist, FloatDistribution):
            params.append(Param(name, "float", dist.low, dist.high, dist.log, dist))
        elif isinstance(dist, IntDistribution):
            params.append(Param(name, "int", dist.low, dist.high, dist.log, dist))
        else:
            raise TypeError(f"parameter {name!r}: unsupported distribution {dist!r}")
    return params


class Peer:
    """An optimizer of another library, built with the finished trials so far (``told``: their
    configurations and values to minimize). ``incremental``: it can be told more trials later,
    those it did not propose included (``token`` is ``None`` for them)."""

    incremental = True
    tells_unasked = True  # told configurations it did not propose; else it is rebuilt for them

    def ask(self) -> tuple[Config, Any]:
        """A configuration to try, and a token handed back to ``tell`` with its value."""
        raise NotImplementedError

    def tell(self, config: Config, loss: float, token: Any) -> None:
        raise NotImplementedError


PeerBuilder = Callable[[list[Param], int, int, list[tuple[Config, float]]], Peer]


def require(module: str, *, optimizer: str, package: str) -> ModuleType:
    """Import the peer library ``module``, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise UserError(
            f"optimizer {optimizer!r} needs the peers extra: {INSTALL_PEERS} ({package} is not installed: {err})"
        ) from None


def derive_seed(seed: int, *keys: int) -> int:
    """A seed in [0, 2**31) drawn from ``seed`` and ``keys``."""
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0] % (2**31 - 1))


@contextlib.contextmanager
def global_seed(seed: int) -> Iterator[None]:
    """Seed the global RNGs (``random``, NumPy, torch) that a peer draws from, and restore them
    after: the peer is reproducible and the caller's streams are left as they were."""
    torch = sys.modules.get("torch")
    saved = random.getstate(), np.random.get_state(), torch.get_rng_state() if torch else None
    random.seed(seed)
    np.random.seed(seed)
    if torch:
        torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        if torch:
            torch.set_rng_state(saved[2])


@dataclass
class _State:
    storage: Any
    peer: Peer
    told: set[int] = field(default_factory=set)  # trial ids told
    tokens: dict[int, Any] = field(default_factory=dict)  # trial id -> the token of its ask


class AskTellSampler(BaseSampler):
    """An Optuna sampler driven by the peer that ``build(params, seed, budget, told)`` makes
    (see the module docstring). ``budget``: the study's trials where known (``n_trials``).
    ``space``: the search space where it is known in advance (a transfer peer's, given with
    its sources), so that the peer suggests the first trial too; else the finished trials'."""

    def __init__(
        self,
        build: PeerBuilder,
        *,
        seed: int | None = None,
        n_trials: int | None = None,
        space: Mapping[str, BaseDistribution] | None = None,
    ):
        self._build = build
        self._space = None if space is None else {n: d for n, d in space.items() if not d.single()}
        self._seed = int(seed) if seed is not None else int(np.random.SeedSequence().generate_state(1)[0] >> 1)
        self._budget = int(n_trials) if n_trials else DEFAULT_BUDGET
        self._independent = RandomSampler(seed=seed)
        self._lock = threading.Lock()
        self._states: OrderedDict[tuple, _State] = OrderedDict()

    def reseed_rng(self) -> None:
        self._independent.reseed_rng()

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if len(study.directions) > 1:
            raise UserError("the peers' samplers handle a single objective")
        if self._space is not None:
            return dict(self._space)
        trials = study._get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED), use_cache=True)
        space = intersection_search_space(trials)
        return {name: dist for name, dist in space.items() if not dist.single()}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        params = peer_params(search_space)
        observed = _observations(study, params)
        with self._lock:
            state = self._state(study, params, observed)
            config, token = state.peer.ask()
            state.tokens[trial._trial_id] = token
        return {p.name: p.from_peer(config[p.name]) for p in params}

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def _state(self, study: Study, params: list[Param], observed: list[tuple[int, Config, float]]) -> _State:
        key = (study._study_id, study.study_name, tuple((p.name, repr(p.distribution)) for p in params))
        state = self._states.get(key)
        ids = {trial_id for trial_id, _, _ in observed}
        new = [o for o in observed if state is None or o[0] not in state.told]
        usable = (
            state is not None
            and state.storage is study._storage
            and state.peer.incremental
            and state.told <= ids
            and (state.peer.tells_unasked or all(o[0] in state.tokens for o in new))
        )
        if usable:
            for trial_id, config, loss in new:
                state.peer.tell(config, loss, state.tokens.pop(trial_id, None))
                state.told.add(trial_id)
        else:
            seed = derive_seed(self._seed, len(observed))
            peer = self._build(params, seed, self._budget, [(config, loss) for _, config, loss in observed])
            state = _State(storage=study._storage, peer=peer, told=ids)
            self._states[key] = state
        self._states.move_to_end(key)
        while len(self._states) > _CACHED_STUDIES:
            self._states.popitem(last=False)
        return state


def _observations(study: Study, params: Sequence[Param]) -> list[tuple[int, Config, float]]:
    """The finished trials as the peer is told them: (trial id, configuration, value to
    minimize), in trial order (see the module docstring for pruned and failed trials)."""
    sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
    out = []
    for trial in study._get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED), use_cache=True):
        value = model_value(trial)
        if value is None or any(p.name not in trial.params for p in params):
            continue
        config = {p.name: p.to_peer(trial.params[p.name]) for p in params}
        out.append((trial._trial_id, config, sign * float(value)))
    return out
