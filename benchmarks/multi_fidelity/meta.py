"""Meta-training the scheduler on real learning curves, one dataset left out.

``TableCurves(tables)`` draws pools of curves from the learning-curve tables
(``benchmarks.multi_fidelity.curve_tables``) as ``envs.learning_curves.CurveDistribution``
draws synthetic ones: a table at random, then 20 to 64 of its configurations in random order.
``train_left_out(out, dataset)`` starts from the shipped SAC-HMR scheduler (pre-trained on
synthetic curves) and trains it ``STEPS`` more steps on the tables of every other dataset,
both models: the ``sac-hmr-lodo`` entry of the multi-fidelity suite then runs it on the
left-out dataset's tables, which it never saw. The agents are made once per benchmark
folder (``OUT/agents/DATASET/``) and reused by a rerun.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.multi_fidelity.curve_tables import load_curves
from envs.learning_curves import LearningCurve

STEPS = 20_000
AGENTS_DIR = "agents"


@functools.cache
def _curves(table: str) -> np.ndarray:
    model, _, dataset = table.partition("-")
    return load_curves(model, dataset)[1]


@dataclass(frozen=True)
class TableCurves:
    """Pools of real learning curves from ``tables`` (``MODEL-DATASET`` names)."""

    tables: tuple[str, ...]
    pool_size: tuple[int, int] = (20, 64)

    @property
    def epochs(self) -> int:
        return _curves(self.tables[0]).shape[1]

    def sample_task(self, rng: np.random.Generator, size: int | None = None) -> list[LearningCurve]:
        curves = _curves(self.tables[int(rng.integers(len(self.tables)))])
        high = min(self.pool_size[1], len(curves))
        size = int(rng.integers(min(self.pool_size[0], high), high + 1)) if size is None else int(size)
        return [
            LearningCurve(curves[i].copy(), "table", float(curves[i, -1])) for i in rng.permutation(len(curves))[:size]
        ]


def agent_path(out: str | Path, dataset: str) -> Path:
    return Path(out) / AGENTS_DIR / dataset / "agent.zip"


def train_left_out(out: str | Path, dataset: str, *, tables: tuple[str, ...], steps: int = STEPS) -> Path:
    """The shipped SAC-HMR scheduler trained ``steps`` more on ``tables`` without ``dataset``'s."""
    from hpo.agents.scheduler import WEIGHTS_DIR
    from hpo.agents.scheduler_training import train_scheduler

    path = agent_path(out, dataset)
    if path.exists():
        return path
    others = tuple(t for t in tables if t.partition("-")[2] != dataset)
    return train_scheduler(
        path.parent,
        steps=steps,
        seed=0,
        curves=TableCurves(others),
        init=WEIGHTS_DIR / "sac-hmr-scheduler.zip",
        eval_every=steps,
        validation_episodes=50,
        progress=lambda line: None,
    )
