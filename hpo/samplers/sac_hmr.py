"""``SACHMRSampler``: the SAC-HMR agent as an Optuna sampler.

The study is the replay buffer. At every ``sample_relative`` the sampler replays the study's
finished trials, in trial-number order, through the MDP of ``envs.HPOEnv`` (the same
``TuningEpisode`` bookkeeping: normalization, observation, reward, failure penalty) and so
rebuilds every transition ``(observation, action, reward, next observation)``; the action of
a trial is recovered from its parameters (``TuningEpisode.action_for``). Nothing but the
trials is needed, so the sampler works with any storage and with several processes sharing
one study: each process keeps its own agent (networks and optimizer state), trains it on
the whole shared study, and acts on the current state. The whole study is one
continuing episode (no terminal state); the budget feature of the observation is
``n_finished / horizon``, clipped at 1.

* Before ``n_startup_trials`` finished trials, and for parameters outside the relative
  search space (Optuna's ``IntersectionSearchSpace`` of the completed trials), the
  independent sampler (``RandomSampler`` by default) decides.
* Per ``train_every`` newly finished trials the agent makes ``gradient_steps`` updates (at
  most ``10 * gradient_steps`` per call, so resuming a long study stays quick).
* FAIL trials, and PRUNED ones without a report, are penalized for the agent
  (``failure_penalty``, see ``envs.hpo_env``); a PRUNED trial counts at its last report.
  All stay visible in the study; RUNNING trials are ignored.
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

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial

from envs import hpo_env
from envs.hpo_env import HPOEnv, TuningEpisode
from hpo.agents import sac_hmr
from hpo.agents.sac_hmr import SACHMR
from hpo.errors import UserError
from hpo.samplers._base import DEFAULT_HORIZON, AgentSampler, Replay, finished_points, silent_logger
from hpo.validation import check_int, check_real

# Defaults chosen with the sac-ablation benchmark suite (docs/sac-hmr.md has the numbers).
DEFAULT_N_STARTUP_TRIALS = 10
DEFAULT_GRADIENT_STEPS = 5
DEFAULT_NET_ARCH = (64, 64)
DEFAULT_GAMMA = 0.9
DEFAULT_BATCH_SIZE = 64
_MAX_TRIALS_TRAINED_PER_CALL = 10
_BUFFER_SIZE = 10_000


def _never_called(params: dict[str, Any]) -> float:
    raise RuntimeError("the sampler's environment only describes spaces; Optuna evaluates trials")


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
        super().__init__(seed, independent_sampler)
        for name, value, minimum in (
            ("n_startup_trials", n_startup_trials, 0),
            ("gradient_steps", gradient_steps, 0),
            ("batch_size", batch_size, 1),
            ("train_every", train_every, 1),
            ("horizon", horizon, 1),
        ):
            check_int(name, value, minimum)
        if (
            isinstance(net_arch, (str, bytes))
            or not isinstance(net_arch, Sequence)
            or not net_arch
            or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1 for n in net_arch)
        ):
            raise UserError(f"net_arch must be a non-empty list of positive layer widths, got {net_arch!r}")
        check_real("gamma", gamma, 0, maximum=1, exclusive_maximum=True)
        check_real("learning_rate", learning_rate, 0, exclusive_minimum=True)
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
        hpo_env.TuningEpisode(1, horizon=self.horizon, **self._mdp_kwargs)
        if self.hmr:  # validate the HMR options now too (levels vs depth: at the first update)
            sac_hmr._check_levels("hmr_critic_levels", self._hmr_kwargs["hmr_critic_levels"])
            sac_hmr._check_levels("hmr_actor_levels", self._hmr_kwargs["hmr_actor_levels"])
        self._agent = agent
        self._agent_given = agent is not None
        self._agent_space_key: tuple | None = None
        self._trained_transitions = 0
        self._replayed = Replay()
        self._episode: TuningEpisode | None = None

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
            episode, transitions = self._replay(
                agent, encoder.dim, maximize, numbers=numbers, points=points, values=values
            )
            every = self.train_every
            due = min(transitions // every - self._trained_transitions // every, _MAX_TRIALS_TRAINED_PER_CALL)
            if due > 0 and self.gradient_steps > 0:
                agent.train(gradient_steps=self.gradient_steps * due, batch_size=self.batch_size)
            self._trained_transitions = transitions
            action, _ = agent.predict(episode.observation(), deterministic=False)
            point = episode.point_for(action)
        return encoder.decode(point)

    # ---- internals -----------------------------------------------------------------
    def _new_episode(self, dim: int, maximize: bool) -> TuningEpisode:
        return TuningEpisode(
            dim, horizon=self.horizon, direction="maximize" if maximize else "minimize", **self._mdp_kwargs
        )

    def _agent_for(self, search_space, maximize: bool):
        key = tuple((name, repr(dist)) for name, dist in search_space.items())
        if self._agent is not None and self._agent_space_key == key:
            return self._agent
        if self._agent_given and self._agent_space_key is not None:
            raise UserError(
                "the search space changed during the study; a given agent= only serves the space it was trained for"
            )
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
        replay buffer (only the trials not replayed yet are added, see ``Replay``)."""
        start = self._replayed.pending((agent, maximize), numbers)
        if start == 0:
            self._episode = self._new_episode(dim, maximize)
            agent.replay_buffer.reset()
        self._add_transitions(agent.replay_buffer, self._episode, points[start:], values=values[start:])
        self._replayed.done(numbers)
        return self._episode, len(points)

    @staticmethod
    def _add_transitions(buffer, episode, points, values) -> None:
        observation = episode.observation()
        for point, value in zip(points, values):
            action = episode.action_for(point)
            reward = episode.record(point, value)
            next_observation = episode.observation()
            buffer.add(
                observation[None],
                next_observation[None],
                action[None].astype(np.float32),
                np.array([reward], dtype=np.float32),
                np.array([False]),
                [{}],
            )
            observation = next_observation


def from_registry(
    seed: int | None,
    n_objectives: int,
    n_trials: int | None,
    *,
    hmr: bool,
    n_startup_trials: int = DEFAULT_N_STARTUP_TRIALS,
) -> SACHMRSampler:
    """The registry's ``sac`` and ``sac-hmr`` (``hpo.optimizers``)."""
    return SACHMRSampler(seed=seed, hmr=hmr, horizon=n_trials or DEFAULT_HORIZON, n_startup_trials=n_startup_trials)
