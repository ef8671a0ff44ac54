"""Learning-curve tables of real training runs: what the multi-fidelity scheduler is
evaluated on, and meta-trained on with one dataset left out.

For each model of ``MODELS`` and each dataset of the transfer benchmark's ``hgb`` family
(``benchmarks.transfer.hgb_tables.DATASETS``: 5 shipped with scikit-learn, 10 generated),
``--configs`` configurations drawn from the model's space by a scrambled Sobol sequence
(seed 0) are trained epoch by epoch (``partial_fit``) on a fixed stratified 70 / 30 split of
the standardized features, and the validation error (1 - accuracy) after each epoch is
recorded. One table per model and dataset, ``data/MODEL/DATASET.csv.gz``: the configuration's
parameters, then ``e1`` ... ``eN``. Every fit is single-threaded with fixed random states, so
a table is the same on every build (same bytes: gzip without a timestamp).

``python -m benchmarks.multi_fidelity.curve_tables [--models sgd mlp] [--datasets ...]
[--configs 64] [--epochs 30]`` builds the missing tables (resumable: an existing table is
skipped) and records each one's size and build time in ``data/manifest.json``;
``load_curves(model, dataset)`` reads one.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpo.errors import UserError
from hpo.io import atomic_write, atomic_write_text

DATA_DIR = Path(__file__).parent / "data"
MANIFEST = "manifest.json"
DEFAULT_CONFIGS = 64
DEFAULT_EPOCHS = 30


@dataclass(frozen=True)
class Parameter:
    name: str
    low: float
    high: float
    log: bool = False
    integer: bool = False

    def value(self, u: float) -> float | int:
        """The parameter's value at ``u`` in ``[0, 1]``."""
        if self.log:
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        return int(min(round(value), self.high)) if self.integer else float(f"{value:.6g}")


def _sgd(params: dict[str, Any], n_train: int):
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(
        loss="log_loss",
        alpha=params["alpha"],
        learning_rate="invscaling",
        eta0=params["eta0"],
        power_t=params["power_t"],
        random_state=0,
    )


def _mlp(params: dict[str, Any], n_train: int):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(params["width"],) * params["depth"],
        alpha=params["alpha"],
        learning_rate_init=params["learning_rate_init"],
        batch_size=min(params["batch_size"], n_train),  # a batch is at most the training set
        random_state=0,
    )


@dataclass(frozen=True)
class Model:
    space: tuple[Parameter, ...]
    build: Callable[[dict[str, Any], int], Any]  # (parameters, training samples) -> estimator


MODELS: dict[str, Model] = {
    "sgd": Model(
        (
            Parameter("alpha", 1e-6, 1e-1, log=True),
            Parameter("eta0", 1e-4, 1.0, log=True),
            Parameter("power_t", 0.05, 0.9),
        ),
        _sgd,
    ),
    "mlp": Model(
        (
            Parameter("width", 8, 256, log=True, integer=True),
            Parameter("depth", 1, 3, integer=True),
            Parameter("alpha", 1e-6, 1e-1, log=True),
            Parameter("learning_rate_init", 1e-4, 1e-1, log=True),
            Parameter("batch_size", 16, 256, log=True, integer=True),
        ),
        _mlp,
    ),
}


def configurations(model: str, count: int) -> list[dict[str, Any]]:
    """``count`` configurations of ``model``'s space from a scrambled Sobol sequence (seed 0)."""
    from scipy.stats import qmc

    space = MODELS[model].space
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a count that is not a power of two unbalances Sobol a little
        points = qmc.Sobol(len(space), scramble=True, seed=0).random(count)
    return [{p.name: p.value(float(u)) for p, u in zip(space, row)} for row in points]


def curve(model: str, params: dict[str, Any], data, *, epochs: int) -> np.ndarray:
    """Validation error after each of ``epochs`` epochs of one configuration on ``data``
    (``X_train, y_train, X_valid, y_valid``)."""
    from sklearn.exceptions import ConvergenceWarning

    X_train, y_train, X_valid, y_valid = data
    estimator = MODELS[model].build(params, len(y_train))
    classes = np.unique(np.concatenate([y_train, y_valid]))
    errors = np.empty(epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow of a diverging configuration
        for epoch in range(epochs):
            estimator.partial_fit(X_train, y_train, classes=classes)
            errors[epoch] = 1.0 - float(np.mean(estimator.predict(X_valid) == y_valid))
    return errors


def split(name: str):
    """The standardized 70 / 30 stratified split of dataset ``name`` (the same on every call)."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from benchmarks.transfer.hgb_tables import dataset

    X, y = dataset(name)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_valid), y_valid


def table_path(model: str, name: str, directory: str | Path = DATA_DIR) -> Path:
    return Path(directory) / model / f"{name}.csv.gz"


def build_table(model: str, name: str, *, configs: int, epochs: int, directory: str | Path = DATA_DIR) -> dict:
    """Train ``configs`` configurations of ``model`` on dataset ``name`` and write the table;
    returns what the manifest records of it."""
    from hpo.threads import limit_threads

    limit_threads()
    data = split(name)
    started, cpu = time.perf_counter(), time.process_time()
    names = [p.name for p in MODELS[model].space]
    lines = [",".join([*names, *(f"e{k}" for k in range(1, epochs + 1))])]
    for params in configurations(model, configs):
        errors = curve(model, params, data, epochs=epochs)
        lines.append(",".join([*(repr(params[n]) for n in names), *(f"{e:.6g}" for e in errors)]))
    path = table_path(model, name, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + "\n"

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
            packed.write(text.encode())

    atomic_write(path, write)
    return {
        "configs": configs,
        "epochs": epochs,
        "train_samples": len(data[1]),
        "valid_samples": len(data[3]),
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
    }


def load_curves(model: str, name: str, directory: str | Path = DATA_DIR) -> tuple[list[dict[str, float]], np.ndarray]:
    """The configurations and their validation errors (configurations x epochs) of one table."""
    path = table_path(model, name, directory)
    if not path.exists():
        raise UserError(
            f"no learning-curve table {str(path)!r}; build it with python -m benchmarks.multi_fidelity.curve_tables"
        )
    with gzip.open(path, "rt") as lines:
        header, *rows = [line.rstrip("\n").split(",") for line in lines if line.strip()]
    n_params = len(MODELS[model].space)
    configs = [{name: float(value) for name, value in zip(header[:n_params], row[:n_params])} for row in rows]
    return configs, np.array([[float(v) for v in row[n_params:]] for row in rows])


def build_tables(
    models: Sequence[str],
    datasets: Sequence[str],
    *,
    configs: int = DEFAULT_CONFIGS,
    epochs: int = DEFAULT_EPOCHS,
    directory: str | Path = DATA_DIR,
    progress: Callable[[str], None] = print,
) -> int:
    """Build every missing table of ``models`` x ``datasets``; returns how many were built."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    built = 0
    for model in models:
        for name in datasets:
            if table_path(model, name, directory).exists():
                continue
            manifest[f"{model}/{name}"] = build_table(model, name, configs=configs, epochs=epochs, directory=directory)
            atomic_write_text(manifest_path, json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")
            built += 1
            progress(f"{model}/{name}: {manifest[f'{model}/{name}']['seconds']} s")
    return built


def main(argv: Sequence[str] | None = None) -> None:
    from benchmarks.transfer.hgb_tables import DATASETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=list(DATASETS))
    parser.add_argument("--configs", type=int, default=DEFAULT_CONFIGS, help="configurations per table")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="epochs per configuration")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder of the tables")
    args = parser.parse_args(argv)
    if args.configs < 2 or args.epochs < 2:
        parser.error("--configs and --epochs must be >= 2")
    built = build_tables(args.models, args.datasets, configs=args.configs, epochs=args.epochs, directory=args.out)
    print(f"built {built} tables in {args.out}")


if __name__ == "__main__":
    main()
