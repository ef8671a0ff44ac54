"""``PretrainedSampler``: a pre-trained agent steering a Gaussian-process search, as an
Optuna sampler.

The shipped agents (``hpo.agents.shipped``) steer the Gaussian-process search of
``hpo._gp.search`` through the MDP of ``envs.acquisition_env``, whose observation and action do
not depend on the search space, so
they serve any number of parameters of any type. ``PretrainedSampler`` runs one on an Optuna
study and keeps training it there (``gradient_steps`` updates of a ``batch_size`` minibatch
per ``train_every`` new transitions; ``fine_tune=False`` freezes it). Loading never unpickles
(``hpo.agents.persistence.load_agent``).

How a study becomes transitions: at each proposal the sampler stores the observation and
action in the trial's system attributes (``SYSTEM_ATTR``). The GP-based observation of an
old trial cannot be recomputed cheaply, so it is kept rather than replayed; the values,
hence the rewards, come from the study. Trials without that record (start-up trials,
other samplers, other workers' proposals not yet seen) inform the model but make no
transition. The first ``envs.acquisition_env.N_STARTUP`` trials are the independent
sampler's: by default a Latin hypercube (``hpo.samplers._startup``; pre-training draws them
uniformly).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial

from envs.acquisition_env import ACTION_SIZE, N_STARTUP, OBSERVATION_SIZE, AcquisitionEpisode
from hpo.agents.shipped import fresh_agent, load_pretrained
from hpo.errors import UserError
from hpo.samplers._base import DEFAULT_HORIZON, AgentSampler, Replay, finished_points, silent_logger
from hpo.samplers._startup import LatinHypercubeStart
from hpo.validation import check_int

logger = logging.getLogger(__name__)
_FLOAT32_MAX = float(np.finfo(np.float32).max)  # the replay buffer's precision

SYSTEM_ATTR = "hpo:acquisition"
DEFAULT_GRADIENT_STEPS = 1
DEFAULT_BATCH_SIZE = 32
DEFAULT_TRAIN_EVERY = 8  # one update per 8 trials keeps the cost per trial near TPE's (docs)
# The middle of each acquisition setting's range: beta 0.32, radius 0.14, local share 0.5.
FIXED_ACTION = (0.0, 0.0, 0.0)
STARTUPS = ("latin-hypercube", "random")
_MAX_UPDATES_PER_CALL = 10  # resuming a long study stays quick


class PretrainedSampler(AgentSampler):
    """An Optuna sampler in which a pre-trained agent steers a Gaussian-process search (see
    the module docstring and ``envs.acquisition_env``).

    Parameters
    ----------
    agent:
        A shipped agent's name (``hpo.agents.shipped.AGENTS``), a ``SAC``/``SACHMR`` object with the spaces of
        ``envs.acquisition_env.AcquisitionEnv``, or ``None`` for fresh weights (the from-scratch
        ablation).
    seed:
        Seeds the independent sampler, the candidates and the agent's updates and noise.
    fine_tune:
        Keep training the agent on the study's transitions.
    gradient_steps, batch_size, train_every:
        The fine-tuning: ``gradient_steps`` updates of ``batch_size`` transitions per
        ``train_every`` new transitions.
    deterministic:
        Act with the policy's mean action instead of sampling one. The pre-trained policy
        is a broad distribution over acquisition settings, validated by sampling from it
        (``hpo.agents.pretraining``), so the default samples.
    horizon:
        Trials that count as the whole budget in the observation (the study's ``n_trials``
        where known; ``hpo.tune`` passes it).
    independent_sampler:
        For start-up trials and parameters outside the relative search space.
    startup:
        The start-up trials when no ``independent_sampler`` is given: ``"latin-hypercube"``
        (``hpo.samplers._startup``; the default) or ``"random"`` (random search);
        docs/benchmarks.md measures both.
    warp:
        Fit input warping with the search's Gaussian process (``hpo._gp.gp``); off by
        default (docs/benchmarks.md measures it).
    trust_region:
        Keep the candidates in a TuRBO-style trust region (``hpo._gp.search``); ``None``:
        above ``hpo._gp.search.TRUST_REGION_DIM`` parameters (docs/benchmarks.md measures it).
    fixed_action:
        Take this action (in ``[-1, 1]^3``, ``envs.acquisition_env.action_to_acquisition``)
        at every trial instead of asking an agent: the same Gaussian-process search with
        fixed acquisition settings, no agent loaded or trained (``agent`` and the
        fine-tuning options are then unused). ``FIXED_ACTION`` is the middle of each range.
    """

    def __init__(
        self,
        agent: Any = "sac-hmr-pretrained",
        *,
        seed: int | None = None,
        fine_tune: bool = True,
        gradient_steps: int = DEFAULT_GRADIENT_STEPS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        train_every: int = DEFAULT_TRAIN_EVERY,
        deterministic: bool = False,
        horizon: int = DEFAULT_HORIZON,
        independent_sampler: BaseSampler | None = None,
        fixed_action: Sequence[float] | None = None,
        warp: bool = False,
        trust_region: bool | None = None,
        startup: str = "latin-hypercube",
    ):
        if startup not in STARTUPS:
            raise UserError(f"startup {startup!r} is not allowed; allowed: {', '.join(STARTUPS)}")
        if independent_sampler is None and startup == "latin-hypercube":
            independent_sampler = LatinHypercubeStart(N_STARTUP, seed=seed)
        super().__init__(seed, independent_sampler)
        self.warp = bool(warp)
        self.trust_region = None if trust_region is None else bool(trust_region)
        for name, value, minimum in (
            ("gradient_steps", gradient_steps, 0),
            ("batch_size", batch_size, 1),
            ("train_every", train_every, 1),
            ("horizon", horizon, 1),
        ):
            check_int(name, value, minimum)
        self.fixed_action = _check_action(fixed_action)
        if self.fixed_action is not None:
            agent = None
            self.agent = None
        elif isinstance(agent, str):
            agent = load_pretrained(agent)
        elif agent is None:
            with self._private_global_rngs():
                agent = fresh_agent(int(self._rng.randint(0, 2**31 - 1)))
        if agent is not None:
            shapes = (agent.observation_space.shape, agent.action_space.shape)
            if shapes != ((OBSERVATION_SIZE,), (ACTION_SIZE,)):
                raise UserError(
                    f"agent: observation and action shapes {shapes} do not match the pre-trained tuner's "
                    f"({OBSERVATION_SIZE},) and ({ACTION_SIZE},)"
                )
            agent.set_logger(silent_logger())  # SB3 sets one only in learn(); train() needs it
            self.agent = agent
        self.fine_tune = bool(fine_tune)
        self.gradient_steps, self.batch_size, self.train_every = int(gradient_steps), int(batch_size), int(train_every)
        self.deterministic = bool(deterministic)
        self.horizon = int(horizon)
        self._cache: dict[str, Any] | None = None
        self._warned: dict[str, set[int]] = {}  # study name -> trials whose bad record was reported

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        encoder = self._relative_encoder(study, search_space)
        if encoder is None:
            return {}
        sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
        with self._lock:
            cache = self._cache_for(encoder, sign)
            trials, points, values = finished_points(study, encoder, cache["encoded"])
        if len(points) < N_STARTUP:
            return {}
        numbers = [t.number for t in trials]
        records = self._stored_records(study, trials)
        with self._lock, self._private_global_rngs():
            episode, rewards = self._episode(numbers, points, values, records=records)
            observation = episode.observation()
            if self.fixed_action is None:
                self._add_transitions(records, rewards, observation)
                action, _ = self.agent.predict(observation, deterministic=self.deterministic)
            else:
                action = self.fixed_action
            point = episode.propose(action, np.random.default_rng(self._rng.randint(0, 2**31 - 1)))
        study._storage.set_trial_system_attr(
            trial._trial_id,
            SYSTEM_ATTR,
            {"observation": [float(v) for v in observation], "action": [float(v) for v in action]},
        )
        return encoder.decode(point)

    # ---- internals -----------------------------------------------------------------
    def _stored_records(self, study: Study, trials: Sequence[FrozenTrial]) -> dict[int, dict]:
        """The trials' ``SYSTEM_ATTR`` records that are well formed; another record (anyone who
        can write the storage can change one) is left out, with one warning per trial."""
        records = {}
        warned = self._warned.setdefault(study.study_name, set())
        for trial in trials:
            if SYSTEM_ATTR not in trial.system_attrs:
                continue
            record = trial.system_attrs[SYSTEM_ATTR]
            problem = _record_problem(record)
            if problem is None:
                records[trial.number] = record
            elif trial.number not in warned:
                warned.add(trial.number)
                logger.warning(
                    "study %r, trial %d: system attribute %r is ignored (%s)",
                    study.study_name,
                    trial.number,
                    SYSTEM_ATTR,
                    problem,
                )
        return records

    def _cache_for(self, encoder, sign) -> dict[str, Any]:
        """What is kept between calls for one search space and direction."""
        key = (tuple((name, repr(dist)) for name, dist in encoder.space.items()), sign)
        if self._cache is None or self._cache["key"] != key:
            self._cache = dict(key=key, encoded={}, encoder=encoder, sign=sign, added=set(), replay=Replay())
        return self._cache

    def _restart_episode(self) -> None:
        encoder = self._cache["encoder"]
        self._cache.update(
            rewards={},
            episode=AcquisitionEpisode(
                encoder.dim,
                self.horizon,
                snap=encoder.snap,
                categorical=encoder.categorical,
                prior=self._prior(encoder),
                warp=self.warp,
                trust_region=self.trust_region,
            ),
        )

    def _prior(self, encoder):
        """What is known of the study's landscape before its trials (``AcquisitionEpisode``'s
        ``prior``): nothing here."""
        return None

    def _episode(self, numbers, points, values, records):
        """The ``AcquisitionEpisode`` of the finished trials and each one's reward; only the
        trials not recorded yet are added (``Replay``), so the model stays warm-started."""
        cache = self._cache
        start = cache["replay"].pending(None, numbers)
        if start == 0:
            self._restart_episode()
        episode, sign = cache["episode"], cache["sign"]
        for number, point, value in zip(numbers[start:], points[start:], values[start:]):
            action = records.get(number, {}).get("action")
            cache["rewards"][number] = episode.record(
                point, None if value is None else sign * value, None if action is None else np.array(action)
            )
        cache["replay"].done(numbers)
        return episode, cache["rewards"]

    def _add_transitions(self, records, rewards, observation) -> None:
        """Each recorded trial not yet in the buffer, followed by the next recorded one (or
        by the current observation, which the trial being sampled now records)."""
        added = self._cache["added"]
        ordered = sorted(n for n in records if n in rewards)
        new = 0
        for index, number in enumerate(ordered):
            if number in added:
                continue
            following = records[ordered[index + 1]]["observation"] if index + 1 < len(ordered) else observation
            self.agent.replay_buffer.add(
                np.array(records[number]["observation"], dtype=np.float32)[None],
                np.array(following, dtype=np.float32)[None],
                np.array(records[number]["action"], dtype=np.float32)[None],
                np.array([rewards[number]], dtype=np.float32),
                np.array([False]),
                [{}],
            )
            added.add(number)
            new += 1
        if self.fine_tune and self.gradient_steps and new:
            before = len(added) - new
            due = min(len(added) // self.train_every - before // self.train_every, _MAX_UPDATES_PER_CALL)
            if due > 0:
                self.agent.train(gradient_steps=self.gradient_steps * due, batch_size=self.batch_size)


def _check_action(action: Sequence[float] | None) -> np.ndarray | None:
    if action is None:
        return None
    try:
        array = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.shape != (ACTION_SIZE,) or not np.all(np.abs(array) <= 1.0):
        raise UserError(f"fixed_action must be {ACTION_SIZE} numbers in [-1, 1], got {action!r:.80}")
    return array


def from_registry(
    seed: int | None,
    n_objectives: int,
    n_trials: int | None,
    *,
    agent: Any,
    fine_tune: bool = True,
    fixed_action: Sequence[float] | None = None,
    warp: bool = False,
    trust_region: bool | None = None,
    startup: str = "latin-hypercube",
) -> PretrainedSampler:
    """The registry's ``sac-hmr-pretrained``, its ablations and ``gp-search`` (``hpo.optimizers``);
    ``gp-search`` on two objectives is the same search with expected hypervolume improvement
    (``hpo.samplers.ehvi``)."""
    if n_objectives > 1:
        from hpo.samplers.ehvi import EHVISampler

        return EHVISampler(seed=seed)
    return PretrainedSampler(
        agent,
        seed=seed,
        horizon=n_trials or DEFAULT_HORIZON,
        fine_tune=fine_tune,
        fixed_action=fixed_action,
        warp=warp,
        trust_region=trust_region,
        startup=startup,
    )


def _record_problem(record: Any) -> str | None:
    """What is wrong with a stored ``SYSTEM_ATTR`` record, or ``None``: it must be a dict with
    an ``observation`` of ``OBSERVATION_SIZE`` numbers finite in float32 and an ``action`` of
    ``ACTION_SIZE`` numbers in [-1, 1]."""
    if not isinstance(record, dict):
        return f"a {type(record).__name__}, not a dict"
    for field, size, bound in (("observation", OBSERVATION_SIZE, _FLOAT32_MAX), ("action", ACTION_SIZE, 1.0)):
        values = record.get(field)
        if not isinstance(values, list) or len(values) != size:
            return f"{field} must be a list of {size} numbers"
        for value in values:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                return f"{field} holds {value!r:.40}, not a finite number"
            if abs(value) > bound:
                return f"{field} holds {value!r}, outside [-{bound:g}, {bound:g}]"
    return None
