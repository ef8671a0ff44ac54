"""``SACHMRTransferSampler``: the pre-trained SAC-HMR tuner, meta-trained on earlier studies.

What transfers from a family of related studies is first *where* the good configurations
are, then *how* to search there. ``sac-hmr-transfer`` (``from_sources``) so has three parts:

1. **Where: the sources' greedy portfolio** (``hpo.transfer.portfolio``), evaluated first:
   the configurations whose best member is best on average over the source studies. They
   are also the start of the Gaussian-process search that follows, which so begins in the
   family's good region.
2. **How: the shipped SAC-HMR agent** (``hpo.agents.shipped``: it steers a Gaussian-process
   search by setting each trial's acquisition, see ``envs.acquisition_env`` and
   ``hpo.samplers.PretrainedSampler``), **meta-trained on the source studies**
   (``hpo.agents.transfer_training``): ``training_steps`` agent steps on tuning episodes of
   cheap surrogates of the sources (``hpo.transfer.SourceSurrogate``: a Gaussian-process mean
   fitted to a source's quantile scores, perturbed anew each episode by an input shift, a
   score warp and noise, so that no table is learned by heart), each episode starting with
   the portfolio as the run on the target does. One replay buffer holds all sources'
   transitions, and the SAC-HMR update mixes them (mixture regularization across
   environments), then keeps learning online on the study (``fine_tune``), with the last
   ``keep_transitions`` meta-training transitions in its buffer.
3. **What the sources say about untried configurations** (``source_prior``): the mean of
   the sources' surrogates is the prior mean of the Gaussian process
   (``hpo.transfer.SourcePrior``, ``hpo._gp.search.prior_scale``), trusted as far as it
   ranks the study's trials better than chance and than the study's own model. In
   meta-training each source's episodes have the prior of the other sources, as the target
   has that of its sources. It is used only where the sources agree on where the good
   configurations are (``hpo.transfer.prior_agreement``): on a family whose datasets
   differ in that, the benchmark measured it to cost regret at every budget.

**Caching**: the meta-trained weights go into the study's storage as a study system
attribute (NumPy ``.npz``, base64; never pickle), keyed by a hash of the sources, the
portfolio, the space, the seed and the training settings. The budget is not in the key: a
rerun with a larger ``n_trials`` loads the agent meta-trained for the first run's horizon
(the budget feature of its observation then counts toward the new budget). A rerun, or
another worker on the same study, loads them instead of training; a worker that finds another one's live claim waits
for its weights, at most ``_CLAIM_SECONDS`` (10 minutes), and takes over a claim older than
that, dated in the future or malformed. The record is read as input from a storage others
may write: at most 16 MiB of base64, at most 64 MiB declared by the ``.npz`` members before
anything is decompressed, the tensors' names and shapes those of the agent, every value
finite (``hpo.agents.transfer_training.load_weights``); a record that fails a check is
logged as a warning naming the study and the attribute, and the agent is trained again and
stored in its place.

**Reproducible from ``seed``**: the meta-training draws from a seed drawn from the sampler's
RNG and runs on its own global RNG states; the agent is rebuilt from the shipped weights and
the meta-trained ones loaded into it whether they were trained or read from the cache, so a
run that loads cached weights continues exactly as the run that trained them.

The ablations (the transfer benchmark, docs/transfer.md): ``hmr=False`` starts from the
shipped plain-SAC agent and meta-trains without mixing; ``meta_train=False`` is the shipped
agent after the portfolio (with the prior); ``fine_tune=False`` freezes it on the study;
``source_prior=False`` leaves the prior out; ``agent=False`` is the portfolio followed by
random search.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from optuna.distributions import BaseDistribution
from optuna.samplers import RandomSampler
from optuna.study import Study
from optuna.trial import FrozenTrial

from hpo.agents.shipped import load_pretrained
from hpo.agents.transfer_training import add_transitions, load_weights, meta_train, weights_to_bytes
from hpo.errors import UserError
from hpo.samplers._base import DEFAULT_HORIZON, silent_logger
from hpo.samplers.pretrained import FIXED_ACTION, PretrainedSampler
from hpo.space import SpaceEncoder, check_configs
from hpo.transfer import (
    DEFAULT_PORTFOLIO_SIZE,
    PRIOR_MIN_AGREEMENT,
    PortfolioSampler,
    Source,
    SourcePrior,
    SourceSurrogate,
    encode_configs,
    portfolio,
    prior_agreement,
)
from hpo.validation import check_int, check_real

CACHE_ATTR = "hpo:transfer-agent"
DEFAULT_TRAINING_STEPS = 500
DEFAULT_EPISODE_LENGTH = 25
DEFAULT_KEEP_TRANSITIONS = 500
_META_GRADIENT_STEPS = 1
logger = logging.getLogger(__name__)
_CLAIM_SECONDS = 600.0  # a claim older than this is taken over (its worker died); the longest wait
_CLAIM_SKEW_SECONDS = 60.0  # clocks of workers on different machines may differ by this much
_CLAIM_SETTLE_SECONDS = 0.5
_CLAIM_POLL_SECONDS = 1.0
_MAX_CACHE_CHARS = 16 * 2**20  # base64 of a cached agent: about 0.3 MB


class SACHMRTransferSampler(PretrainedSampler):
    """The shipped SAC-HMR agent meta-trained on ``sources`` (``hpo.transfer.load_sources``),
    steering a Gaussian-process search on the study (see the module docstring).

    Parameters
    ----------
    sources:
        The source studies, loaded for the target's space.
    start:
        The configurations the study starts with (the portfolio; ``from_sources`` puts them
        first): each meta-training episode starts with them too.
    seed:
        Seeds the meta-training, the agent and the independent sampler.
    hmr:
        ``False``: the shipped plain-SAC agent, meta-trained without mixing (the ablation).
    meta_train:
        ``False``: the shipped agent as it is (the ablation).
    fine_tune:
        ``False``: the agent is not updated on the study (the ablation).
    source_prior:
        ``"auto"`` (default): the sources' mean surrogate is the Gaussian process's prior
        mean where the sources agree on where the good configurations are
        (``hpo.transfer.prior_agreement`` at least ``PRIOR_MIN_AGREEMENT``); ``True``:
        always; ``False``: never (the ablation).
    training_steps, episode_length:
        Meta-training length in agent steps, and agent steps per training episode.
    keep_transitions:
        The last meta-training transitions kept in the replay buffer while fine-tuning.
    progress:
        Show a progress bar while meta-training.
    kwargs:
        ``PretrainedSampler``'s options (``horizon``, ``gradient_steps``, ...).
    """

    def __init__(
        self,
        sources: Sequence[Source],
        *,
        start: Sequence[Mapping[str, Any]] = (),
        seed: int | None = None,
        hmr: bool = True,
        meta_train: bool = True,
        fine_tune: bool = True,
        source_prior: bool | str = "auto",
        training_steps: int = DEFAULT_TRAINING_STEPS,
        episode_length: int = DEFAULT_EPISODE_LENGTH,
        keep_transitions: int = DEFAULT_KEEP_TRANSITIONS,
        progress: bool = False,
        **kwargs: Any,
    ):
        if isinstance(sources, (str, bytes)) or not sources or not all(isinstance(s, Source) for s in sources):
            raise UserError("sources must be a non-empty list of hpo.transfer.Source (see hpo.transfer.load_sources)")
        check_int("training_steps", training_steps, 1)
        check_int("episode_length", episode_length, 1)
        check_int("keep_transitions", keep_transitions, 0)
        self.agent_name = "sac-hmr-pretrained" if hmr else "sac-pretrained"
        super().__init__(self.agent_name, seed=seed, fine_tune=fine_tune, **kwargs)
        self.sources = list(sources)
        self.start = check_configs("start", start)
        self.hmr = bool(hmr)
        self.meta_train = bool(meta_train)
        if self.meta_train and self.fixed_action is not None:
            raise UserError(
                "meta_train: a search with a fixed_action has no agent to meta-train; pass meta_train=False"
            )
        if source_prior not in ("auto", True, False):
            raise UserError(f"source_prior is {source_prior!r}; allowed: 'auto', True, False")
        self.source_prior = source_prior
        self._surrogates: tuple[tuple, list[SourceSurrogate]] | None = None
        self._agreement: tuple[list[SourceSurrogate], float] | None = None
        self.prior_agreement: float | None = None  # set once "auto" has decided
        self.training_steps = int(training_steps)
        self.episode_length = int(episode_length)
        self.keep_transitions = int(keep_transitions)
        self.progress = bool(progress)
        self.training_seconds: float | None = None  # measured when this process trained
        self._trained_for: tuple | None = None

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        encoder = self._relative_encoder(study, search_space)
        if encoder is not None and self.meta_train:
            key = tuple((name, repr(dist)) for name, dist in search_space.items())
            with self._lock:
                if self._trained_for != key:
                    self._use_meta_trained(study, encoder)
                    self._trained_for = key
        return super().sample_relative(study, trial, search_space)

    def _use_meta_trained(self, study: Study, encoder: SpaceEncoder) -> None:
        train_seed = int(self._rng.randint(0, 2**31 - 1))
        key = f"{CACHE_ATTR}:{self._cache_key(encoder, train_seed)}"
        # The same agent whether trained here or read back: the shipped one (its optimizer
        # state included) with the meta-trained weights and source transitions loaded.
        self.agent = load_pretrained(self.agent_name)
        self.agent.set_logger(silent_logger())
        stored = _cached(study, key)
        if stored is not None:
            try:
                add_transitions(self.agent.replay_buffer, load_weights(self.agent, _decoded(stored)))
                return
            except ValueError as err:  # checked before the agent changed: it is still the shipped one
                logger.warning(
                    "study %r: system attribute %r does not hold a usable agent (%s); training it again",
                    study.study_name,
                    key,
                    err,
                )
        data = self._train(encoder, train_seed)
        _set(study, key, base64.b64encode(data).decode("ascii"))
        add_transitions(self.agent.replay_buffer, load_weights(self.agent, data))

    def _train(self, encoder: SpaceEncoder, train_seed: int) -> bytes:
        started = time.perf_counter()
        rng = np.random.default_rng(train_seed)
        saved_torch, saved_numpy = torch.get_rng_state(), np.random.get_state()
        torch.manual_seed(train_seed)
        np.random.seed(train_seed % 2**32)
        try:
            agent = load_pretrained(self.agent_name)
            agent.set_logger(silent_logger())
            transitions = meta_train(
                agent,
                self._source_surrogates(encoder),
                encoder,
                start=self._start_points(encoder),
                horizon=self.horizon,
                steps=self.training_steps,
                episode_length=self.episode_length,
                gradient_steps=_META_GRADIENT_STEPS,
                batch_size=self.batch_size,
                rng=rng,
                progress=self.progress,
                keep=self.keep_transitions,
                prior=self._uses_prior(encoder),
            )
        finally:
            torch.set_rng_state(saved_torch)
            np.random.set_state(saved_numpy)
        self.training_seconds = time.perf_counter() - started
        return weights_to_bytes(agent, transitions)

    def _source_surrogates(self, encoder: SpaceEncoder) -> list[SourceSurrogate]:
        """Each source's surrogate on this space (fitted once per space)."""
        key = tuple((name, repr(dist)) for name, dist in encoder.space.items())
        if self._surrogates is None or self._surrogates[0] != key:
            self._surrogates = (key, [SourceSurrogate.from_source(source, encoder) for source in self.sources])
        return self._surrogates[1]

    def _uses_prior(self, encoder: SpaceEncoder) -> bool:
        """``source_prior``, with ``"auto"`` decided by the sources' agreement (kept in
        ``prior_agreement``)."""
        if self.source_prior != "auto":
            return self.source_prior
        surrogates = self._source_surrogates(encoder)
        if self._agreement is None or self._agreement[0] is not surrogates:
            self._agreement = (surrogates, prior_agreement(self.sources, surrogates, encoder))
        self.prior_agreement = self._agreement[1]
        return self.prior_agreement >= PRIOR_MIN_AGREEMENT

    def _prior(self, encoder: SpaceEncoder) -> SourcePrior | None:
        return SourcePrior(self._source_surrogates(encoder)) if self._uses_prior(encoder) else None

    def _start_points(self, encoder: SpaceEncoder) -> np.ndarray:
        """The start configurations encoded; a parameter one leaves unset at its centre."""
        if not self.start:
            return np.empty((0, encoder.dim))
        return np.nan_to_num(encode_configs(self.start, encoder), nan=0.0)

    def _cache_key(self, encoder: SpaceEncoder, train_seed: int) -> str:
        described = {
            "space": [(name, repr(dist)) for name, dist in encoder.space.items()],
            "sources": [(s.name, [sorted((k, repr(v)) for k, v in p.items()) for p in s.params]) for s in self.sources],
            "scores": [np.round(s.scores, 12).tolist() for s in self.sources],
            "start": [sorted((k, repr(v)) for k, v in c.items()) for c in self.start],
            "settings": [  # the horizon (the study's budget) is left out: a rerun that raises it loads
                self.agent_name,
                self.training_steps,
                self.episode_length,
                self.batch_size,
                self.keep_transitions,
                self.source_prior,
                train_seed,
            ],
        }
        return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]


# ---- the cache in the study's storage ------------------------------------------------------
def _cached(study: Study, key: str) -> Any:
    """The cached record (base64 text, unchecked), waiting for it while another worker's
    claim is live; ``None`` when this worker trains. A claim is live for ``_CLAIM_SECONDS``
    after its time; one dated in the future (beyond ``_CLAIM_SKEW_SECONDS`` of clock skew) or
    malformed is taken over, and after ``_CLAIM_SECONDS`` of waiting this worker trains
    anyway: a wait is bounded by ``_CLAIM_SECONDS`` plus one poll."""
    me = uuid.uuid4().hex
    deadline = time.monotonic() + _CLAIM_SECONDS
    while True:
        attrs = study._storage.get_study_system_attrs(study._study_id)
        if key in attrs:
            return attrs[key]
        if not _live(attrs.get(key + ":claim")) or time.monotonic() > deadline:
            _set(study, key + ":claim", {"owner": me, "time": time.time()})
            time.sleep(_CLAIM_SETTLE_SECONDS)  # a worker claiming at the same moment: the last write wins
            claim = study._storage.get_study_system_attrs(study._study_id).get(key + ":claim")
            if not isinstance(claim, dict) or claim.get("owner") == me or time.monotonic() > deadline:
                return None
        time.sleep(_CLAIM_POLL_SECONDS)


def _live(claim: Any) -> bool:
    """Whether ``claim`` is another worker's claim made within the last ``_CLAIM_SECONDS``."""
    stamp = claim.get("time") if isinstance(claim, dict) else None
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)) or not math.isfinite(stamp):
        return False
    now = time.time()
    return now - _CLAIM_SECONDS <= stamp <= now + _CLAIM_SKEW_SECONDS


def _decoded(stored: Any) -> bytes:
    """The bytes of a cached record, or a ``ValueError``: it must be base64 text of at most
    ``_MAX_CACHE_CHARS`` characters."""
    if not isinstance(stored, str):
        raise ValueError(f"a {type(stored).__name__}, not base64 text")
    if len(stored) > _MAX_CACHE_CHARS:
        raise ValueError(f"{len(stored)} characters; at most {_MAX_CACHE_CHARS} are read")
    try:
        return base64.b64decode(stored, validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"not base64 ({err})") from None


def _set(study: Study, key: str, value: Any) -> None:
    study._storage.set_study_system_attr(study._study_id, key, value)


def from_sources(
    sources: Sequence[Source],
    space: Mapping[str, Any],
    seed: int | None,
    n_trials: int | None = None,
    *,
    portfolio_size: int = DEFAULT_PORTFOLIO_SIZE,
    hmr: bool = True,
    meta_train: bool = True,
    fine_tune: bool = True,
    source_prior: bool | str = "auto",
    agent: bool = True,
    progress: bool = False,
    **kwargs: Any,
) -> PortfolioSampler:
    """``sac-hmr-transfer``: the sources' greedy portfolio of ``portfolio_size`` first, then
    the meta-trained agent (``agent=False``: random search after the portfolio, the
    portfolio-only ablation). ``n_trials``: the study's budget, the agent's ``horizon``."""
    check_int("portfolio_size", portfolio_size, 0)
    if n_trials is not None:
        check_real("n_trials", n_trials, 1)
    configs = portfolio(sources, space, portfolio_size, seed=seed) if portfolio_size else []
    if not agent:
        return PortfolioSampler(RandomSampler(seed=seed), configs)
    kwargs.setdefault("horizon", int(n_trials) if n_trials else DEFAULT_HORIZON)
    inner = SACHMRTransferSampler(
        sources,
        start=configs,
        seed=seed,
        hmr=hmr,
        meta_train=meta_train,
        fine_tune=fine_tune,
        source_prior=source_prior,
        progress=progress,
        **kwargs,
    )
    return PortfolioSampler(inner, configs)


def gp_search_from_sources(
    sources: Sequence[Source],
    space: Mapping[str, Any],
    seed: int | None,
    n_trials: int | None = None,
    *,
    portfolio_size: int = DEFAULT_PORTFOLIO_SIZE,
    source_prior: bool | str = "auto",
    progress: bool = False,
) -> PortfolioSampler:
    """``gp-search`` with source studies: ``sac-hmr-transfer`` without its agent. The
    sources' greedy portfolio first, then the same Gaussian-process search with fixed
    acquisition settings (``hpo.samplers.pretrained.FIXED_ACTION``) and the sources' prior
    (``source_prior`` as in ``SACHMRTransferSampler``). ``progress`` is unused: nothing trains."""
    return from_sources(
        sources,
        space,
        seed,
        n_trials=n_trials,
        portfolio_size=portfolio_size,
        meta_train=False,
        fine_tune=False,
        source_prior=source_prior,
        fixed_action=FIXED_ACTION,
    )
