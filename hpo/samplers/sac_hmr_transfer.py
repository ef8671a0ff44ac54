"""``SACHMRTransferSampler``: SAC-HMR meta-trained on earlier studies, fine-tuned on this one.

What transfers from a family of related studies is mostly *where* the good configurations
are, so the agent acts in absolute coordinates (``action_mode="absolute"``: the action is the
encoded configuration) and its observation is the one of ``envs.HPOEnv`` (best and last
configurations, their normalized scores, a window of recent trials, the budget used).

1. **Meta-training** (``hpo.agents.transfer_training``): one cheap task per source study (an
   inverse-distance surrogate of its quantile scores, ``hpo.transfer.SourceTask``), perturbed
   anew each episode (input shift, score warp, noise) so that no table is learned by heart;
   one replay buffer for all sources, whose transitions HMR mixes. ``training_steps``
   environment steps of ``episode_length`` trials (the budget feature of the observation
   counts ``episode_length`` trials too).
2. **Caching**: the weights go into the study's storage as a study system attribute (NumPy
   ``.npz``, base64; never pickle), keyed by a hash of the sources, the space, the seed and
   the settings. A rerun, or another worker on the same study, loads them instead of
   training. A worker that finds another one's recent claim waits for its weights.
3. **Online**: ``SACHMRSampler`` with that agent, fine-tuned on the study's own trials mixed
   with the last ``keep_transitions`` meta-training transitions (``fine_tune=False``:
   frozen), after ``n_startup_trials`` trials of the independent sampler (TPE, which also
   replaces a proposal that repeats an evaluated configuration); ``from_sources`` puts the
   greedy portfolio of the sources first (``hpo.transfer.PortfolioSampler``), so those are
   the start-up trials. The reward is the trial's standardized score and the temperature a
   small constant, so the policy stays sharp around the good region it learned.

The transfer benchmark (docs/transfer.md) measured it: it does not beat the portfolio
followed by TPE or GP.

Reproducible from ``seed``: the training's draws come from a seed drawn from the sampler's
RNG and run on their own global RNG states, so a run that loads cached weights continues
exactly as the run that trained them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from optuna.samplers import TPESampler
from optuna.study import Study
from optuna.trial import FrozenTrial

from hpo.agents.transfer_training import add_transitions, load_weights, meta_train, weights_to_bytes
from hpo.errors import UserError
from hpo.samplers.sac_hmr import SACHMRSampler
from hpo.space import SpaceEncoder
from hpo.transfer import PortfolioSampler, Source, SourceTask, portfolio
from hpo.validation import check_int, check_real

CACHE_ATTR = "hpo:transfer-agent"
DEFAULT_TRAINING_STEPS = 1000
DEFAULT_EPISODE_LENGTH = 30
DEFAULT_PORTFOLIO_SIZE = 3
DEFAULT_FINE_TUNE_STEPS = 1
DEFAULT_ENT_COEF = 0.01
DEFAULT_KEEP_TRANSITIONS = 500
_META_GRADIENT_STEPS = 2
_CLAIM_SECONDS = 600.0  # a claim older than this is taken over (its worker died)
_CLAIM_SETTLE_SECONDS = 0.5


class SACHMRTransferSampler(SACHMRSampler):
    """SAC-HMR meta-trained on ``sources`` (``hpo.transfer.load_sources``) and fine-tuned on
    the study (see the module docstring).

    Parameters
    ----------
    sources:
        The source studies, loaded for the target's space.
    seed:
        Seeds the meta-training, the agent and the independent sampler.
    hmr:
        ``False``: plain SAC (the ablation).
    fine_tune:
        ``False``: the meta-trained agent is not updated on the study (the ablation).
    training_steps, episode_length:
        Meta-training length in environment steps, and trials per training episode.
    keep_transitions:
        The last meta-training transitions kept in the replay buffer while fine-tuning.
    progress:
        Show a progress bar while meta-training.
    kwargs:
        ``SACHMRSampler``'s options (``n_startup_trials``, ``gradient_steps``, ...).
    """

    def __init__(
        self,
        sources: Sequence[Source],
        *,
        seed: int | None = None,
        hmr: bool = True,
        fine_tune: bool = True,
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
        kwargs.setdefault("gradient_steps", DEFAULT_FINE_TUNE_STEPS)
        # A sharp policy: with the score as reward and a small fixed temperature the agent
        # proposes the good region it learned, rather than a broad distribution around it.
        kwargs.setdefault("reward", "score")
        kwargs.setdefault("ent_coef", DEFAULT_ENT_COEF)
        if kwargs.get("independent_sampler") is None:
            kwargs["independent_sampler"] = TPESampler(seed=seed, multivariate=True, constant_liar=True)
        if not fine_tune:
            kwargs["gradient_steps"] = 0
        super().__init__(seed=seed, hmr=hmr, action_mode="absolute", horizon=episode_length, **kwargs)
        self.sources = list(sources)
        self.fine_tune = bool(fine_tune)
        self.training_steps = int(training_steps)
        self.episode_length = int(episode_length)
        self.keep_transitions = int(keep_transitions)
        self.progress = bool(progress)
        self.training_seconds: float | None = None  # measured when this process trained
        self._study: Study | None = None
        self._source_transitions: dict[str, np.ndarray] = {}

    def sample_relative(self, study: Study, trial: FrozenTrial, search_space) -> dict[str, Any]:
        self._study = study  # the cache lives in its storage; _build_agent needs it
        params = super().sample_relative(study, trial, search_space)
        if params and any(t.params == params for t in study.get_trials(deepcopy=False) if t.number != trial.number):
            return {}  # a repeated proposal teaches nothing: the independent sampler (TPE) proposes instead
        return params

    def _build_agent(self, env):
        agent = super()._build_agent(env)
        encoder: SpaceEncoder = env.encoder
        train_seed = int(self._rng.randint(0, 2**31 - 1))
        key = f"{CACHE_ATTR}:{self._cache_key(encoder, train_seed)}"
        data = self._cached(key)
        if data is None:
            data = self._train(agent, encoder, train_seed)
            self._store(key, data)
        self._source_transitions = load_weights(agent, data)
        return agent

    def _add_transitions(self, buffer, history, points, values) -> None:
        # The buffer is empty when the study's replay starts afresh: the last meta-training
        # transitions go in first, so that fine-tuning mixes (HMR) the study's transitions
        # with the sources' and does not drift from what the sources taught.
        if buffer.size() == 0 and self._source_transitions:
            add_transitions(buffer, self._source_transitions)
        super()._add_transitions(buffer, history, points, values)

    # ---- meta-training -----------------------------------------------------------------
    def _train(self, agent, encoder: SpaceEncoder, train_seed: int) -> bytes:
        started = time.perf_counter()
        rng = np.random.default_rng(train_seed)
        saved_torch, saved_numpy = torch.get_rng_state(), np.random.get_state()
        torch.manual_seed(train_seed)
        np.random.seed(train_seed % 2**32)
        try:
            transitions = meta_train(
                agent,
                [SourceTask.from_source(source, encoder) for source in self.sources],
                encoder,
                lambda: self._new_history(encoder.dim, maximize=False),
                steps=self.training_steps,
                episode_length=self.episode_length,
                random_steps=min(self.training_steps, 2 * self.episode_length),
                gradient_steps=_META_GRADIENT_STEPS,
                batch_size=self.batch_size,
                rng=rng,
                progress=self.progress,
                keep=self.keep_transitions,
            )
        finally:
            torch.set_rng_state(saved_torch)
            np.random.set_state(saved_numpy)
        self.training_seconds = time.perf_counter() - started
        return weights_to_bytes(agent, transitions)

    def _cache_key(self, encoder: SpaceEncoder, train_seed: int) -> str:
        described = {
            "space": [(name, repr(dist)) for name, dist in encoder.space.items()],
            "sources": [(s.name, [sorted((k, repr(v)) for k, v in p.items()) for p in s.params]) for s in self.sources],
            "scores": [np.round(s.scores, 12).tolist() for s in self.sources],
            "settings": [
                self.hmr,
                self.training_steps,
                self.episode_length,
                self.batch_size,
                self.keep_transitions,
                train_seed,
            ],
            "mdp": sorted((k, repr(v)) for k, v in self._mdp_kwargs.items()),
            "sac": repr(sorted(self._sac_kwargs.items())) + repr(sorted(self._hmr_kwargs.items())),
        }
        return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]

    # ---- the cache in the study's storage ------------------------------------------------
    def _cached(self, key: str) -> bytes | None:
        """The cached weights, waiting for them while another worker's claim is fresh."""
        if self._study is None:
            return None
        me = uuid.uuid4().hex
        while True:
            attrs = self._study._storage.get_study_system_attrs(self._study._study_id)
            if key in attrs:
                return base64.b64decode(attrs[key])
            claim = attrs.get(key + ":claim")
            if claim is None or time.time() - claim["time"] > _CLAIM_SECONDS:
                self._set(key + ":claim", {"owner": me, "time": time.time()})
                time.sleep(_CLAIM_SETTLE_SECONDS)  # a worker claiming at the same moment: the last write wins
                claim = self._study._storage.get_study_system_attrs(self._study._study_id)[key + ":claim"]
                if claim["owner"] == me:
                    return None
            time.sleep(1.0)

    def _store(self, key: str, data: bytes) -> None:
        if self._study is not None:
            self._set(key, base64.b64encode(data).decode("ascii"))

    def _set(self, key: str, value: Any) -> None:
        self._study._storage.set_study_system_attr(self._study._study_id, key, value)


def from_sources(
    sources: Sequence[Source],
    space: Mapping[str, Any],
    seed: int | None,
    n_trials: int | None = None,
    *,
    portfolio_size: int = DEFAULT_PORTFOLIO_SIZE,
    hmr: bool = True,
    fine_tune: bool = True,
    agent: bool = True,
    progress: bool = False,
    **kwargs: Any,
) -> PortfolioSampler:
    """``sac-hmr-transfer``: the sources' greedy portfolio of ``portfolio_size`` first, then
    the meta-trained agent (``agent=False``: random search after the portfolio, the
    portfolio-only ablation). ``n_trials`` is accepted for the registry's signature; the
    agent's budget feature counts ``episode_length`` trials."""
    check_int("portfolio_size", portfolio_size, 0)
    if n_trials is not None:
        check_real("n_trials", n_trials, 1)
    configs = portfolio(sources, space, portfolio_size, seed) if portfolio_size else []
    if agent:
        kwargs.setdefault("n_startup_trials", max(portfolio_size, 1))
        inner = SACHMRTransferSampler(sources, seed=seed, hmr=hmr, fine_tune=fine_tune, progress=progress, **kwargs)
    else:
        from optuna.samplers import RandomSampler

        inner = RandomSampler(seed=seed)
    return PortfolioSampler(inner, configs)


def from_registry(seed: int | None, n_objectives: int, n_trials: int | None, **options: Any):
    """The registry's ``sac-hmr-transfer`` names need source studies, which a name alone
    cannot give: ``hpo.tune(..., transfer_from=...)`` builds them with ``from_sources``."""
    raise UserError(
        "optimizer 'sac-hmr-transfer' needs source studies: pass transfer_from= to hpo.tune "
        "(--transfer-from on the command line)"
    )
