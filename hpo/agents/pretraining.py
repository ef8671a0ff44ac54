"""``pretrain``: train a SAC-HMR tuning agent on the synthetic function distribution.

The agent meets a new synthetic function every episode (``envs.acquisition_env.AcquisitionEnv``:
GP-prior samples and training BBOB functions/instances in 1 to 20 dimensions, random
budgets) and learns to steer a Gaussian-process search (``hpo._gp.search``): its
observation and action do not depend on the number of parameters, so the result serves
any search space. Everything below is plain SB3 ``learn`` plus:

* **checkpoints** every ``checkpoint_every`` steps in ``OUT/checkpoint/``: the agent (SB3
  zip), its replay buffer as a NumPy ``.npz`` (no pickle) and ``state.json``; a rerun of the
  same command resumes from there (a resumed run is not bit-identical to an uninterrupted
  one: the RNG streams restart at the checkpoint);
* **validation** every ``eval_every`` steps on ``VALIDATION_FUNCTIONS`` functions drawn from the
  training distribution with a separate seed (never from the held-out benchmarks): the mean
  ``log10`` normalized regret (``envs.acquisition_env.log_regret``) of the best value after
  ``VALIDATION_TRIALS`` trials, for the agent (sampling its actions, as the sampler does),
  for uniformly random actions (the search the agent starts from, without learning) and
  for random search; the RNGs of training are left untouched;
* **outputs**: ``OUT/agent.zip`` (the final agent), ``OUT/curve.csv`` (step, episodes, mean
  episode return of the last 100 episodes, the validation scores, a hash of the actor's
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

import numpy as np

from hpo.errors import UserError
from hpo.interrupts import uninterrupted
from hpo.io import atomic_write, atomic_write_text
from hpo.validation import check_int, check_real

DEFAULT_STEPS = 30_000
DEFAULT_NET_ARCH = (64, 64)
DEFAULT_BATCH_SIZE = 128
# A short horizon: a proposal is judged mostly by its own trial's improvement and the next
# few, which the critic can learn from far fewer episodes than a 100-trial return. Of 0,
# 0.5 and 0.95 in pilot runs (docs/pretrained.md), 0.5 validated best, by a margin near
# the validation noise.
DEFAULT_GAMMA = 0.5
DEFAULT_LEARNING_STARTS = 1_000
DEFAULT_CHECKPOINT_EVERY = 2_500
# SAC's temperature is tuned towards this policy entropy (nats, over the 3 action entries;
# SB3's default is -3). With SB3's default a pilot run collapsed to nearly fixed actions
# (temperature 0.008), no better than the fixed middle action, while uniformly random
# settings beat both (docs/pretrained.md): a broad policy keeps a portfolio of settings
# and shifts its mass towards the better ones.
DEFAULT_TARGET_ENTROPY = 0.0
VALIDATION_FUNCTIONS = 24
VALIDATION_TRIALS = 40
_VALIDATION_SEED_OFFSET = 1_000_003
CURVE_COLUMNS = (
    "step",
    "episodes",
    "mean_return",
    "validation_agent",
    "validation_uniform",
    "validation_random",
    "seconds",
    "params_sha",
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
    target_entropy: float = DEFAULT_TARGET_ENTROPY,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    eval_every: int | None = None,
    validation_functions: int = VALIDATION_FUNCTIONS,
    progress: bool = True,
) -> PretrainResult:
    """Pre-train an agent into ``out`` (see the module docstring); resumes a run found there.

    ``hmr=False`` turns HMR's mixing off (the ablation: SB3's SAC update).
    ``eval_every`` defaults to ``checkpoint_every``; ``validation_functions`` is the number of
    validation functions (fewer validate faster and noisier).
    """
    import torch
    from stable_baselines3.common.monitor import Monitor

    from envs.acquisition_env import AcquisitionEnv
    from hpo.agents import SACHMR, load_agent
    from hpo.samplers._base import silent_logger

    for name, value, minimum in (
        ("steps", steps, 1),
        ("seed", seed, 0),
        ("batch_size", batch_size, 1),
        ("learning_starts", learning_starts, 0),
        ("checkpoint_every", checkpoint_every, 1),
        ("validation_functions", validation_functions, 1),
    ):
        check_int(name, value, minimum)
    check_real("gamma", gamma, 0, maximum=1, exclusive_maximum=True)
    check_real("target_entropy", target_entropy)
    eval_every = checkpoint_every if eval_every is None else eval_every
    out = Path(out)
    checkpoint = out / "checkpoint"
    try:
        checkpoint.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out {str(out)!r}: cannot create the folder ({err.strerror})") from None
    settings = dict(
        seed=seed,
        hmr=hmr,
        net_arch=list(net_arch),
        batch_size=batch_size,
        gamma=gamma,
        learning_rate=learning_rate,
        learning_starts=learning_starts,
        validation_functions=validation_functions,
        target_entropy=target_entropy,
    )
    torch.set_num_threads(1)  # the shipped weights were made with one thread; more change them

    env = Monitor(AcquisitionEnv())
    state = _read_state(checkpoint)
    if state is not None:
        if state["settings"] != settings:
            raise UserError(
                f"--out {str(out)!r} holds a run with other settings ({state['settings']}); "
                "use another folder or the same settings"
            )
        agent = load_agent(checkpoint / "agent.zip", env=env, device="cpu")
        _load_buffer(agent.replay_buffer, checkpoint / "buffer.npz")
        done, curve = int(state["step"]), state["curve"]
    else:
        # hmr_prob=0 is SB3's SAC update (tests/hpo/agents/test_sac_hmr.py): one class for both.
        agent = SACHMR(
            "MlpPolicy",
            env,
            policy_kwargs=dict(net_arch=[int(n) for n in net_arch]),
            buffer_size=max(steps, 1),
            batch_size=batch_size,
            gamma=gamma,
            learning_rate=learning_rate,
            learning_starts=learning_starts,
            seed=seed,
            device="cpu",
            hmr_prob=1.0 if hmr else 0.0,
            target_entropy=float(target_entropy),
        )
        done, curve = 0, []
    validation = make_validation_functions(seed, validation_functions)
    progress_keeper = _Progress(
        agent=agent,
        total=steps,
        start=done,
        curve=curve,
        out=out,
        checkpoint=checkpoint,
        settings=settings,
        checkpoint_every=checkpoint_every,
        eval_every=eval_every,
        validation=validation,
        progress=progress,
    )
    # Without a logger of its own, learn() makes an empty SB3-<time> folder in the temp dir.
    agent.set_logger(silent_logger())
    started = time.perf_counter()
    try:
        if steps > done:
            agent.learn(
                steps - done,
                callback=_as_sb3_callback(progress_keeper),
                reset_num_timesteps=(done == 0),
                log_interval=None,
            )
    finally:  # Ctrl-C too: the bar's monitor thread stops with the last bar
        progress_keeper.close()
    progress_keeper.record(final=True)
    agent_path = out / "agent.zip"
    atomic_write(agent_path, agent.save)
    curve_path = _write_curve(out, progress_keeper.curve)
    return PretrainResult(agent_path, curve_path, steps, time.perf_counter() - started, done)


# ---- validation -------------------------------------------------------------------------


def make_validation_functions(seed: int, count: int = VALIDATION_FUNCTIONS) -> list[tuple[object, float, float]]:
    """``count`` noise-free training-distribution functions with their ``lower`` and ``center``
    references (``envs.acquisition_env``), drawn with a seed of their own."""
    from envs.synthetic_functions import FunctionDistribution

    rng = np.random.default_rng(seed + _VALIDATION_SEED_OFFSET)
    functions = []
    for _ in range(count):
        function = FunctionDistribution().sample(rng)
        function.noise = 0.0
        center = float(np.median([function(x) for x in rng.uniform(-1, 1, size=(64, function.dim))]))
        functions.append((function, function.minimum(rng), center))
    return functions


def best_values(policy, function, budget: int, rng: np.random.Generator) -> list[float]:
    """The best value after each trial of a ``budget``-trial run on ``function``. ``policy``:
    an agent (its actions sampled), ``"uniform"`` (uniformly random actions) or ``None``
    (random search)."""
    from envs.acquisition_env import ACTION_SIZE, N_STARTUP, AcquisitionEpisode

    episode = AcquisitionEpisode(
        function.dim, budget, snap=function.discretize, categorical=function.categorical, trust_region=False
    )
    best = []
    for trial in range(budget):
        if policy is None or trial < N_STARTUP:
            point, action = function.discretize(rng.uniform(-1, 1, size=function.dim)), None
        else:
            observation = episode.observation()
            if isinstance(policy, str):
                action = rng.uniform(-1, 1, size=ACTION_SIZE)
            else:
                action = policy.predict(observation, deterministic=False)[0]
            point = episode.propose(action, rng)
        episode.record(point, function(point), action)
        best.append(episode.best_value)
    return best


def run_policy(policy, function, budget: int, rng: np.random.Generator, lower: float, center: float) -> float:
    """``log10`` normalized regret after a ``budget``-trial run on ``function`` (``best_values``)."""
    from envs.acquisition_env import log_regret

    return log_regret(best_values(policy, function, budget, rng=rng)[-1], lower, center)


def validation_scores(agent, functions, seed: int) -> dict[str, float]:
    """Mean ``log10`` regret over the validation functions: the agent, uniformly random
    actions and random search (lower is better)."""
    policies = {"agent": agent, "uniform": "uniform", "random": None}
    scores = {name: [] for name in policies}
    for index, (function, lower, center) in enumerate(functions):
        for name, policy in policies.items():
            rng = np.random.default_rng([seed, index])
            scores[name].append(run_policy(policy, function, VALIDATION_TRIALS, rng=rng, lower=lower, center=center))
    return {name: float(np.mean(values)) for name, values in scores.items()}


@contextmanager
def _untouched_global_rngs():
    import torch

    saved_torch, saved_numpy = torch.get_rng_state(), np.random.get_state()
    try:
        yield
    finally:
        torch.set_rng_state(saved_torch)
        np.random.set_state(saved_numpy)


def params_sha(agent) -> str:
    digest = hashlib.sha256()
    for tensor in agent.policy.actor.state_dict().values():
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


# ---- progress, checkpoints, curve --------------------------------------------------------


def _as_sb3_callback(progress: _Progress):
    from stable_baselines3.common.callbacks import BaseCallback  # SB3 only when training

    class Callback(BaseCallback):
        def _on_step(self) -> bool:
            return progress.on_step(self.locals)

    return Callback()


class _Progress:
    """Counts episodes, shows the bar, validates, checkpoints and keeps the curve."""

    def __init__(
        self,
        *,
        agent,
        total,
        start,
        curve,
        out,
        checkpoint,
        settings,
        checkpoint_every,
        eval_every,
        validation,
        progress,
    ):
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
            scores = validation_scores(self.agent, self.validation, self.settings["seed"])
        now = time.perf_counter()
        self.seconds += now - self._mark
        self._mark = now
        recent = self.returns[-100:]
        self.curve.append(
            {
                "step": self.step,
                "episodes": self.episodes,
                "mean_return": float(np.mean(recent)) if recent else float("nan"),
                "validation_agent": round(scores["agent"], 4),
                "validation_uniform": round(scores["uniform"], 4),
                "validation_random": round(scores["random"], 4),
                "seconds": round(self.seconds, 1),
                "params_sha": params_sha(self.agent),
            }
        )
        if self.bar is not None:
            self.bar.set_postfix(
                episodes=self.episodes,
                valid=f"{scores['agent']:.2f}/{scores['uniform']:.2f}/{scores['random']:.2f}",
            )

    def save_checkpoint(self) -> None:
        # The agent, its buffer and the step they belong to must match: Ctrl-C waits.
        with uninterrupted():
            atomic_write(self.checkpoint / "agent.zip", self.agent.save)
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
    atomic_write(path, lambda tmp: np.savez(tmp, pos=np.array(buffer.pos), full=np.array(buffer.full), **arrays))


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
    right.plot(steps, [row["validation_uniform"] for row in curve], label="uniform random actions", color="C0", ls=":")
    right.plot(steps, [row["validation_random"] for row in curve], label="random search", color="C7", ls="--")
    right.set_xlabel("environment step")
    right.set_ylabel(f"validation log10 regret ({VALIDATION_TRIALS} trials)")
    right.legend()
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110))
    plt.close(fig)
