"""Real tuning tasks for the benchmarks: scikit-learn models on bundled datasets and a small
torch MLP.

Two classification tasks come from ``hpo.tasks`` (``svc-digits``, ``hgb-breast-cancer``);
this module adds a random forest on wine, kernel ridge on diabetes (regression) and an MLP
on digits. Every task holds out 25% of the data as a test split; the optimizer sees only
the cross-validated (or, for the MLP, validation) score on the rest, and the benchmark
reports the test score of each run's incumbent. Every objective is a deterministic
function of its parameters (fixed splits and model seeds), so two runs that propose the
same configuration see the same value.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpo.digits_mlp import build_mlp
from hpo.tasks import TASKS, Task

_SPLIT_SEED = 0
_CV_FOLDS = 3


def _wine():
    from sklearn.datasets import load_wine

    return load_wine(return_X_y=True)


def _diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True)


def _digits():
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def _random_forest(params):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(random_state=_SPLIT_SEED, n_jobs=1, **params)


def _kernel_ridge(params):
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), KernelRidge(**params))


class RegressionTask(Task):
    """A ``hpo.tasks.Task`` for regression: unstratified split and plain k-fold CV of R^2
    (the classification task stratifies on the labels, which a continuous target lacks)."""

    @cached_property
    def _split(self):
        from sklearn.model_selection import train_test_split

        X, y = self.make_data()
        return train_test_split(X, y, test_size=0.25, random_state=_SPLIT_SEED)

    def objective(self, params: dict[str, Any]) -> float:
        from sklearn.model_selection import KFold, cross_val_score

        X_train, _, y_train, _ = self._split
        folds = KFold(n_splits=_CV_FOLDS, shuffle=True, random_state=_SPLIT_SEED)
        return float(np.mean(cross_val_score(self.make_model(params), X_train, y_train, cv=folds)))


RANDOM_FOREST_WINE = Task(
    name="rf-wine",
    description="random forest on scikit-learn's wine (178 x 13, 3 classes), 3-fold CV accuracy",
    space={
        "n_estimators": IntDistribution(10, 100, log=True),  # 200 trees doubled the cost for little
        "max_depth": IntDistribution(1, 16, log=True),
        "min_samples_split": IntDistribution(2, 20),
        "max_features": FloatDistribution(0.1, 1.0),
    },
    direction="maximize",
    metric="accuracy",
    make_data=_wine,
    make_model=_random_forest,
)

KERNEL_RIDGE_DIABETES = RegressionTask(
    name="kernel-ridge-diabetes",
    description="RBF kernel ridge on scikit-learn's diabetes (442 x 10, regression), 3-fold CV R^2",
    space={
        "alpha": FloatDistribution(1e-4, 1e2, log=True),
        "gamma": FloatDistribution(1e-4, 1e1, log=True),
        "kernel": CategoricalDistribution(("rbf", "laplacian")),
    },
    direction="maximize",
    metric="R^2",
    make_data=_diabetes,
    make_model=_kernel_ridge,
)

SKLEARN_TASKS: dict[str, Task] = {
    task.name: task
    for task in (TASKS["svc-digits"], TASKS["hgb-breast-cancer"], RANDOM_FOREST_WINE, KERNEL_RIDGE_DIABETES)
}


class MLPTask:
    """The digits MLP (``hpo.digits_mlp.build_mlp``), trained with AdamW on 60% of the data,
    scored by accuracy on a 15% validation split; the test score uses the last 25%.

    The network's initialization and the minibatch order are seeded with a fixed seed, so
    the score is a function of the hyperparameters alone.
    """

    name = "mlp-digits"
    description = (
        "torch MLP on scikit-learn's digits: learning rate, width, depth, batch size, "
        "weight decay, epochs; validation accuracy"
    )
    direction = "maximize"
    metric = "accuracy"
    space: ClassVar[dict] = {
        "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
        "width": IntDistribution(16, 256, log=True),
        "depth": IntDistribution(1, 3),
        "batch_size": CategoricalDistribution((16, 32, 64, 128)),
        "weight_decay": FloatDistribution(1e-6, 1e-2, log=True),
        "epochs": IntDistribution(5, 30),
    }

    @cached_property
    def _splits(self):
        from sklearn.model_selection import train_test_split

        X, y = _digits()
        X = (X / 16.0).astype(np.float32)  # pixel intensities are 0..16
        X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.25, random_state=_SPLIT_SEED, stratify=y)
        X_train, X_val, y_train, y_val = train_test_split(
            X_rest, y_rest, test_size=0.2, random_state=_SPLIT_SEED, stratify=y_rest
        )
        return X_train, X_val, X_test, y_train, y_val, y_test

    def _train(self, params: dict[str, Any]):
        import torch

        X_train, _, _, y_train, _, _ = self._splits
        # fork_rng: seeding must not disturb the caller's global torch RNG.
        with torch.random.fork_rng(devices=[]):
            model = build_mlp(int(params["width"]), int(params["depth"]), seed=_SPLIT_SEED)
            optimizer = torch.optim.AdamW(
                model.parameters(), lr=params["learning_rate"], weight_decay=params["weight_decay"]
            )
            inputs, targets = torch.from_numpy(X_train), torch.from_numpy(y_train).long()
            order = torch.Generator().manual_seed(_SPLIT_SEED)
            for _ in range(int(params["epochs"])):
                for batch in torch.randperm(len(inputs), generator=order).split(int(params["batch_size"])):
                    optimizer.zero_grad()
                    loss = torch.nn.functional.cross_entropy(model(inputs[batch]), targets[batch])
                    loss.backward()
                    optimizer.step()
        return model

    @staticmethod
    def _accuracy(model, X, y) -> float:
        import torch

        with torch.no_grad():
            predicted = model(torch.from_numpy(X)).argmax(dim=1).numpy()
        return float(np.mean(predicted == y))

    def objective(self, params: dict[str, Any]) -> float:
        _, X_val, _, _, y_val, _ = self._splits
        return self._accuracy(self._train(params), X_val, y_val)

    def test_score(self, params: dict[str, Any]) -> float:
        _, _, X_test, _, _, y_test = self._splits
        return self._accuracy(self._train(params), X_test, y_test)


MLP_DIGITS = MLPTask()
