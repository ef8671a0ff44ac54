"""Surrogate regressors for the electrode objectives, compared by k-fold cross-validation.

Four scikit-learn families compete per objective (a Gaussian process, kernel ridge, gradient
boosting, an MLP); the one with the best mean cross-validated R^2 is refit on all the data.
Nothing is pickled: the surrogate is refit from the CSV on demand, and the only cache is a
JSON record of the comparison (model names, scores) and of the Gaussian process's fitted
kernel hyperparameters, with a fingerprint of the data it was computed on, so a stale cache
is detected and ignored. With cached hyperparameters the refit is one Cholesky solve
(well under a second) instead of a ~15 s marginal-likelihood optimization per objective.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hpo.errors import UserError
from hpo.io import atomic_write_text
from surrogates.dataset import SHIPPED_DATASET, ok_rows
from surrogates.manufacturing import PROCESS_BOUNDS, PROCESS_NAMES
from surrogates.p2d import OBJECTIVE_COLUMNS


def selection_cache_path(dataset_path: str | os.PathLike) -> Path:
    """Where the selection of a dataset is cached: beside it, ``<name>.selection.json``."""
    path = Path(dataset_path)
    return path.with_name(path.stem + ".selection.json")


SHIPPED_SELECTION = selection_cache_path(SHIPPED_DATASET)
CANDIDATES = ("gaussian_process", "kernel_ridge", "gradient_boosting", "mlp")


def make_regressor(name: str, seed: int = 0, kernel_theta: list[float] | None = None):
    """An unfitted regressor on unit-cube-scaled process parameters with a scaled target.

    ``kernel_theta`` (Gaussian process only): log-hyperparameters from an earlier fit on the
    same data; the kernel is then fixed instead of optimized.
    """
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    if name == "gaussian_process":
        # Anisotropic Matern 5/2: each process parameter gets its own length scale.
        # The simulator is deterministic up to solver tolerance, hence the tiny noise floor.
        kernel = ConstantKernel(1.0, (1e-3, 1e5)) * Matern(
            length_scale=[0.3] * len(PROCESS_NAMES), length_scale_bounds=(1e-2, 1e2), nu=2.5
        ) + WhiteKernel(1e-4, (1e-12, 1e-1))
        if kernel_theta is None:
            model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed)
        else:
            model = GaussianProcessRegressor(
                kernel.clone_with_theta(np.asarray(kernel_theta, float)),
                normalize_y=True,
                optimizer=None,
                random_state=seed,
            )
    elif name == "kernel_ridge":
        # Inner grid search: kernel ridge has no evidence maximization to set its scales.
        model = GridSearchCV(
            KernelRidge(kernel="rbf"),
            {"alpha": [1e-4, 1e-3, 1e-2], "gamma": [0.5, 2.0, 8.0]},
            cv=KFold(3, shuffle=True, random_state=seed),
        )
    elif name == "gradient_boosting":
        model = HistGradientBoostingRegressor(max_iter=600, learning_rate=0.05, max_leaf_nodes=15, random_state=seed)
    elif name == "mlp":
        model = MLPRegressor(
            hidden_layer_sizes=(64, 64),
            activation="tanh",
            alpha=1e-5,
            learning_rate_init=3e-3,
            max_iter=3000,
            tol=1e-7,
            n_iter_no_change=50,
            random_state=seed,
        )
    else:
        raise UserError(f"unknown surrogate {name!r}; choose from {', '.join(CANDIDATES)}")
    scaled = make_pipeline(MinMaxScaler(), model)
    return TransformedTargetRegressor(regressor=scaled, transformer=StandardScaler())


@contextlib.contextmanager
def _quiet_convergence():
    """Silence optimizer ConvergenceWarnings (GP marginal likelihood, MLP epochs): the
    cross-validated score, not the optimizer's exit status, judges a model here."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def training_data(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Process parameters X (n, 4) and objectives Y (n, 2) of the successful designs."""
    good = ok_rows(frame)
    return good[list(PROCESS_NAMES)].to_numpy(float), good[list(OBJECTIVE_COLUMNS)].to_numpy(float)


def fingerprint(frame: pd.DataFrame) -> str:
    """Hash of the training data, so a cached selection is only reused on the same data."""
    x, y = training_data(frame)
    return hashlib.sha256(np.round(np.hstack([x, y]), 10).tobytes()).hexdigest()[:16]


@dataclass
class SurrogateSelection:
    """Cross-validation scores per (model, objective) and the best model per objective."""

    scores: list[dict]  # rows: model, objective, r2_mean, r2_std, rmse_mean, fit_seconds
    folds: int
    seed: int
    data_fingerprint: str
    best: dict[str, str] = field(default_factory=dict)
    # Fitted GP log-hyperparameters per objective (refit on all data), the safe "cache".
    kernel_thetas: dict[str, list[float]] = field(default_factory=dict)
    # The selected model's measured error per objective (``measured_error``): what inverse
    # design adds to a floor so that the simulated design still meets it.
    error_q95: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.best:
            table = self.table()
            for objective in OBJECTIVE_COLUMNS:
                rows = table[table["objective"] == objective]
                self.best[objective] = str(rows.loc[rows["r2_mean"].idxmax(), "model"])

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.scores)

    def score(self, objective: str, model: str) -> float:
        table = self.table()
        hit = table[(table["objective"] == objective) & (table["model"] == model)]
        return float(hit["r2_mean"].iloc[0])

    def save(self, path: str | os.PathLike) -> None:
        payload = {
            "scores": self.scores,
            "folds": self.folds,
            "seed": self.seed,
            "data_fingerprint": self.data_fingerprint,
            "best": self.best,
            "kernel_thetas": self.kernel_thetas,
            "error_q95": self.error_q95,
        }
        atomic_write_text(path, json.dumps(payload, indent=2) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> SurrogateSelection:
        payload = json.loads(Path(path).read_text())
        return cls(**payload)


def select_surrogates(
    frame: pd.DataFrame,
    folds: int = 5,
    seed: int = 0,
    candidates: tuple[str, ...] = CANDIDATES,
    progress: bool = False,
) -> SurrogateSelection:
    """k-fold CV of every candidate on every objective (same folds for all)."""
    from sklearn.model_selection import KFold, cross_val_predict, cross_validate
    from tqdm import tqdm

    x, y = training_data(frame)
    if len(x) < 2 * folds:
        raise UserError(f"{len(x)} successful designs are too few for {folds}-fold cross-validation")
    split = KFold(folds, shuffle=True, random_state=seed)
    scores = []
    pairs = [(i, objective, name) for i, objective in enumerate(OBJECTIVE_COLUMNS) for name in candidates]
    for objective_index, objective, name in tqdm(pairs, desc="cross-validation", disable=not progress):
        with _quiet_convergence():
            result = cross_validate(
                make_regressor(name, seed),
                x,
                y[:, objective_index],
                cv=split,
                scoring=("r2", "neg_root_mean_squared_error"),
            )
        scores.append(
            {
                "model": name,
                "objective": objective,
                "r2_mean": float(np.mean(result["test_r2"])),
                "r2_std": float(np.std(result["test_r2"])),
                "rmse_mean": float(-np.mean(result["test_neg_root_mean_squared_error"])),
                "fit_seconds": float(np.mean(result["fit_time"])),
            }
        )
    selection = SurrogateSelection(scores, folds, seed, fingerprint(frame))
    for index, objective in enumerate(OBJECTIVE_COLUMNS):
        with _quiet_convergence():
            predicted = cross_val_predict(make_regressor(selection.best[objective], seed), x, y[:, index], cv=split)
        selection.error_q95[objective] = measured_error(y[:, index], predicted)
    # Refit the winners on all data once, and keep the GP hyperparameters for fast refits.
    selection.kernel_thetas = Surrogate(frame, selection.best, seed).kernel_thetas()
    return selection


def measured_error(true: np.ndarray, predicted: np.ndarray) -> float:
    """95th percentile of the relative out-of-fold error over the designs whose value is at
    least the median: the upper half, where floors are set (the collapsed designs' large
    relative errors on small values would inflate it elsewhere)."""
    upper = true >= np.median(true)
    return float(np.quantile(np.abs(predicted[upper] - true[upper]) / np.abs(true[upper]), 0.95))


def find_cached_selection(frame: pd.DataFrame, cache: str | os.PathLike | None = None) -> SurrogateSelection | None:
    """The cached selection (``cache``, then the shipped one) made on this very data, if any."""
    candidates = [Path(cache)] if cache is not None else []
    for path in candidates + [SHIPPED_SELECTION]:
        if path.exists():
            selection = SurrogateSelection.load(path)
            if selection.data_fingerprint == fingerprint(frame):
                return selection
    return None


def cached_or_new_selection(
    frame: pd.DataFrame, seed: int = 0, cache: str | os.PathLike | None = None
) -> SurrogateSelection:
    """The cached selection when it was computed on this very data, else a fresh CV
    (minutes for ~1000 designs: run ``hpo electrode fit`` once to write the cache)."""
    return find_cached_selection(frame, cache) or select_surrogates(frame, seed=seed)


class Surrogate:
    """The selected regressor per objective, refit on all successful designs."""

    def __init__(
        self,
        frame: pd.DataFrame,
        models: dict[str, str],
        seed: int = 0,
        kernel_thetas: dict[str, list[float]] | None = None,
        error_q95: dict[str, float] | None = None,
    ) -> None:
        x, y = training_data(frame)
        self.models = dict(models)
        self.error_q95 = dict(error_q95 or {})  # measured relative error per objective, when known
        self._regressors = []
        thetas = kernel_thetas or {}
        for index, objective in enumerate(OBJECTIVE_COLUMNS):
            regressor = make_regressor(models[objective], seed, thetas.get(objective))
            with _quiet_convergence():
                regressor.fit(x, y[:, index])
            self._regressors.append(regressor)
        self.objective_min = y.min(axis=0)
        self.objective_max = y.max(axis=0)

    @classmethod
    def from_dataset(cls, frame: pd.DataFrame, seed: int = 0, cache: str | os.PathLike | None = None) -> Surrogate:
        selection = cached_or_new_selection(frame, seed, cache)
        return cls(frame, selection.best, seed, kernel_thetas=selection.kernel_thetas, error_q95=selection.error_q95)

    def kernel_thetas(self) -> dict[str, list[float]]:
        """Fitted GP log-hyperparameters per objective (only for objectives using a GP)."""
        thetas = {}
        for objective, regressor in zip(OBJECTIVE_COLUMNS, self._regressors):
            if self.models[objective] == "gaussian_process":
                thetas[objective] = [float(v) for v in regressor.regressor_[-1].kernel_.theta]
        return thetas

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Objectives (n, 2) in Wh/kg for process parameters ``x`` (n, 4)."""
        x = np.atleast_2d(np.asarray(x, float))
        low = np.array([PROCESS_BOUNDS[n][0] for n in PROCESS_NAMES])
        high = np.array([PROCESS_BOUNDS[n][1] for n in PROCESS_NAMES])
        if np.any(x < low - 1e-9) or np.any(x > high + 1e-9):
            raise UserError("surrogate asked outside the process bounds it was trained on")
        return np.column_stack([regressor.predict(x) for regressor in self._regressors])
