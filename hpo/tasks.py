"""Built-in example tuning tasks: real scikit-learn models on datasets that ship with it.

A ``Task`` bundles a search space, a direction and an objective (cross-validated score on
a training split), plus the held-out test score of a configuration, so that a tuned
result can be checked on data the optimizer never saw. ``hpo tasks`` lists them and
``hpo tune TASK`` tunes one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

from hpo.errors import UserError

_CV_FOLDS = 3
_SPLIT_SEED = 0


@dataclass
class Task:
    name: str
    description: str
    space: dict[str, BaseDistribution]
    direction: str
    metric: str
    make_data: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None
    make_model: Callable[[dict[str, Any]], Any] | None = None
    function: Callable[[dict[str, Any]], float] | None = field(default=None, repr=False)

    @cached_property
    def _split(self):
        from sklearn.model_selection import train_test_split

        X, y = self.make_data()
        return train_test_split(X, y, test_size=0.25, random_state=_SPLIT_SEED, stratify=y)

    def objective(self, params: dict[str, Any], trial=None) -> float:
        """The value to optimize: k-fold cross-validated score on the training split. With a
        ``trial`` (``hpo.tune`` passes its reporter) and a pruner, an iterative model
        (boosting) trains in 10 steps and reports the mean CV score after each."""
        if self.function is not None:
            return float(self.function(params))
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        X_train, _, y_train, _ = self._split
        folds = StratifiedKFold(n_splits=_CV_FOLDS, shuffle=True, random_state=_SPLIT_SEED)
        if trial is not None:
            from hpo.sklearn import stepwise_cv_score

            return stepwise_cv_score(self.make_model(params), X_train, y_train, folds, trial)
        scores = cross_val_score(self.make_model(params), X_train, y_train, cv=folds)
        return float(np.mean(scores))

    def test_score(self, params: dict[str, Any]) -> float | None:
        """Score on the held-out test split after fitting on the training split."""
        if self.make_model is None:
            return None
        X_train, X_test, y_train, y_test = self._split
        return float(self.make_model(params).fit(X_train, y_train).score(X_test, y_test))


def _svc(params):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return make_pipeline(StandardScaler(), SVC(C=params["C"], gamma=params["gamma"]))


def _hist_gradient_boosting(params):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=_SPLIT_SEED, **params)


def _digits():
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True)


def _sphere(params: dict[str, Any]) -> float:
    return float(sum((value - 0.3) ** 2 for value in params.values()))


TASKS: dict[str, Task] = {
    task.name: task
    for task in [
        Task(
            name="svc-digits",
            description="RBF SVC on scikit-learn's digits (1797 x 64, 10 classes), 3-fold CV accuracy",
            space={
                "C": FloatDistribution(1e-2, 1e3, log=True),
                "gamma": FloatDistribution(1e-5, 1e-1, log=True),
            },
            direction="maximize",
            metric="accuracy",
            make_data=_digits,
            make_model=_svc,
        ),
        Task(
            name="hgb-breast-cancer",
            description=("HistGradientBoosting on scikit-learn's breast_cancer (569 x 30, binary), 3-fold CV accuracy"),
            space={
                "learning_rate": FloatDistribution(1e-3, 1.0, log=True),
                "max_iter": IntDistribution(20, 300, step=10),
                "max_leaf_nodes": IntDistribution(4, 64, log=True),
                "min_samples_leaf": IntDistribution(2, 100, log=True),
                "l2_regularization": FloatDistribution(1e-6, 10.0, log=True),
            },
            direction="maximize",
            metric="accuracy",
            make_data=_breast_cancer,
            make_model=_hist_gradient_boosting,
        ),
        Task(
            name="sphere-4d",
            description="synthetic sum((x_i - 0.3)^2) on [-1, 1]^4 (instant; for trying optimizers)",
            space={f"x{i}": FloatDistribution(-1.0, 1.0) for i in range(4)},
            direction="minimize",
            metric="value",
            function=_sphere,
        ),
    ]
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise UserError(f"task {name!r} is unknown; allowed: {', '.join(TASKS)}") from None
