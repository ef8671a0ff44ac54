"""``benchmarks.ml_tasks``: the scikit-learn and MLP tasks score deterministically and report a
held-out score."""

from __future__ import annotations

import math

from benchmarks.problems import (
    make_problem,
)


def test_ml_tasks_score_and_test_score_are_deterministic():
    problem = make_problem("kernel-ridge-diabetes")
    params = {"alpha": 0.1, "gamma": 0.01, "kernel": "rbf"}
    score = problem.objective(params)
    assert 0.2 < score < 1.0 and score == problem.objective(params)
    assert math.isfinite(problem.test_score(params))

    mlp = make_problem("mlp-digits")
    assert set(mlp.space) == {"learning_rate", "width", "depth", "batch_size", "weight_decay", "epochs"}
    small = {"learning_rate": 3e-3, "width": 16, "depth": 1, "batch_size": 128, "weight_decay": 1e-4, "epochs": 5}
    accuracy = mlp.objective(small)
    assert 0.5 < accuracy <= 1.0  # 10 classes: chance is 0.1
    assert mlp.objective(small) == accuracy
    assert 0.5 < mlp.test_score(small) <= 1.0
