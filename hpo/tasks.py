"""Tasks: tuning problems, and the built-in ones.

A ``Task`` bundles a search space, the direction(s) and an objective, with what is known of
it: the best attainable value (``optimum``) or, for several objectives, a hypervolume
reference point and the known front's hypervolume, and the held-out test score of a
configuration, so that a tuned result can be checked on data the optimizer never saw. Its
objective is either a function of the parameters (``function``) or a scikit-learn model's
cross-validated score on a training split (``make_data``, ``make_model``).

The built-in tasks (``TASKS``) are real scikit-learn models on datasets that ship with it and
one instant synthetic function: ``hpo tasks`` lists them and ``hpo tune TASK`` tunes one. The
benchmark problems (``benchmarks.problems``) are tasks too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

from hpo.errors import UserError

_CV_FOLDS = 3
_SPLIT_SEED = 0


@dataclass(frozen=True, eq=False)
class Task:
    """A tuning problem (see the module docstring).

    Parameters
    ----------
    name, description:
        How ``hpo tasks`` and the benchmark report show it.
    space:
        Maps parameter names to Optuna distributions.
    directions:
        ``("minimize",)``, ``("maximize",)``, or one per objective.
    metric:
        What the objective measures (``"accuracy"``, ``"R^2"``; ``"value"`` for a function).
    function:
        The objective, a function of the parameters (a float, or one per direction).
    held_out:
        The held-out score of a configuration, for a task whose objective is a ``function``.
    make_data, make_model, classification:
        A scikit-learn model task: the data ``(X, y)``, the model of a configuration, and
        whether the split and the folds are stratified on the labels (a continuous target
        cannot be).
    optimum:
        One objective: the best attainable value, in the task's direction.
    reference_point, optimal_hypervolume:
        Several objectives: the hypervolume reference point (minimization form) and the
        known front's hypervolume with respect to it.
    instance:
        Which instance of a function family (BBOB) the task is.
    """

    name: str
    description: str
    space: Mapping[str, BaseDistribution]
    directions: tuple[str, ...] = ("minimize",)
    metric: str = "value"
    function: Callable[[dict[str, Any]], float | Sequence[float]] | None = field(default=None, repr=False)
    held_out: Callable[[dict[str, Any]], float] | None = field(default=None, repr=False)
    make_data: Callable[[], tuple[np.ndarray, np.ndarray]] | None = field(default=None, repr=False)
    make_model: Callable[[dict[str, Any]], Any] | None = field(default=None, repr=False)
    classification: bool = True
    optimum: float | None = None
    reference_point: tuple[float, ...] | None = None
    optimal_hypervolume: float | None = None
    instance: int | None = None

    @property
    def direction(self) -> str:
        """The direction of a single-objective task."""
        if len(self.directions) != 1:
            raise ValueError(f"task {self.name!r} has {len(self.directions)} objectives")
        return self.directions[0]

    @property
    def n_objectives(self) -> int:
        return len(self.directions)

    @cached_property
    def _split(self):
        from sklearn.model_selection import train_test_split

        X, y = self.make_data()
        stratify = y if self.classification else None
        return train_test_split(X, y, test_size=0.25, random_state=_SPLIT_SEED, stratify=stratify)

    def objective(self, params: dict[str, Any], trial=None) -> float | Sequence[float]:
        """The value to optimize: ``function(params)``, or the k-fold cross-validated score of
        the model on the training split. With a ``trial`` (``hpo.tune`` passes its reporter)
        and a pruner, an iterative model (boosting) trains in 10 steps and reports the mean
        CV score after each."""
        if self.function is not None:
            return self.function(params)
        from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

        X_train, _, y_train, _ = self._split
        kind = StratifiedKFold if self.classification else KFold
        folds = kind(n_splits=_CV_FOLDS, shuffle=True, random_state=_SPLIT_SEED)
        if trial is not None:
            from hpo.sklearn import stepwise_cv_score

            return stepwise_cv_score(self.make_model(params), X_train, y_train, cv=folds, trial=trial)
        return float(np.mean(cross_val_score(self.make_model(params), X_train, y_train, cv=folds)))

    def test_score(self, params: dict[str, Any]) -> float | None:
        """The held-out score of a configuration: ``held_out(params)``, or the model's score on
        the test split after fitting on the training split; ``None`` where there is none."""
        if self.held_out is not None:
            return float(self.held_out(params))
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
            directions=("maximize",),
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
            directions=("maximize",),
            metric="accuracy",
            make_data=_breast_cancer,
            make_model=_hist_gradient_boosting,
        ),
        Task(
            name="sphere-4d",
            description="synthetic sum((x_i - 0.3)^2) on [-1, 1]^4 (instant; for trying optimizers)",
            space={f"x{i}": FloatDistribution(-1.0, 1.0) for i in range(4)},
            metric="value",
            function=_sphere,
            optimum=0.0,
        ),
    ]
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise UserError(f"task {name!r} is unknown; allowed: {', '.join(TASKS)}") from None
