"""What the transfer tests share: a space with a float, an integer and a categorical parameter,
and seeded source studies over it."""

from __future__ import annotations

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

SPACE = {"x": FloatDistribution(0.0, 1.0), "n": IntDistribution(1, 5), "kind": CategoricalDistribution(("a", "b"))}


def make_study(values_params, direction="minimize", name=None, storage=None, space=SPACE):
    study = optuna.create_study(direction=direction, study_name=name, storage=storage)
    for value, params in values_params:
        dists = {p: space[p] for p in params}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=value))
    return study


def grid_study(center=0.3, direction="minimize", seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(20):
        params = {"x": float(rng.uniform()), "n": int(rng.integers(1, 6)), "kind": str(rng.choice(["a", "b"]))}
        loss = (params["x"] - center) ** 2 + 0.01 * params["n"] + (0.0 if params["kind"] == "a" else 0.1)
        trials.append((loss if direction == "minimize" else -loss, params))
    return make_study(trials, direction)
