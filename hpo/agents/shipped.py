"""The agents that ship with the package, in ``hpo/agents/weights/``, made by ``hpo pretrain``
(``hpo.agents.pretraining``), with their training curves:

* ``sac-hmr-pretrained.zip``: SAC-HMR, ``hpo pretrain --out DIR --seed 0``;
* ``sac-pretrained.zip``: the same with ``--no-hmr`` (the HMR ablation: ``hmr_prob=0``,
  which is SB3's SAC update).

The multi-fidelity schedulers' weights lie beside them (``sac-hmr-scheduler.zip``,
``sac-scheduler.zip``; ``hpo.agents.scheduler.load_scheduler``).

Loading never unpickles (``hpo.agents.persistence.load_agent``).
"""

from __future__ import annotations

from pathlib import Path

from envs.acquisition_env import AcquisitionEnv
from hpo.agents.persistence import load_agent
from hpo.agents.pretraining import DEFAULT_GAMMA, DEFAULT_NET_ARCH, DEFAULT_TARGET_ENTROPY
from hpo.agents.sac_hmr import SACHMR
from hpo.errors import UserError

WEIGHTS_DIR = Path(__file__).parent / "weights"
AGENTS = {
    "sac-hmr-pretrained": "SAC-HMR pre-trained on synthetic tasks (hpo pretrain --seed 0)",
    "sac-pretrained": "plain SAC pre-trained the same way (hpo pretrain --seed 0 --no-hmr)",
}
BUFFER_SIZE = 10_000  # a study's transitions only; the saved agent asks for its training size


def weights_path(name: str) -> Path:
    if name not in AGENTS:
        raise UserError(f"pre-trained agent {name!r} is unknown; allowed: {', '.join(AGENTS)}")
    return WEIGHTS_DIR / f"{name}.zip"


def load_pretrained(name: str = "sac-hmr-pretrained") -> SACHMR:
    """A fresh copy of a shipped agent (``SACHMR``), on the CPU."""
    path = weights_path(name)
    if not path.is_file():
        raise UserError(f"the weights of {name!r} are missing from the installation ({path})")
    return load_agent(path, device="cpu", buffer_size=BUFFER_SIZE)


def fresh_agent(seed: int | None = None, *, hmr: bool = True) -> SACHMR:
    """An untrained agent with the shipped agents' settings (the from-scratch ablation)."""
    return SACHMR(
        "MlpPolicy",
        AcquisitionEnv(),
        policy_kwargs=dict(net_arch=list(DEFAULT_NET_ARCH)),
        gamma=DEFAULT_GAMMA,
        buffer_size=BUFFER_SIZE,
        learning_starts=0,
        device="cpu",
        seed=seed,
        hmr_prob=1.0 if hmr else 0.0,
        target_entropy=DEFAULT_TARGET_ENTROPY,
    )
