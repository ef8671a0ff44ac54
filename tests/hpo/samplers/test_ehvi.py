"""``hpo.samplers.ehvi``: the two-objective search as an Optuna sampler, and ``gp-search``
building it for two objectives."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from pymoo.indicators.hv import HV

from hpo.errors import UserError
from hpo.optimizers import make_sampler
from hpo.samplers.ehvi import EHVISampler

SPACE = {
    "x": FloatDistribution(0.0, 1.0),
    "n": IntDistribution(0, 8),
    "kind": CategoricalDistribution(["a", "b", "c"]),
}
PENALTY = {"a": 0.0, "b": 0.5, "c": 1.0}


def _objectives(params):
    x, n, penalty = params["x"], params["n"] / 8, PENALTY[params["kind"]]
    return x + penalty + n, (1 - x) ** 2 + penalty + n


def _run(sampler, n_trials=25, directions=("minimize", "minimize")):
    study = optuna.create_study(directions=list(directions), sampler=sampler)
    for _ in range(n_trials):
        trial = study.ask(SPACE)
        first, second = _objectives(trial.params)
        study.tell(trial, [first if directions[0] == "minimize" else -first, second])
    return study


def test_gp_search_on_two_objectives_is_the_ehvi_sampler_and_beats_random_search():
    sampler = make_sampler("gp-search", seed=0, n_objectives=2, n_trials=25)
    assert isinstance(sampler, EHVISampler)
    reference = [3.2, 3.2]
    hypervolume = {}
    for name, build in (
        ("gp-search", lambda s: make_sampler("gp-search", seed=s, n_objectives=2)),
        ("random", lambda s: optuna.samplers.RandomSampler(seed=s)),
    ):
        values = []
        for seed in range(3):
            study = _run(build(seed))
            points = np.array([t.values for t in study.trials])
            values.append(HV(ref_point=reference)(points))
            for trial in study.trials:
                assert 0 <= trial.params["x"] <= 1 and trial.params["n"] in range(9) and trial.params["kind"] in PENALTY
        hypervolume[name] = values
    assert all(g > r for g, r in zip(hypervolume["gp-search"], hypervolume["random"]))


def test_seeded_runs_repeat_and_maximizing_is_minimizing_the_negation():
    first = _run(EHVISampler(seed=3), n_trials=12)
    again = _run(EHVISampler(seed=3), n_trials=12)
    flipped = _run(EHVISampler(seed=3), n_trials=12, directions=("maximize", "minimize"))
    assert [t.params for t in first.trials] == [t.params for t in again.trials]
    assert [t.params for t in first.trials] == [t.params for t in flipped.trials]
    assert [t.params for t in first.trials] != [t.params for t in _run(EHVISampler(seed=4), n_trials=12).trials]


def test_failed_trials_are_kept_as_worst_and_the_run_goes_on():
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=EHVISampler(seed=0, n_startup_trials=3))
    for number in range(12):
        trial = study.ask(SPACE)
        if number % 4 == 3:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, list(_objectives(trial.params)))
    assert len(study.trials) == 12 and len(study.best_trials) >= 1


@pytest.mark.parametrize("directions", [["minimize"], ["minimize"] * 3])
def test_other_numbers_of_objectives_are_refused(directions):
    study = optuna.create_study(directions=directions, sampler=EHVISampler(seed=0))
    with pytest.raises(UserError, match=f"two objectives; this one has {len(directions)}"):
        study.ask(SPACE)


def test_bad_options_are_refused():
    with pytest.raises(UserError, match="n_startup_trials"):
        EHVISampler(n_startup_trials=0)
    with pytest.raises(UserError, match="independent_sampler"):
        EHVISampler(independent_sampler="random")
