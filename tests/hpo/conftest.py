"""Fixtures of the ``hpo`` tests: a storage holding two source studies to transfer from."""

import optuna
import pytest


def _source(storage, name, optimum, seed):
    study = optuna.create_study(storage=storage, study_name=name, sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(
        lambda t: (t.suggest_float("x", -1, 1) - optimum) ** 2 + (t.suggest_float("y", -1, 1) - optimum) ** 2, 40
    )
    return study


@pytest.fixture
def source_studies(tmp_path):
    url = f"sqlite:///{tmp_path / 'sources.db'}"
    for i, optimum in enumerate((0.45, 0.55)):
        _source(url, f"source{i}", optimum, seed=100 + i)  # not the seeds of the target runs
    return url
