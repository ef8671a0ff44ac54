"""``hpo.optimizers``: the registry, the first suggestions pinned per optimizer, CMA-ES's state
replayed instead of unpickled, every optimizer resuming from the storage alone, any optimizer
after a portfolio.

Regenerate the pinned suggestions (only after a deliberate change of behaviour) with
``python tests/hpo/test_optimizers.py``."""

from __future__ import annotations

import json
import math
import os
import pickle
import sqlite3
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

import hpo
from hpo.cli import main
from hpo.errors import UserError
from hpo.optimizers import ReplayCmaEsSampler
from hpo.transfer import (
    PortfolioSampler,
    load_sources,
    portfolio,
)
from tests.hpo.transfer.helpers import SPACE, grid_study


def _optimizers_without_sources():
    from hpo.optimizers import get_optimizer, optimizers

    # The peers (an extra) have their resume test in tests/hpo/samplers/test_peers.py.
    return sorted(
        name for name in optimizers() if not get_optimizer(name).needs_sources and get_optimizer(name).extra is None
    )


def sphere(trial):
    return sum((trial.suggest_float(f"x{i}", -5, 5) - 1.5) ** 2 for i in range(3))


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


PINNED = Path(__file__).parent / "data" / "pinned_suggestions.json"

PINNED_OPTIMIZERS = ("tpe", "sac-hmr", "sac-hmr-pretrained")
# Relative tolerance of the floats. TPE computes in float64 with NumPy: the same bits on any
# x86-64 CPU. The agents act through torch networks in float32 (24-bit mantissa, 6e-8), whose
# matrix products MKL sums in a CPU-dependent order: the action moves by some float32 ulps,
# and decoding it (a log scale spans 4 decades here) and the Gaussian-process search it steers
# carry that on. Measured: up to 1.4e-7 (sac-hmr) and 3.1e-5 (sac-hmr-pretrained) between an
# AVX-512 CPU, this one and MKL held to SSE4.2; 1e-4 stays far below any change of behaviour,
# and every discrete choice (integer, categorical) must be equal.
PINNED_TOLERANCE = {"tpe": 1e-9, "sac-hmr": 1e-4, "sac-hmr-pretrained": 1e-4}

PINNED_TRIALS = 20

PINNED_SPACE = {
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "width": IntDistribution(8, 128, step=8),
    "dropout": FloatDistribution(0.0, 0.5),
    "activation": CategoricalDistribution(["relu", "tanh", "gelu"]),
}


def pinned_objective(params):
    shift = {"relu": 0.0, "tanh": 0.3, "gelu": 0.1}[params["activation"]]
    return (
        (math.log10(params["lr"]) + 2.5) ** 2
        + ((params["width"] - 64) / 64) ** 2
        + (params["dropout"] - 0.2) ** 2
        + shift
    )


def suggestions(optimizer: str) -> list[dict]:
    result = hpo.tune(pinned_objective, PINNED_SPACE, optimizer=optimizer, n_trials=PINNED_TRIALS, seed=0)
    return [trial.params for trial in result.study.trials]


# the transfer samplers' resume (weights cached in the study) is tested in samplers/test_sac_hmr_transfer.py
@pytest.mark.parametrize("optimizer", _optimizers_without_sources())
def test_every_optimizer_resumes_from_the_storage_alone(tmp_path, optimizer):
    """A fresh sampler object joins a half-run study: its state comes from the storage."""
    import hpo
    from hpo.optimizers import get_optimizer
    from hpo.trials import work

    entry = get_optimizer(optimizer)
    directions = ["minimize"] if entry.single_objective else ["minimize", "minimize"]
    space = {"x": {"type": "float", "low": -1, "high": 1}, "n": {"type": "int", "low": 0, "high": 4}}

    def objective(p):
        value = (p["x"] - 0.2) ** 2 + p["n"]
        return value if len(directions) == 1 else (value, (p["x"] + 0.2) ** 2)

    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    study = hpo.tune(
        objective,
        space,
        optimizer=optimizer,
        directions=directions,
        seed=0,
        n_trials=24,
        storage=storage,
        study_name="s",
        create_only=True,
    ).study
    first = work(study, objective, hpo.as_space(space), max_trials=12)
    rejoined = optuna.load_study(
        study_name="s", storage=storage, sampler=hpo.make_sampler(optimizer, 1, len(directions))
    )
    second = work(rejoined, objective, hpo.as_space(space))
    trials = rejoined.get_trials()
    assert (first, second) == (12, 12)
    assert [t.state.name for t in trials] == ["COMPLETE"] * 24
    assert all(-1 <= t.params["x"] <= 1 and t.params["n"] in range(5) for t in trials)


def test_registry_lists_the_required_names():
    names = hpo.optimizers()
    assert {"random", "qmc", "tpe", "cmaes", "gp", "nsga2", "motpe"} <= set(names)
    assert all(isinstance(text, str) and text for text in names.values())


def test_an_entry_that_needs_source_studies_is_refused_by_name_alone():
    from hpo.optimizers import get_optimizer

    assert get_optimizer("sac-hmr-transfer").needs_sources and not get_optimizer("gp-search").needs_sources
    with pytest.raises(UserError, match="optimizer 'sac-hmr-transfer' needs source studies: pass transfer_from="):
        hpo.make_sampler("sac-hmr-transfer")


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


@pytest.mark.parametrize("optimizer", PINNED_OPTIMIZERS)
def test_first_suggestions_are_pinned(optimizer):
    expected = json.loads(PINNED.read_text())[optimizer]
    got = suggestions(optimizer)
    assert len(got) == len(expected) == PINNED_TRIALS
    for number, (have, want) in enumerate(zip(got, expected)):
        assert set(have) == set(want), f"trial {number}"
        for name, value in want.items():
            if isinstance(value, float):
                assert have[name] == pytest.approx(value, rel=PINNED_TOLERANCE[optimizer], abs=1e-12), (
                    f"trial {number}, {name}"
                )
            else:
                assert have[name] == value, f"trial {number}, {name}"


def test_any_registry_optimizer_runs_after_the_portfolio():
    from hpo.optimizers import make_transfer_sampler

    sources = load_sources([grid_study()], SPACE)
    sampler = make_transfer_sampler("tpe", sources, SPACE, seed=0, portfolio_size=2)
    assert isinstance(sampler, PortfolioSampler) and isinstance(sampler.sampler, optuna.samplers.TPESampler)
    assert sampler.configs == portfolio(sources, SPACE, k=2, seed=0)
    with pytest.raises(UserError, match="portfolio_size must be an integer >= 1"):
        make_transfer_sampler("tpe", sources, SPACE, portfolio_size=0)


@pytest.mark.parametrize("optimizer", ["tpe", "gp"])
def test_after_a_portfolio_the_optimizer_models_at_once(optimizer):
    # With its own 10 start-up trials, the optimizer would draw trials 5-9 at random: the
    # draws of RandomSampler with the same seed (Optuna's start-up sampler).
    from hpo.optimizers import make_transfer_sampler

    sources = load_sources([grid_study()], SPACE)
    configs = portfolio(sources, SPACE, k=5, seed=0)

    def run(sampler):
        study = optuna.create_study(sampler=sampler)
        study.optimize(lambda t: (t.suggest_float("x", 0, 1) - 0.3) ** 2 + t.suggest_int("n", 1, 5), n_trials=10)
        return [t.params for t in study.trials]

    modelled = run(make_transfer_sampler(optimizer, sources, SPACE, seed=0))
    random = run(PortfolioSampler(optuna.samplers.RandomSampler(seed=0), configs))
    assert modelled[:5] == random[:5] == [{p: c[p] for p in ("x", "n")} for c in configs]
    assert all(a != b for a, b in zip(modelled[5:], random[5:]))


def test_gp_search_transfers_with_the_sources_prior_and_no_agent():
    from hpo.optimizers import make_transfer_sampler
    from hpo.samplers.pretrained import FIXED_ACTION

    sources = load_sources([grid_study()], SPACE)
    sampler = make_transfer_sampler("gp-search", sources, SPACE, seed=0, portfolio_size=3)
    assert isinstance(sampler, PortfolioSampler) and len(sampler.configs) == 3
    inner = sampler.sampler
    assert inner.agent is None and not inner.meta_train and list(inner.fixed_action) == list(FIXED_ACTION)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: (t.suggest_float("x", 0, 1) - 0.3) ** 2 + t.suggest_int("n", 1, 5), n_trials=8)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 8
    assert all("hpo:acquisition" in t.system_attrs for t in study.trials[3:])  # the search proposed them


if __name__ == "__main__":
    PINNED.write_text(json.dumps({name: suggestions(name) for name in PINNED_OPTIMIZERS}, indent=1) + "\n")
    print(f"wrote {PINNED}")


def _mostly_pruned(params, trial):
    """A curve per trial; the threshold pruner stops the ~85 % of trials far from (0.3, 0.6)."""
    value = (params["x"] - 0.3) ** 2 + (params["y"] - 0.6) ** 2
    for step in range(1, 4):
        trial.report(value + 0.01 / step, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


@pytest.mark.parametrize("optimizer", ["gp", "cmaes", "tpe", "gp-search", "sac-hmr-pretrained", "sac-hmr"])
def test_model_based_optimizers_learn_from_pruned_trials(optimizer):
    space = {"x": optuna.distributions.FloatDistribution(0, 1), "y": optuna.distributions.FloatDistribution(0, 1)}

    def run(name):
        pruner = optuna.pruners.ThresholdPruner(upper=0.05)
        return hpo.tune(_mostly_pruned, space, optimizer=name, pruner=pruner, n_trials=30, seed=0, study_name="s")

    modelled, random = run(optimizer).study.trials, run("random").study.trials
    assert sum(t.state.name == "COMPLETE" for t in random) < 10  # too few complete trials to model on alone
    differ = [a.params != b.params for a, b in zip(modelled, random, strict=True)]
    assert sum(differ[10:]) == 20  # past the start-up trials every suggestion is the model's
    assert sum(t.state.name == "COMPLETE" for t in modelled) > sum(t.state.name == "COMPLETE" for t in random)
