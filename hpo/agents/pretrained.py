"""The shipped pre-trained agents and the samplers built on them.

``hpo/agents/weights/`` holds two agents made by ``hpo pretrain`` (``hpo.agents.pretrain``)
and their training curves:

* ``sac-hmr-pretrained.zip``: SAC-HMR, ``hpo pretrain --out DIR --seed 0``;
* ``sac-pretrained.zip``: the same with ``--no-hmr`` (the HMR ablation: ``hmr_prob=0``,
  which is SB3's SAC update).

Both use the padded layout of ``envs.padded`` with ``MAX_DIM`` slots, so they serve any
search space of 1 to ``MAX_DIM`` parameters of any type. ``pretrained_sampler`` wraps one
in ``hpo.SACHMRSampler``, which keeps training it on the user's study
(``FINE_TUNE_STEPS`` gradient step of a ``FINE_TUNE_BATCH``-sample minibatch per
``FINE_TUNE_EVERY`` finished trials, which keeps its overhead near TPE's; ``fine_tune=False``
freezes it). Loading never unpickles (``hpo.load_agent``).
"""

from __future__ import annotations

from pathlib import Path

from hpo.errors import UserError

WEIGHTS_DIR = Path(__file__).parent / "weights"
AGENTS = {
    "sac-hmr-pretrained": "SAC-HMR pre-trained on synthetic tasks (hpo pretrain --seed 0)",
    "sac-pretrained": "plain SAC pre-trained the same way (hpo pretrain --seed 0 --no-hmr)",
}
MAX_DIM = 20
FINE_TUNE_STEPS = 1
FINE_TUNE_BATCH = 32
FINE_TUNE_EVERY = 2
N_STARTUP_TRIALS = 1  # one random trial, as in pre-training (envs.pretrain_env)
_BUFFER_SIZE = 10_000  # the study's trials only; the saved agent asks for its training size


def weights_path(name: str) -> Path:
    if name not in AGENTS:
        raise UserError(f"pre-trained agent {name!r} is unknown; allowed: {', '.join(AGENTS)}")
    return WEIGHTS_DIR / f"{name}.zip"


def load_pretrained(name: str = "sac-hmr-pretrained"):
    """A fresh copy of a shipped agent (``SACHMR`` or ``SAC``), on the CPU."""
    from hpo.agents.persistence import load_agent

    path = weights_path(name)
    if not path.is_file():
        raise UserError(f"the weights of {name!r} are missing from the installation ({path})")
    return load_agent(path, device="cpu", buffer_size=_BUFFER_SIZE)


def pretrained_sampler(
    name: str | None = "sac-hmr-pretrained",
    *,
    seed: int | None = None,
    horizon: int | None = None,
    fine_tune: bool = True,
):
    """``hpo.SACHMRSampler`` driven by shipped agent ``name`` (``None``: the same sampler
    with fresh weights, the from-scratch ablation)."""
    from hpo.agents.pretrain import DEFAULT_GAMMA, DEFAULT_NET_ARCH, DEFAULT_REWARD, DEFAULT_STEP_SCALE
    from hpo.sampler import DEFAULT_HORIZON, SACHMRSampler

    agent = None if name is None else load_pretrained(name)
    return SACHMRSampler(
        seed=seed,
        hmr=True,  # for fresh weights; a shipped agent keeps its own hmr_prob (0: no mixing)
        agent=agent,
        max_dim=MAX_DIM,
        n_startup_trials=N_STARTUP_TRIALS,
        gradient_steps=FINE_TUNE_STEPS if fine_tune else 0,
        train_every=FINE_TUNE_EVERY,
        batch_size=FINE_TUNE_BATCH,
        net_arch=DEFAULT_NET_ARCH,
        gamma=DEFAULT_GAMMA,
        step_scale=DEFAULT_STEP_SCALE,
        reward=DEFAULT_REWARD,  # in the online unit here: the study's scale is unknown
        horizon=horizon or DEFAULT_HORIZON,
    )
