"""``hpo.samplers._startup.LatinHypercubeStart``: the start-up trials put each parameter's
values in distinct strata of its range (log scale, integers and choices too), seeded runs
repeat, and random search follows."""

from __future__ import annotations

import math

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo.errors import UserError
from hpo.samplers._startup import LatinHypercubeStart
from hpo.space import suggest

SPACE = {
    "lr": FloatDistribution(1e-5, 1e-1, log=True),
    "width": IntDistribution(0, 299),
    "kind": CategoricalDistribution(["a", "b", "c", "d"]),
    "x": FloatDistribution(-1.0, 1.0),
}


def start(seed, n=4, trials=6):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=LatinHypercubeStart(n, seed=seed))
    study.optimize(lambda trial: suggest(trial, SPACE) and 0.0, trials)
    return [t.params for t in study.trials]


def stratum(name, value, n):
    distribution = SPACE[name]
    if name == "lr":
        u = (math.log(value) - math.log(distribution.low)) / (math.log(distribution.high) - math.log(distribution.low))
    elif name == "kind":
        u = (distribution.choices.index(value) + 0.5) / len(distribution.choices)
    else:
        u = (value - distribution.low) / (distribution.high - distribution.low)
    return min(int(u * n), n - 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_parameter_of_the_start_up_trials_falls_in_distinct_strata(seed):
    params = start(seed)
    for name in SPACE:
        assert sorted(stratum(name, p[name], 4) for p in params[:4]) == [0, 1, 2, 3], name


def test_seeded_designs_repeat_and_differ_between_seeds():
    assert start(3) == start(3)
    assert start(3)[:4] != start(4)[:4]


def test_after_the_start_up_values_are_random_and_n_is_checked():
    params = start(0, n=2, trials=40)
    later = [stratum("x", p["x"], 2) for p in params[2:]]
    assert set(later) == {0, 1}
    with pytest.raises(UserError, match="n must be an integer >= 1"):
        LatinHypercubeStart(0, seed=0)
