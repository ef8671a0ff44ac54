"""The registry's CMA-ES never unpickles what a storage holds, and its rebuilt state is the one
Optuna would have unpickled."""

import json
import os
import pickle
import sqlite3

import numpy as np
import optuna

from hpo.cli import main
from hpo.optimizers import ReplayCmaEsSampler


def sphere(trial):
    return sum((trial.suggest_float(f"x{i}", -5, 5) - 1.5) ** 2 for i in range(3))


def test_replayed_state_equals_the_state_optuna_pickles():
    study = optuna.create_study(sampler=optuna.samplers.CmaEsSampler(seed=3, warn_independent_sampling=False))
    study.optimize(sphere, n_trials=40)
    stored = optuna.samplers.CmaEsSampler(seed=3)._restore_optimizer(study.trials)  # Optuna's pickle, our own
    replay = ReplayCmaEsSampler(seed=3)
    replay._restore_optimizer(study.trials)
    trans = optuna._transform._SearchSpaceTransform(
        optuna.search_space.intersection_search_space(study.trials), transform_step=True, transform_0_1=True
    )
    rebuilt = replay._init_optimizer(trans, study.direction)
    assert rebuilt.generation == stored.generation >= 3
    np.testing.assert_allclose(rebuilt._mean, stored._mean, rtol=1e-12)
    np.testing.assert_allclose(rebuilt._C, stored._C, rtol=1e-12)
    assert abs(rebuilt._sigma - stored._sigma) <= 1e-12 * stored._sigma


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_planted_in_a_cmaes_study_is_never_unpickled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "shared.db"
    argv = ["tune", "sphere-4d", "--optimizer", "cmaes", "--storage", f"sqlite:///{db}", "--study-name", "s"]
    assert main([*argv, "--n-trials", "12", "--no-progress"]) == 0
    marker = tmp_path / "payload-ran"
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM trial_system_attributes WHERE key LIKE 'cma:optimizer%'")
        connection.executemany(
            "INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES (?, 'cma:optimizer:0', ?)",
            [
                (trial_id, json.dumps(pickle.dumps(Payload(marker)).hex()))
                for (trial_id,) in connection.execute("SELECT trial_id FROM trials")
            ],
        )
    assert main([*argv, "--n-trials", "16", "--no-progress"]) == 0
    assert not marker.exists()
    assert len(optuna.load_study(study_name="s", storage=f"sqlite:///{db}").trials) == 16
