"""Real tuning tasks for the benchmarks (``hpo.tasks.Task``): scikit-learn models on bundled
datasets and the digits MLP.

Two classification tasks come from ``hpo.tasks`` (``svc-digits``, ``hgb-breast-cancer``);
this module adds a random forest on wine, kernel ridge on diabetes (regression) and the
digits MLP of ``hpo.digits_mlp`` trained with AdamW. Every task holds out a test split; the
optimizer sees only the cross-validated (or, for the MLP, validation) score on the rest, and
the benchmark reports the test score of each run's incumbent. Every objective is a
deterministic function of its parameters (fixed splits and model seeds), so two runs that
propose the same configuration see the same value.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpo.tasks import TASKS, Task

_SPLIT_SEED = 0


def _wine():
    from sklearn.datasets import load_wine

    return load_wine(return_X_y=True)


def _diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True)


def _random_forest(params):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(random_state=_SPLIT_SEED, n_jobs=1, **params)


def _kernel_ridge(params):
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), KernelRidge(**params))


RANDOM_FOREST_WINE = Task(
    name="rf-wine",
    description="random forest on scikit-learn's wine (178 x 13, 3 classes), 3-fold CV accuracy",
    space={
        "n_estimators": IntDistribution(10, 100, log=True),  # 200 trees doubled the cost for little
        "max_depth": IntDistribution(1, 16, log=True),
        "min_samples_split": IntDistribution(2, 20),
        "max_features": FloatDistribution(0.1, 1.0),
    },
    directions=("maximize",),
    metric="accuracy",
    make_data=_wine,
    make_model=_random_forest,
)

KERNEL_RIDGE_DIABETES = Task(
    name="kernel-ridge-diabetes",
    description="RBF kernel ridge on scikit-learn's diabetes (442 x 10, regression), 3-fold CV R^2",
    space={
        "alpha": FloatDistribution(1e-4, 1e2, log=True),
        "gamma": FloatDistribution(1e-4, 1e1, log=True),
        "kernel": CategoricalDistribution(("rbf", "laplacian")),
    },
    directions=("maximize",),
    metric="R^2",
    make_data=_diabetes,
    make_model=_kernel_ridge,
    classification=False,
)

SKLEARN_TASKS: dict[str, Task] = {
    task.name: task
    for task in (TASKS["svc-digits"], TASKS["hgb-breast-cancer"], RANDOM_FOREST_WINE, KERNEL_RIDGE_DIABETES)
}


MLP_SPACE = {
    "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
    "width": IntDistribution(16, 256, log=True),
    "depth": IntDistribution(1, 3),
    "batch_size": CategoricalDistribution((16, 32, 64, 128)),
    "weight_decay": FloatDistribution(1e-6, 1e-2, log=True),
    "epochs": IntDistribution(5, 30),
}


@cache
def _digits_mlp():
    from hpo.digits_mlp import DigitsMLP

    return DigitsMLP()


def _mlp_accuracy(params: dict[str, Any], split: str) -> float:
    """The digits MLP trained with AdamW on cross-entropy (model and minibatch order seeded
    with a fixed seed, so the score is a function of the hyperparameters alone); its
    accuracy on ``split``."""
    import torch

    mlp = _digits_mlp()
    with torch.random.fork_rng(devices=[]):  # seeding must not disturb the caller's global torch RNG
        model = mlp.train(
            params["learning_rate"],
            optimizer="adamw",
            loss="cross-entropy",
            weight_decay=params["weight_decay"],
            hidden=int(params["width"]),
            depth=int(params["depth"]),
            batch_size=int(params["batch_size"]),
            epochs=int(params["epochs"]),
            seed=_SPLIT_SEED,
        )
    return 1.0 - mlp.error(model, split)


def mlp_digits() -> Task:
    """``mlp-digits``: the digits MLP's validation accuracy over six hyperparameters; the test
    score is the test split's accuracy."""
    return Task(
        name="mlp-digits",
        description=(
            "torch MLP on scikit-learn's digits: learning rate, width, depth, batch size, "
            "weight decay, epochs; validation accuracy"
        ),
        space=MLP_SPACE,
        directions=("maximize",),
        metric="accuracy",
        function=lambda params: _mlp_accuracy(params, "val"),
        held_out=lambda params: _mlp_accuracy(params, "test"),
    )
