"""Meta-training the scheduler on real learning curves, one dataset left out.

``table_curves(tables)`` draws pools of curves from the learning-curve tables
(``benchmarks.multi_fidelity.curve_tables``; ``envs.learning_curves.CurvePools``) as
``CurveDistribution`` draws synthetic ones: a table at random, then 20 to 64 of its
configurations in random order.
``train_left_out(out, dataset)`` starts from the shipped SAC-HMR scheduler (pre-trained on
synthetic curves) and trains it ``TRANSFER_STEPS`` (20 000) more steps on the tables of every other dataset,
both models: the ``sac-hmr-lodo`` entry of the multi-fidelity suite then runs it on the
left-out dataset's tables, which it never saw. The agents are made once per benchmark
folder (``OUT/agents/DATASET/``) and reused by a rerun.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from benchmarks.multi_fidelity.curve_tables import load_curves
from envs.learning_curves import CurvePools
from hpo.agents.scheduler_training import TRANSFER_STEPS

AGENTS_DIR = "agents"


@functools.cache
def _curves(table: str) -> np.ndarray:
    model, _, dataset = table.partition("-")
    return load_curves(model, dataset)[1]


def table_curves(tables: tuple[str, ...]) -> CurvePools:
    """Pools of real learning curves, one per table of ``tables`` (``MODEL-DATASET`` names)."""
    return CurvePools(tuple(_curves(t) for t in tables), name=f"tables {', '.join(tables)}")


def agent_path(out: str | Path, dataset: str) -> Path:
    return Path(out) / AGENTS_DIR / dataset / "agent.zip"


def train_left_out(out: str | Path, dataset: str, *, tables: tuple[str, ...], steps: int = TRANSFER_STEPS) -> Path:
    """The shipped SAC-HMR scheduler trained ``steps`` more on ``tables`` without ``dataset``'s."""
    from hpo.agents.scheduler_training import meta_train

    path = agent_path(out, dataset)
    if path.exists():
        return path
    others = tuple(t for t in tables if t.partition("-")[2] != dataset)
    return meta_train(path.parent, table_curves(others), steps=steps, seed=0, validation_episodes=50)
