"""``train_scheduler``: pre-train the multi-fidelity scheduler (a SAC-HMR agent) on
synthetic learning curves.

Each episode is a tuning run of ``envs.multi_fidelity_env.MultiFidelityEnv`` over a fresh
pool of synthetic curves (``TRAINING_CURVES``: 50 epochs, pools of 20 to 64 configurations)
with a budget of 3 to 20 full trainings. Everything is plain SB3 ``learn`` plus:

* **validation** every ``eval_every`` steps on ``validation_episodes`` episodes drawn with a
  separate seed: the mean final normalized regret of the agent's deterministic decisions,
  beside the hand-set extrapolation rule (``hpo.agents.scheduler.continue_by_prediction``)
  and training every trial to the end (both computed once);
* **checkpoints** at each validation in ``OUT/checkpoint/`` (the agent, its replay buffer as
  NumPy ``.npz``, ``state.json``); a rerun of the same command resumes from there;
* **outputs**: ``OUT/agent.zip`` and ``OUT/curve.csv`` (step, episodes, mean return of the
  last 100 episodes, the validation regrets, seconds).

Same seed and steps with one torch thread: the same weights. The shipped schedulers
(``hpo/agents/weights/sac-hmr-scheduler.zip`` and ``sac-scheduler.zip``) were made by
``python -m hpo.agents.scheduler_training --out DIR --seed 0 [--no-hmr]``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from envs.learning_curves import CurveDistribution
from envs.multi_fidelity_env import ACTIONS, MultiFidelityEnv
from hpo.agents.pretraining import _load_buffer, _save_buffer
from hpo.agents.scheduler import AgentPolicy, continue_by_prediction
from hpo.errors import UserError
from hpo.io import atomic_write, atomic_write_text
from hpo.validation import check_int, check_real

TRAINING_CURVES = CurveDistribution(epochs=50, pool_size=(20, 64))
TRAINING_BUDGETS = (3.0, 20.0)  # full trainings per episode
DEFAULT_STEPS = 60_000
DEFAULT_GAMMA = 0.98  # a stop pays off only when a later trial completes: a long horizon
DEFAULT_NET_ARCH = (64, 64)
DEFAULT_EVAL_EVERY = 10_000
# The action is a margin on the extrapolation rule (envs.multi_fidelity_env.decide): the
# agent starts from a family of sensible rules instead of learning the test itself.
DEFAULT_ACTIONS = "threshold"
VALIDATION_EPISODES = 200
_VALIDATION_SEED_OFFSET = 1_000_003
CURVE_COLUMNS = ("step", "episodes", "mean_return", "agent", "extrapolation", "no_pruning", "seconds")


def make_env(actions: str = DEFAULT_ACTIONS, curves=None) -> MultiFidelityEnv:
    """The training environment, over ``curves`` (default ``TRAINING_CURVES``): any object with
    ``epochs`` and ``sample_task(rng)``, as ``envs.learning_curves.CurveDistribution``."""
    return MultiFidelityEnv(curves or TRAINING_CURVES, budget_trainings=TRAINING_BUDGETS, actions=actions)


def mean_regret(policy: Callable[[np.ndarray], bool], *, seed: int, episodes: int, curves=None) -> float:
    """The mean final normalized regret of ``policy`` (observation -> continue?) over
    ``episodes`` episodes of ``curves`` (default: the synthetic training distribution)
    seeded from ``seed``."""
    env, regrets = make_env("decision", curves), []
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed + episode)
        done = False
        while not done:
            observation, _, done, _, info = env.step(np.array([1.0 if policy(observation) else -1.0]))
        regrets.append(info["regret"])
    return float(np.mean(regrets))


def train_scheduler(
    out: str | Path,
    *,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    hmr: bool = True,
    gamma: float = DEFAULT_GAMMA,
    actions: str = DEFAULT_ACTIONS,
    curves=None,
    init: str | Path | None = None,
    eval_every: int = DEFAULT_EVAL_EVERY,
    validation_episodes: int = VALIDATION_EPISODES,
    progress: Callable[[str], None] = print,
) -> Path:
    """Train a scheduler into ``out`` (see the module docstring); returns ``OUT/agent.zip``.

    ``curves``: the pools of learning curves to train and validate on (default
    ``TRAINING_CURVES``; an object with ``epochs`` and ``sample_task(rng)``, whose ``repr``
    names it in the settings a rerun must match). ``init``: a saved agent to start from
    (meta-training a pre-trained scheduler on other curves) instead of a fresh one."""
    import torch
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.monitor import Monitor

    from hpo.agents.persistence import load_agent
    from hpo.agents.sac_hmr import SACHMR
    from hpo.samplers._base import silent_logger

    for name, value, minimum in (("steps", steps, 1), ("seed", seed, 0), ("eval_every", eval_every, 1)):
        check_int(name, value, minimum)
    check_int("validation_episodes", validation_episodes, 1)
    check_real("gamma", gamma, 0.0, maximum=1.0, exclusive_minimum=True)
    if actions not in ACTIONS:
        raise UserError(f"actions {actions!r} is unknown; allowed: {', '.join(ACTIONS)}")
    out, settings = (
        Path(out),
        dict(
            seed=seed,
            hmr=hmr,
            gamma=gamma,
            actions=actions,
            net_arch=list(DEFAULT_NET_ARCH),
            curves=repr(curves or TRAINING_CURVES),
            init=None if init is None else str(init),
        ),
    )
    checkpoint = out / "checkpoint"
    checkpoint.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    env = Monitor(make_env(actions, curves))
    state_path = checkpoint / "state.json"
    if state_path.exists():
        state = json.loads(state_path.read_text())
        if state["settings"] != settings:
            raise UserError(f"--out {str(out)!r} holds a run with other settings ({state['settings']})")
        agent = load_agent(checkpoint / "agent.zip", env=env, device="cpu")
        _load_buffer(agent.replay_buffer, checkpoint / "buffer.npz")
        done, curve = int(state["step"]), state["curve"]
    elif init is not None:
        agent = load_agent(init, env=env, device="cpu", buffer_size=max(steps, 1))
        agent.set_random_seed(seed)
        agent.hmr_prob = 1.0 if hmr else 0.0
        done, curve = 0, []
    else:
        agent = SACHMR(
            "MlpPolicy",
            env,
            policy_kwargs=dict(net_arch=list(DEFAULT_NET_ARCH)),
            buffer_size=max(steps, 1),
            gamma=gamma,
            learning_starts=1_000,
            seed=seed,
            device="cpu",
            hmr_prob=1.0 if hmr else 0.0,
        )
        done, curve = 0, []
    agent.set_logger(silent_logger())
    validation_seed = seed + _VALIDATION_SEED_OFFSET
    references = {
        name: mean_regret(policy, seed=validation_seed, episodes=validation_episodes, curves=curves)
        for name, policy in (("extrapolation", continue_by_prediction), ("no_pruning", lambda o: True))
    }
    started = time.perf_counter()

    def record(step: int) -> None:
        returns = [info["r"] for info in agent.ep_info_buffer] if agent.ep_info_buffer else [float("nan")]
        regret = mean_regret(
            AgentPolicy(agent, actions), seed=validation_seed, episodes=validation_episodes, curves=curves
        )
        curve.append(
            dict(
                step=step,
                episodes=len(env.get_episode_rewards()),
                mean_return=round(float(np.mean(returns)), 4),
                agent=round(regret, 4),
                **{k: round(v, 4) for k, v in references.items()},
                seconds=round(time.perf_counter() - started, 1),
            )
        )
        progress(", ".join(f"{k} {v}" for k, v in curve[-1].items()))
        atomic_write(checkpoint / "agent.zip", agent.save)
        _save_buffer(agent.replay_buffer, checkpoint / "buffer.npz")
        atomic_write_text(state_path, json.dumps(dict(settings=settings, step=step, curve=curve)))

    class Validate(BaseCallback):
        def _on_step(self) -> bool:
            step = done + self.n_calls
            if step % eval_every == 0 or step == steps:
                record(step)
            return True

    if steps > done:
        agent.learn(steps - done, callback=Validate(), reset_num_timesteps=(done == 0), log_interval=None)
    agent_path = out / "agent.zip"
    atomic_write(agent_path, agent.save)
    lines = [",".join(CURVE_COLUMNS), *(",".join(str(row[c]) for c in CURVE_COLUMNS) for row in curve)]
    atomic_write_text(out / "curve.csv", "\n".join(lines) + "\n")
    return agent_path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the agent, curve and checkpoints")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="environment steps (decisions)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the curves, the agent and its noise")
    parser.add_argument("--no-hmr", action="store_true", help="train SB3's plain SAC (the HMR ablation)")
    parser.add_argument("--gamma", type=float, default=DEFAULT_GAMMA, help="SAC's discount")
    parser.add_argument("--actions", choices=ACTIONS, default=DEFAULT_ACTIONS, help="how an action is read")
    parser.add_argument("--eval-every", type=int, default=DEFAULT_EVAL_EVERY, help="steps between validations")
    parser.add_argument("--validation-episodes", type=int, default=VALIDATION_EPISODES, help="episodes per validation")
    args = parser.parse_args(argv)
    try:
        path = train_scheduler(
            args.out,
            steps=args.steps,
            seed=args.seed,
            hmr=not args.no_hmr,
            gamma=args.gamma,
            actions=args.actions,
            eval_every=args.eval_every,
            validation_episodes=args.validation_episodes,
        )
    except UserError as err:  # a bad value: one line naming it, before any training
        parser.error(str(err))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()


TRANSFER_STEPS = 20_000  # as the multi-fidelity benchmark's sac-hmr-lodo entry


def meta_trained(sources, *, seed: int | None = 0, steps: int = TRANSFER_STEPS, **options):
    """``pruner="sac-hmr"`` with ``transfer_from=``: the shipped SAC-HMR scheduler trained
    ``steps`` more on the learning curves of the source studies (``hpo.transfer.Source.curves``:
    their complete trials' intermediate values, one pool per source), then frozen; about
    ``steps / 200`` seconds. Sources without intermediate values (data frames, studies that
    reported none) leave the shipped scheduler as it is. ``options``: ``SchedulerPruner``'s."""
    import logging
    import tempfile

    from envs.learning_curves import CurvePools
    from hpo.agents.persistence import load_agent
    from hpo.agents.scheduler import SchedulerPruner, from_registry

    groups = [source.curves for source in sources if source.curves]
    try:
        curves = CurvePools.from_curves(groups, name=f"sources {', '.join(s.name for s in sources)}")
    except ValueError as err:
        logging.getLogger("hpo").warning("pruner 'sac-hmr': the shipped scheduler as it is (%s)", err)
        return from_registry("sac-hmr-scheduler", **options)
    with tempfile.TemporaryDirectory() as folder:
        path = meta_train(folder, curves, steps=steps, seed=0 if seed is None else int(seed))
        agent = load_agent(path, device="cpu", buffer_size=1)
    return SchedulerPruner(AgentPolicy(agent), **options)


def meta_train(out, curves, *, steps: int = TRANSFER_STEPS, seed: int = 0, validation_episodes: int = 20) -> Path:
    """The shipped SAC-HMR scheduler trained ``steps`` more on ``curves`` (pools of recorded
    learning curves, ``envs.learning_curves.CurvePools``) into ``out``; returns its agent's path.
    What ``pruner="sac-hmr"`` does with ``transfer_from=`` and what the multi-fidelity
    benchmark's ``sac-hmr-lodo`` entry does with the other datasets' tables."""
    from hpo.agents.scheduler import scheduler_path

    return train_scheduler(
        out,
        steps=steps,
        seed=seed,
        curves=curves,
        init=scheduler_path("sac-hmr-scheduler"),
        eval_every=steps,
        validation_episodes=validation_episodes,
        progress=lambda line: None,
    )
