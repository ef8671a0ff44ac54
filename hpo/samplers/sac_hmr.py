"""``SACHMRSampler``: the SAC-HMR agent as an Optuna sampler.

The study is the replay buffer. At every ``sample_relative`` the sampler replays the study's
finished trials, in trial-number order, through the MDP of ``envs.HPOEnv`` (the same
``TuningHistory`` bookkeeping: normalization, observation, reward, failure penalty) and so
rebuilds every transition ``(observation, action, reward, next observation)``; the action of
a trial is recovered from its parameters (``TuningHistory.action_for``). Nothing but the
trials is needed, so the sampler works with any storage and with several processes sharing
one study: each process keeps its own agent (networks and optimizer state), trains it on
the whole shared history, and acts on the current state. The whole study is one
continuing episode (no terminal state); the budget feature of the observation is
``n_finished / horizon``, clipped at 1.

* Before ``n_startup_trials`` finished trials, and for parameters outside the relative
  search space (Optuna's ``IntersectionSearchSpace`` of the completed trials), the
  independent sampler (``RandomSampler`` by default) decides.
* Per ``train_every`` newly finished trials the agent makes ``gradient_steps`` updates (at
  most ``10 * gradient_steps`` per call, so resuming a long study stays quick).
* FAIL and PRUNED trials are penalized for the agent (``failure_penalty``, see
  ``envs.hpo_env``) and stay visible in the study; RUNNING trials are ignored.
* Multi-objective studies: everything is left to the independent sampler.
* Seeding: ``seed`` fixes the independent sampler, the agent's initialization and its
  action noise. The agent's draws use private copies of the global torch and NumPy RNG
  states, so the sampler neither disturbs nor depends on the user's global RNGs.
  ``reseed_rng()`` (which ``Study.optimize`` calls per trial with ``n_jobs > 1``) draws
  fresh seeds, as Optuna's samplers do. Use a different seed in every worker process.
* Threads (``n_jobs > 1``) share one sampler object; a lock serializes training and
  inference.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from hpo.errors import UserError

# Defaults chosen with benchmarks/sac (docs/sac-hmr.md has the numbers).
DEFAULT_N_STARTUP_TRIALS = 10
DEFAULT_GRADIENT_STEPS = 5
DEFAULT_NET_ARCH = (64, 64)
DEFAULT_GAMMA = 0.9
DEFAULT_BATCH_SIZE = 64
DEFAULT_HORIZON = 100
_MAX_TRIALS_TRAINED_PER_CALL = 10
_BUFFER_SIZE = 10_000
_FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)


def _never_called(params: dict[str, Any]) -> float:
    raise RuntimeError("the sampler's environment only describes spaces; Optuna evaluates trials")


class AgentSampler(BaseSampler):
    """What every sampler driven by an SB3 agent shares: pickling without its lock, an
    independent sampler for start-up trials and parameters outside the relative search
    space, and private RNGs. SB3 draws from the global torch and NumPy RNGs, so the agent
    runs on private copies of them, seeded from the sampler's ``_rng`` (``with
    self._private_global_rngs():``), and the caller's global states are given back.
    Subclasses call ``super().__init__(seed, independent_sampler)`` first.
    """

    def __init__(self, seed: int | None, independent_sampler: BaseSampler | None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise UserError(f"seed must be a non-negative integer or None, got {seed!r}")
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
        """The parameters every completed trial set, with one distribution (Optuna's
        ``IntersectionSearchSpace``, updated incrementally), minus single-valued ones (they
        carry no choice, as in Optuna's samplers); empty for multi-objective studies."""
        if len(study.directions) > 1:
            return {}
        if getattr(self, "_search_space", None) is None:
            self._search_space = optuna.search_space.IntersectionSearchSpace(include_pruned=False)
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
        from hpo.space import SpaceEncoder

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


class SACHMRSampler(AgentSampler):
    """An Optuna sampler driven by a SAC-HMR agent (see the module docstring).

    Parameters
    ----------
    seed:
        Seeds the independent sampler and the agent.
    hmr:
        ``True``: ``hpo.SACHMR`` with the ``hmr_*`` options; ``False``: SB3's plain ``SAC``
        (the ablation; the ``hmr_*`` options are then ignored).
    n_startup_trials:
        Finished trials left to the independent sampler before the agent acts.
    train_every:
        Update the agent once per ``train_every`` newly finished trials (``gradient_steps``
        steps each time); larger values trade adaptation for speed.
    gradient_steps, batch_size, net_arch, gamma, learning_rate, ent_coef:
        SAC settings: updates per newly finished trial, minibatch size, hidden layers of
        actor and critics, discount, Adam step size, entropy coefficient (``"auto"`` tunes it).
    hmr_alpha, hmr_critic_levels, hmr_actor_levels, hmr_prob:
        HMR options, see ``hpo.SACHMR``.
    action_mode, step_scale, window, reward, failure_penalty, optimum:
        The MDP, see ``envs.HPOEnv``.
    horizon:
        Trials that count as the whole budget in the observation.
    independent_sampler:
        For start-up trials and parameters outside the relative search space.
    agent:
        A trained ``SAC``/``SACHMR`` to fine-tune instead of a fresh one; its spaces must
        match the study's search space and ``window``.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        hmr: bool = True,
        n_startup_trials: int = DEFAULT_N_STARTUP_TRIALS,
        gradient_steps: int = DEFAULT_GRADIENT_STEPS,
        train_every: int = 1,
        batch_size: int = DEFAULT_BATCH_SIZE,
        net_arch: Sequence[int] = DEFAULT_NET_ARCH,
        gamma: float = DEFAULT_GAMMA,
        learning_rate: float = 3e-4,
        ent_coef: str | float = "auto",
        hmr_alpha: float | None = None,
        hmr_critic_levels: Sequence[int] | None = None,
        hmr_actor_levels: Sequence[int] | None = None,
        hmr_prob: float = 1.0,
        action_mode: str | None = None,
        step_scale: float | None = None,
        window: int | None = None,
        reward: str = "improvement",
        failure_penalty: float | None = None,
        optimum: float | None = None,
        horizon: int = DEFAULT_HORIZON,
        independent_sampler: BaseSampler | None = None,
        agent: Any = None,
    ):
        from envs import hpo_env
        from hpo.agents import sac_hmr

        super().__init__(seed, independent_sampler)
        for name, value, minimum in (
            ("n_startup_trials", n_startup_trials, 1),
            ("gradient_steps", gradient_steps, 0),
            ("batch_size", batch_size, 1),
            ("train_every", train_every, 1),
            ("horizon", horizon, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
                raise UserError(f"{name} must be an integer >= {minimum}, got {value!r}")
        if isinstance(net_arch, (str, bytes)) or not isinstance(net_arch, Sequence) or not net_arch or any(
            isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1 for n in net_arch
        ):
            raise UserError(f"net_arch must be a non-empty list of positive layer widths, got {net_arch!r}")
        if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not 0 <= gamma < 1:
            raise UserError(f"gamma must be a number in [0, 1), got {gamma!r}")
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real) or not (
            math.isfinite(learning_rate) and learning_rate > 0
        ):
            raise UserError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
        self.hmr = bool(hmr)
        self.n_startup_trials = int(n_startup_trials)
        self.gradient_steps = int(gradient_steps)
        self.train_every = int(train_every)
        self.batch_size = int(batch_size)
        self.horizon = int(horizon)
        self._sac_kwargs = dict(
            gamma=float(gamma),
            learning_rate=float(learning_rate),
            ent_coef=ent_coef,
            policy_kwargs=dict(net_arch=[int(n) for n in net_arch]),
        )
        self._hmr_kwargs = dict(
            hmr_alpha=sac_hmr.DEFAULT_HMR_ALPHA if hmr_alpha is None else hmr_alpha,
            hmr_critic_levels=sac_hmr.DEFAULT_CRITIC_LEVELS if hmr_critic_levels is None else tuple(hmr_critic_levels),
            hmr_actor_levels=sac_hmr.DEFAULT_ACTOR_LEVELS if hmr_actor_levels is None else tuple(hmr_actor_levels),
            hmr_prob=hmr_prob,
        )
        self._mdp_kwargs = dict(
            reward=reward,
            action_mode=hpo_env.DEFAULT_ACTION_MODE if action_mode is None else action_mode,
            step_scale=hpo_env.DEFAULT_STEP_SCALE if step_scale is None else step_scale,
            window=hpo_env.DEFAULT_WINDOW if window is None else window,
            failure_penalty=hpo_env.DEFAULT_FAILURE_PENALTY if failure_penalty is None else failure_penalty,
            optimum=optimum,
        )
        # Validate the MDP options now, not at the first agent step.
        hpo_env.TuningHistory(1, horizon=self.horizon, **self._mdp_kwargs)
        if self.hmr:  # validate the HMR options now too (levels vs depth: at the first update)
            sac_hmr._check_levels("hmr_critic_levels", self._hmr_kwargs["hmr_critic_levels"])
            sac_hmr._check_levels("hmr_actor_levels", self._hmr_kwargs["hmr_actor_levels"])
        self._agent = agent
        self._agent_given = agent is not None
        self._agent_space_key: tuple | None = None
        self._trained_transitions = 0
        self._replayed: dict[str, Any] | None = None

    # ---- Optuna's sampler interface --------------------------------------------------
    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        encoder = self._relative_encoder(study, search_space)
        if encoder is None:
            return {}
        maximize = study.direction == StudyDirection.MAXIMIZE
        trials, points, values = finished_points(study, encoder)
        numbers = [t.number for t in trials]
        if len(points) < self.n_startup_trials:
            return {}
        with self._lock, self._private_global_rngs():
            agent = self._agent_for(search_space, maximize)
            history, transitions = self._replay(agent, encoder.dim, maximize, numbers, points, values)
            every = self.train_every
            due = min(transitions // every - self._trained_transitions // every, _MAX_TRIALS_TRAINED_PER_CALL)
            if due > 0 and self.gradient_steps > 0:
                agent.train(gradient_steps=self.gradient_steps * due, batch_size=self.batch_size)
            self._trained_transitions = transitions
            action, _ = agent.predict(history.observation(), deterministic=False)
            point = history.point_for(action)
        return encoder.decode(point)

    # ---- internals -----------------------------------------------------------------
    def _new_history(self, dim: int, maximize: bool):
        from envs.hpo_env import TuningHistory

        return TuningHistory(
            dim, horizon=self.horizon, direction="maximize" if maximize else "minimize", **self._mdp_kwargs
        )

    def _agent_for(self, search_space, maximize: bool):
        key = tuple((name, repr(dist)) for name, dist in search_space.items())
        if self._agent is not None and self._agent_space_key == key:
            return self._agent
        if self._agent_given and self._agent_space_key is not None:
            raise UserError(
                "the search space changed during the study; a given agent= only serves the space "
                "it was trained for"
            )
        from envs.hpo_env import HPOEnv

        # The agent needs an environment only for its spaces.
        env = HPOEnv(
            _never_called,
            search_space,
            n_trials=self.horizon,
            direction="maximize" if maximize else "minimize",
            **self._mdp_kwargs,
        )
        if self._agent_given:
            self._check_agent_spaces(self._agent, env)
        else:
            self._agent = self._build_agent(env)
        self._agent_space_key = key
        self._trained_transitions = 0
        return self._agent

    def _build_agent(self, env):
        from stable_baselines3 import SAC

        from hpo.agents import SACHMR

        algorithm, extra = (SACHMR, dict(self._hmr_kwargs)) if self.hmr else (SAC, {})
        agent = algorithm(
            "MlpPolicy",
            env,
            learning_starts=0,
            buffer_size=_BUFFER_SIZE,
            batch_size=self.batch_size,
            train_freq=1,
            gradient_steps=self.gradient_steps,
            device="cpu",
            seed=None,  # seeded through the private RNG states instead (see the module doc)
            **self._sac_kwargs,
            **extra,
        )
        agent.set_logger(silent_logger())
        return agent

    @staticmethod
    def _check_agent_spaces(agent, env) -> None:
        for name in ("observation_space", "action_space"):
            have, want = getattr(agent, name).shape, getattr(env, name).shape
            if have != want:
                raise UserError(
                    f"agent: its {name} has shape {have}, the study's search space needs {want} "
                    "(same number of parameters and window)"
                )
        # SB3 sets a logger only in learn(); train() needs one.
        agent.set_logger(silent_logger())

    def _replay(self, agent, dim, maximize, numbers, points, values):
        """The MDP state after the finished trials, with every transition in the agent's
        replay buffer. Finished trials never change, so when the trials replayed at the last
        call are still the first ones (the usual case) only the new ones are added; a trial
        that finished out of order (another worker) makes a full replay, as does a new
        direction or agent. Both give the same buffer."""
        cached = self._replayed
        if (
            cached is not None
            and cached["agent"] is agent
            and cached["maximize"] == maximize
            and numbers[: len(cached["numbers"])] == cached["numbers"]
        ):
            history, start = cached["history"], len(cached["numbers"])
        else:
            history, start = self._new_history(dim, maximize), 0
            agent.replay_buffer.reset()
        self._add_transitions(agent.replay_buffer, history, points[start:], values[start:])
        self._replayed = dict(agent=agent, maximize=maximize, numbers=list(numbers), history=history)
        return history, len(points)

    @staticmethod
    def _add_transitions(buffer, history, points, values) -> None:
        observation = history.observation()
        for point, value in zip(points, values):
            action = history.action_for(point)
            reward = history.record(point, value)
            next_observation = history.observation()
            buffer.add(
                observation[None],
                next_observation[None],
                action[None].astype(np.float32),
                np.array([reward], dtype=np.float32),
                np.array([False]),
                [{}],
            )
            observation = next_observation


def silent_logger():
    from stable_baselines3.common.logger import Logger

    return Logger(folder=None, output_formats=[])


def finished_points(
    study: Study, encoder, encoded: dict[int, np.ndarray] | None = None
) -> tuple[list[FrozenTrial], list[np.ndarray], list[float | None]]:
    """The finished trials that set every parameter of the space, in trial-number order,
    with their encoded configurations and values (``None``: failed or pruned).
    ``encoded``: a cache of encodings by trial number, filled as it goes (finished trials
    never change; give a fresh one when the space changes)."""
    kept, points, values = [], [], []
    trials = study.get_trials(deepcopy=False, states=_FINISHED)
    for trial in sorted(trials, key=lambda t: t.number):
        point = None if encoded is None else encoded.get(trial.number)
        if point is None:
            params = trial.params
            if any(name not in params for name in encoder.names):
                continue
            try:
                point = encoder.encode(params)
            except ValueError:  # a value outside the current (changed) range: not comparable
                continue
            if encoded is not None:
                encoded[trial.number] = point
        kept.append(trial)
        points.append(point)
        values.append(trial.value if trial.state == TrialState.COMPLETE else None)
    return kept, points, values
