"""``pretrain``: train a SAC-HMR tuning agent on the synthetic task distribution.

The agent meets a new synthetic problem every episode (``envs.pretrain_env.PretrainEnv``:
GP-prior samples and training BBOB functions/instances in 1 to 20 dimensions, random
budgets) in the padded layout of ``envs.padded``, so the result serves any search space
of up to ``max_dim`` parameters. Everything below is plain SB3 ``learn`` plus:

* **checkpoints** every ``checkpoint_every`` steps in ``OUT/checkpoint/``: the agent (SB3
  zip), its replay buffer as a NumPy ``.npz`` (no pickle) and ``state.json``; a rerun of the
  same command resumes from there (a resumed run is not bit-identical to an uninterrupted
  one: the RNG streams restart at the checkpoint);
* **validation** every ``eval_every`` steps on ``VALIDATION_TASKS`` tasks drawn from the
  training distribution with a separate seed (never from the held-out benchmarks): the
  *quantile* of the best value found in 50 trials among 2048 uniform random points of the
  task (0 = better than all of them; random search's expected quantile is about 0.02),
  for the agent and for random search; the RNGs of training are left untouched;
* **outputs**: ``OUT/agent.zip`` (the final agent), ``OUT/curve.csv`` (step, episodes, mean
  episode return of the last 100 episodes, validation quantiles, a hash of the actor's
  weights) and ``OUT/curve.png``.

Same seed, same ``steps`` (one torch thread): the same weights, which the ``params_sha``
column lets anyone check against the shipped run (docs/pretrained.md).
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpo.errors import UserError
from hpo.io import atomic_write_text

DEFAULT_STEPS = 60_000
DEFAULT_NET_ARCH = (128, 128)
DEFAULT_BATCH_SIZE = 128
DEFAULT_GAMMA = 0.9
DEFAULT_LEARNING_STARTS = 2_000
DEFAULT_CHECKPOINT_EVERY = 5_000
# Steps may reach anywhere in the box from the incumbent (room up to the bound, see
# envs.hpo_env): the agent picks global or local steps itself. With the online agent's 0.25,
# trial runs scored 0.06-0.07 on validation after 10-15k steps, against 0.014-0.02 with 1.0.
DEFAULT_STEP_SCALE = 1.0
# Initial entropy coefficient (tuned automatically from there): SB3's 1.0 keeps the policy
# near-uniform for tens of thousands of steps at this reward scale.
DEFAULT_ENT_COEF = "auto_0.1"
# The rise of the best value, in the task's fixed unit (envs.pretrain_env). The dense
# alternative "score" (every trial's own value) made a trial run worse than its own random
# start: episode return 23 before learning, 8-12 after 10k steps (docs/pretrained.md).
DEFAULT_REWARD = "improvement"
VALIDATION_TASKS = 16
VALIDATION_TRIALS = 50
_REFERENCE_POINTS = 2048
_VALIDATION_SEED_OFFSET = 1_000_003
CURVE_COLUMNS = (
    "step", "episodes", "mean_return", "validation_agent", "validation_random", "seconds", "params_sha",
)


@dataclass
class PretrainResult:
    agent_path: Path
    curve_path: Path
    steps: int
    seconds: float
    resumed_from: int


def pretrain(
    out: str | Path,
    *,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    hmr: bool = True,
    net_arch: Sequence[int] = DEFAULT_NET_ARCH,
    batch_size: int = DEFAULT_BATCH_SIZE,
    gamma: float = DEFAULT_GAMMA,
    learning_rate: float = 3e-4,
    learning_starts: int = DEFAULT_LEARNING_STARTS,
    step_scale: float = DEFAULT_STEP_SCALE,
    reward: str = DEFAULT_REWARD,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    eval_every: int | None = None,
    max_dim: int = 20,
    progress: bool = True,
) -> PretrainResult:
    """Pre-train an agent into ``out`` (see the module docstring); resumes a run found there.

    ``hmr=False`` turns HMR's mixing off (the ablation: SB3's SAC update, with the same
    masked entropy for the padded layout). ``eval_every`` defaults to
    ``checkpoint_every``.
    """
    import torch
    from stable_baselines3.common.monitor import Monitor

    from envs.pretrain_env import PretrainEnv
    from envs.task_distribution import TaskDistribution
    from hpo.agents import SACHMR, load_agent
    from hpo.agents.slot_buffer import SlotShuffledReplayBuffer

    for name, value, minimum in (
        ("steps", steps, 1), ("seed", seed, 0), ("batch_size", batch_size, 1),
        ("learning_starts", learning_starts, 0), ("checkpoint_every", checkpoint_every, 1),
        ("max_dim", max_dim, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise UserError(f"{name} must be an integer >= {minimum}, got {value!r}")
    eval_every = checkpoint_every if eval_every is None else eval_every
    out = Path(out)
    checkpoint = out / "checkpoint"
    try:
        checkpoint.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out {str(out)!r}: cannot create the folder ({err.strerror})") from None
    settings = dict(
        seed=seed, hmr=hmr, net_arch=list(net_arch), batch_size=batch_size, gamma=gamma,
        learning_rate=learning_rate, learning_starts=learning_starts, max_dim=max_dim,
        step_scale=step_scale, reward=reward,
    )
    torch.set_num_threads(1)  # the shipped weights were made with one thread; more change them

    env = Monitor(PretrainEnv(TaskDistribution(max_dim=max_dim), max_dim=max_dim, step_scale=step_scale, reward=reward))
    buffer_options = dict(
        replay_buffer_class=SlotShuffledReplayBuffer,
        replay_buffer_kwargs=dict(max_dim=max_dim, window=env.unwrapped.history_window),
    )
    state = _read_state(checkpoint)
    if state is not None:
        if state["settings"] != settings:
            raise UserError(
                f"--out {str(out)!r} holds a run with other settings ({state['settings']}); "
                "use another folder or the same settings"
            )
        agent = load_agent(checkpoint / "agent.zip", env=env, device="cpu", **buffer_options)
        _load_buffer(agent.replay_buffer, checkpoint / "buffer.npz")
        done, curve = int(state["step"]), state["curve"]
    else:
        # Both are SACHMR, for the masked entropy of the padded layout; hmr=False turns the
        # mixing off, which is SB3's SAC update otherwise (tests/test_sac_hmr.py).
        extra = dict(entropy_mask_slots=max_dim, hmr_prob=1.0 if hmr else 0.0)
        agent = SACHMR(
            "MlpPolicy", env, policy_kwargs=dict(net_arch=[int(n) for n in net_arch]),
            buffer_size=max(steps, 1), batch_size=batch_size, gamma=gamma,
            learning_rate=learning_rate, learning_starts=learning_starts, seed=seed,
            ent_coef=DEFAULT_ENT_COEF, device="cpu", **buffer_options, **extra,
        )
        done, curve = 0, []
    validation = _validation_tasks(seed, max_dim, step_scale)
    progress_keeper = _Progress(
        agent=agent, total=steps, start=done, curve=curve, out=out, checkpoint=checkpoint,
        settings=settings, checkpoint_every=checkpoint_every, eval_every=eval_every,
        validation=validation, progress=progress,
    )
    started = time.perf_counter()
    if steps > done:
        agent.learn(
            steps - done, callback=_as_sb3_callback(progress_keeper), reset_num_timesteps=(done == 0),
            log_interval=None,
        )
    progress_keeper.close()
    progress_keeper.record(final=True)
    agent_path = out / "agent.zip"
    save_plain(agent, agent_path)
    curve_path = _write_curve(out, progress_keeper.curve)
    return PretrainResult(agent_path, curve_path, steps, time.perf_counter() - started, done)


# ---- validation -------------------------------------------------------------------------

def _validation_tasks(seed: int, max_dim: int, step_scale: float) -> list[tuple[Any, np.ndarray, float]]:
    from envs.task_distribution import TaskDistribution

    rng = np.random.default_rng(seed + _VALIDATION_SEED_OFFSET)
    distribution = TaskDistribution(max_dim=max_dim)
    tasks = []
    for _ in range(VALIDATION_TASKS):
        task = distribution.sample(rng)
        task.noise = 0.0
        reference = np.sort([task(x) for x in rng.uniform(-1, 1, size=(_REFERENCE_POINTS, task.dim))])
        tasks.append((task, reference, step_scale))
    return tasks


def run_policy(agent, task, budget: int, rng: np.random.Generator, max_dim: int, step_scale: float) -> float:
    """Best value of ``task`` in a ``budget``-trial run of ``agent`` (``None``: random search),
    with one random first trial, as in pre-training."""
    from envs.hpo_env import TuningHistory
    from envs.padded import PaddedHistory

    history = PaddedHistory(TuningHistory(task.dim, horizon=budget, step_scale=step_scale), max_dim)
    for trial in range(budget):
        if agent is None or trial == 0:
            point = rng.uniform(-1, 1, size=task.dim)
        else:
            action, _ = agent.predict(history.observation(), deterministic=False)
            point = history.point_for(action)
        history.record(point, task(point))
    return float(history.best_value)


def validation_scores(agent, tasks, seed: int, max_dim: int) -> tuple[float, float]:
    """Mean quantile of the best value among each task's reference points, agent and random."""
    scores = {"agent": [], "random": []}
    for index, (task, reference, step_scale) in enumerate(tasks):
        for name, policy in (("agent", agent), ("random", None)):
            rng = np.random.default_rng([seed, index])
            best = run_policy(policy, task, VALIDATION_TRIALS, rng, max_dim, step_scale)
            scores[name].append(np.searchsorted(reference, best) / len(reference))
    return float(np.mean(scores["agent"])), float(np.mean(scores["random"]))


@contextmanager
def _untouched_global_rngs():
    import torch

    saved_torch, saved_numpy = torch.get_rng_state(), np.random.get_state()
    try:
        yield
    finally:
        torch.set_rng_state(saved_torch)
        np.random.set_state(saved_numpy)


def save_plain(agent, path: Path) -> None:
    """Save with SB3's plain ``ReplayBuffer`` recorded as the buffer class, so that
    ``hpo.load_agent`` (which rebuilds only SB3's own classes) loads the file; the
    augmentation is a training detail, given back on resume."""
    from stable_baselines3.common.buffers import ReplayBuffer

    saved = agent.replay_buffer_class, agent.replay_buffer_kwargs
    agent.replay_buffer_class, agent.replay_buffer_kwargs = ReplayBuffer, {}
    try:
        agent.save(path)
    finally:
        agent.replay_buffer_class, agent.replay_buffer_kwargs = saved


def params_sha(agent) -> str:
    digest = hashlib.sha256()
    for tensor in agent.policy.actor.state_dict().values():
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


# ---- progress, checkpoints, curve --------------------------------------------------------

def _as_sb3_callback(progress: "_Progress"):
    from stable_baselines3.common.callbacks import BaseCallback  # SB3 only when training

    class Callback(BaseCallback):
        def _on_step(self) -> bool:
            return progress.on_step(self.locals)

    return Callback()


class _Progress:
    """Counts episodes, shows the bar, validates, checkpoints and keeps the curve."""

    def __init__(self, *, agent, total, start, curve, out, checkpoint, settings, checkpoint_every,
                 eval_every, validation, progress):
        self.agent, self.total, self.start = agent, total, start
        self.curve = list(curve)
        self.out, self.checkpoint, self.settings = out, checkpoint, settings
        self.checkpoint_every, self.eval_every = checkpoint_every, eval_every
        self.validation = validation
        self.episodes = int(curve[-1]["episodes"]) if curve else 0
        self.returns: list[float] = []
        self.seconds = float(curve[-1]["seconds"]) if curve else 0.0
        self._mark = time.perf_counter()
        self.bar = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=start, desc="pretrain", unit="step", smoothing=0.05)

    @property
    def step(self) -> int:
        return int(self.agent.num_timesteps)

    def on_step(self, sb3_locals) -> bool:
        for info in sb3_locals.get("infos", []):
            if "episode" in info:
                self.episodes += 1
                self.returns.append(float(info["episode"]["r"]))
        if self.bar is not None:
            self.bar.update(1)
        if self.step % self.eval_every == 0:
            self.record()
        if self.step % self.checkpoint_every == 0:
            self.save_checkpoint()
        # Stop before SB3's update of the last step: the final agent is then exactly the
        # checkpoint of any longer run at this step, so a run of N steps reproduces it.
        return self.step < self.total

    def record(self, final: bool = False) -> None:
        if final and self.curve and self.curve[-1]["step"] == self.step:
            return
        with _untouched_global_rngs():
            agent_score, random_score = validation_scores(
                self.agent, self.validation, self.settings["seed"], self.settings["max_dim"]
            )
        now = time.perf_counter()
        self.seconds += now - self._mark
        self._mark = now
        recent = self.returns[-100:]
        self.curve.append({
            "step": self.step,
            "episodes": self.episodes,
            "mean_return": float(np.mean(recent)) if recent else float("nan"),
            "validation_agent": agent_score,
            "validation_random": random_score,
            "seconds": round(self.seconds, 1),
            "params_sha": params_sha(self.agent),
        })
        if self.bar is not None:
            self.bar.set_postfix(episodes=self.episodes, valid=f"{agent_score:.3f}/{random_score:.3f}")

    def save_checkpoint(self) -> None:
        tmp = self.checkpoint / "agent.zip.tmp.zip"
        save_plain(self.agent, tmp)
        tmp.replace(self.checkpoint / "agent.zip")
        _save_buffer(self.agent.replay_buffer, self.checkpoint / "buffer.npz")
        state = {"step": self.step, "settings": self.settings, "curve": self.curve}
        atomic_write_text(self.checkpoint / "state.json", json.dumps(state) + "\n")
        _write_curve(self.out, self.curve)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _read_state(checkpoint: Path) -> dict | None:
    path = checkpoint / "state.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise UserError(f"{path}: unreadable checkpoint state ({err}); delete the folder to start over") from None


_BUFFER_FIELDS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def _save_buffer(buffer, path: Path) -> None:
    size = buffer.buffer_size if buffer.full else buffer.pos
    arrays = {name: getattr(buffer, name)[:size] for name in _BUFFER_FIELDS}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, pos=np.array(buffer.pos), full=np.array(buffer.full), **arrays)
    tmp.replace(path)


def _load_buffer(buffer, path: Path) -> None:
    with np.load(path, allow_pickle=False) as data:
        size = len(data["observations"])
        for name in _BUFFER_FIELDS:
            getattr(buffer, name)[:size] = data[name]
        buffer.pos, buffer.full = int(data["pos"]), bool(data["full"])


def _write_curve(out: Path, curve: list[dict]) -> Path:
    lines = [",".join(CURVE_COLUMNS)]
    for row in curve:
        lines.append(",".join(str(row[name]) for name in CURVE_COLUMNS))
    path = out / "curve.csv"
    atomic_write_text(path, "\n".join(lines) + "\n")
    _plot_curve(out / "curve.png", curve)
    return path


def read_curve(path: str | Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _plot_curve(path: Path, curve: list[dict]) -> None:
    if not curve:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [row["step"] for row in curve]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    left.plot(steps, [row["mean_return"] for row in curve], color="C0")
    left.set_xlabel("environment step")
    left.set_ylabel("mean episode return (last 100)")
    right.plot(steps, [row["validation_agent"] for row in curve], label="agent", color="C3")
    right.plot(steps, [row["validation_random"] for row in curve], label="random search", color="C7", ls="--")
    right.set_xlabel("environment step")
    right.set_ylabel(f"validation quantile of best ({VALIDATION_TRIALS} trials)")
    right.set_yscale("log")
    right.legend()
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
