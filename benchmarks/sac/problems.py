"""The benchmark problems: four synthetic functions (2-10 dimensions, known optima) and two
cheap scikit-learn tuning tasks on datasets that ship with scikit-learn.

The scikit-learn tasks are chosen cheap (about 0.1 s per 3-fold evaluation) so that the
full grid (4 optimizers x 6 problems x 10 seeds x 100 trials) runs in about an hour on one
core; the built-in ``svc-digits`` task costs about 0.6 s per evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution


@dataclass(frozen=True)
class Problem:
    name: str
    space: dict[str, BaseDistribution]
    direction: str
    objective: Callable[[dict[str, Any]], float]
    optimum: float | None = None


def _branin(p):
    x1, x2 = p["x1"], p["x2"]
    b, c, r, s, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def _hartmann6(p):
    x = np.array([p[f"x{i}"] for i in range(6)])
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def _rosenbrock(p):
    x = np.array([p[f"x{i}"] for i in range(len(p))])
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def _ackley(p):
    x = np.array([p[f"x{i}"] for i in range(len(p))])
    d = x.size
    return float(
        -20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d)) - np.exp(np.sum(np.cos(2 * np.pi * x)) / d) + 20 + math.e
    )


@lru_cache(maxsize=None)
def _data(name: str):
    from sklearn import datasets

    loader = {"breast_cancer": datasets.load_breast_cancer, "digits": datasets.load_digits}[name]
    return loader(return_X_y=True)


def _cv_accuracy(model, dataset: str) -> float:
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X, y = _data(dataset)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    return float(np.mean(cross_val_score(model, X, y, cv=folds)))


def _svc_breast_cancer(p):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return _cv_accuracy(make_pipeline(StandardScaler(), SVC(C=p["C"], gamma=p["gamma"])), "breast_cancer")


def _tree_digits(p):
    from sklearn.tree import DecisionTreeClassifier

    return _cv_accuracy(DecisionTreeClassifier(random_state=0, **p), "digits")


PROBLEMS: dict[str, Problem] = {
    problem.name: problem
    for problem in [
        Problem(
            "branin-2d",
            {"x1": FloatDistribution(-5.0, 10.0), "x2": FloatDistribution(0.0, 15.0)},
            "minimize",
            _branin,
            optimum=0.397887,
        ),
        Problem("rosenbrock-4d", {f"x{i}": FloatDistribution(-5.0, 10.0) for i in range(4)}, "minimize", _rosenbrock, 0.0),
        Problem("hartmann-6d", {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(6)}, "minimize", _hartmann6, -3.32237),
        Problem("ackley-10d", {f"x{i}": FloatDistribution(-32.768, 32.768) for i in range(10)}, "minimize", _ackley, 0.0),
        Problem(
            "svc-breast-cancer",
            {"C": FloatDistribution(1e-2, 1e3, log=True), "gamma": FloatDistribution(1e-5, 1.0, log=True)},
            "maximize",
            _svc_breast_cancer,
        ),
        Problem(
            "tree-digits",
            {
                "max_depth": IntDistribution(1, 30),
                "min_samples_split": IntDistribution(2, 40),
                "min_samples_leaf": IntDistribution(1, 30, log=True),
                "max_features": FloatDistribution(0.1, 1.0),
                "criterion": CategoricalDistribution(["gini", "entropy"]),
            },
            "maximize",
            _tree_digits,
        ),
    ]
}
