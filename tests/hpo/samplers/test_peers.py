"""The peers' samplers (``hpo.samplers.hebo``, ``smac``, ``nevergrad``, ``syne_tune``) on small
budgets: valid configurations in a mixed space, a maximized study maximized, a resumed study
continued, the same run for the same seed. Skipped for a peer whose library is not installed
(``sh scripts/install_peers.sh``)."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

import hpo

LIBRARIES = {"hebo": ("hebo",), "smac": ("smac",), "ngopt": ("nevergrad",), "syne-tune-bo": ("syne_tune", "botorch")}
# HEBO trains its GP and runs NSGA-II on the acquisition at every suggestion (seconds each);
# SMAC3's local search of the acquisition and Syne Tune's BoTorch restarts take about one.
SLOW = {"hebo", "smac", "syne-tune-bo"}


def _peers():
    return [
        pytest.param(
            name,
            marks=[
                *([pytest.mark.slow] if name in SLOW else []),
                pytest.mark.skipif(
                    not all(importlib.util.find_spec(m) for m in modules), reason=f"{name}: peers extra not installed"
                ),
            ],
        )
        for name, modules in LIBRARIES.items()
    ]


MIXED = {
    "x": FloatDistribution(-2.0, 2.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "dropout": FloatDistribution(0.0, 0.5, step=0.1),
    "layers": IntDistribution(1, 6),
    "units": IntDistribution(8, 256, log=True),
    "width": IntDistribution(8, 64, step=8),
    "act": CategoricalDistribution(["relu", "tanh", None]),
}


def mixed(params):
    return (
        params["x"] ** 2
        + (params["lr"] - 0.01) ** 2
        + params["dropout"]
        + abs(params["layers"] - 3)
        + abs(params["units"] - 64) / 64
        + params["width"] / 64
        + {"relu": 0.0, "tanh": 0.5, None: 1.0}[params["act"]]
    )


QUADRATIC = {"x": FloatDistribution(-1.0, 1.0), "y": FloatDistribution(-1.0, 1.0)}


def peak(params):
    """Maximized: its top is 0 at (0.4, -0.3); its lowest values are in the corners (about -3)."""
    return -((params["x"] - 0.4) ** 2) - (params["y"] + 0.3) ** 2


@pytest.mark.parametrize("optimizer", _peers())
def test_peer_proposes_valid_configurations_in_a_mixed_space(optimizer):
    result = hpo.tune(mixed, MIXED, optimizer=optimizer, n_trials=12, seed=0)
    trials = result.study.trials
    assert len(trials) == 12 and all(t.state.name == "COMPLETE" for t in trials)
    for trial in trials:
        for name, value in trial.params.items():
            assert MIXED[name]._contains(MIXED[name].to_internal_repr(value)), (name, value)
    assert len(result.study.sampler._states) == 1  # the peer proposed trials 1..11
    assert len({tuple(sorted(t.params.items(), key=str)) for t in trials}) > 6


@pytest.mark.parametrize("optimizer", _peers())
def test_peer_maximizes_a_maximized_study(optimizer):
    """Maximizing ``peak`` proposes exactly what minimizing ``-peak`` does (one process, one
    seed); with the sign wrong the peer would chase the corners, where ``peak`` is lowest."""
    maximized = hpo.tune(peak, QUADRATIC, optimizer=optimizer, direction="maximize", n_trials=10, seed=0).study
    minimized = hpo.tune(lambda p: -peak(p), QUADRATIC, optimizer=optimizer, n_trials=10, seed=0).study
    assert [t.params for t in maximized.trials] == [t.params for t in minimized.trials]
    assert maximized.best_value == max(t.value for t in maximized.trials)


@pytest.mark.parametrize("optimizer", _peers())
def test_peer_continues_a_resumed_study(tmp_path, optimizer):
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    space = {**QUADRATIC, "act": CategoricalDistribution(["relu", "tanh"])}

    def objective(params):
        return -peak(params) + (params["act"] == "tanh")

    first = hpo.tune(objective, space, optimizer=optimizer, n_trials=6, seed=0, storage=storage, study_name="s")
    first_params = [t.params for t in first.study.trials]
    second = hpo.tune(objective, space, optimizer=optimizer, n_trials=10, seed=0, storage=storage, study_name="s")
    trials = second.study.trials
    assert len(first_params) == 6 and len(trials) == 10
    assert all(t.state.name == "COMPLETE" for t in trials)
    assert [t.params for t in trials[:6]] == first_params
    assert len(second.study.sampler._states) == 1  # rebuilt from the 6 stored trials


@pytest.mark.parametrize("optimizer", _peers())
def test_peer_gives_the_same_run_for_the_same_seed(optimizer):
    # 2-D: past every peer's start-up design (HEBO's has 1 + dimensions points), so the
    # model-based suggestions are compared too.
    runs = [hpo.tune(peak, QUADRATIC, optimizer=optimizer, n_trials=6, seed=4).study.trials for _ in range(2)]
    assert [t.params for t in runs[0]] == [t.params for t in runs[1]]


@pytest.mark.skipif(importlib.util.find_spec("nevergrad") is None, reason="ngopt: peers extra not installed")
def test_ngopt_in_a_continuous_space_resumes_and_lets_the_process_exit(tmp_path):
    """NGOpt picks COBYLA here, which Nevergrad runs in a thread waiting for values: the
    process still exits, and a rebuilt peer is told the stored trials it did not ask."""
    code = f"""
import hpo
from tests.hpo.samplers.test_peers import QUADRATIC, peak
url = "sqlite:///{tmp_path / "db.sqlite"}"
for n in (6, 12):
    options = dict(direction="maximize", n_trials=n, seed=0, storage=url, study_name="s")
    result = hpo.tune(peak, QUADRATIC, optimizer="ngopt", **options)
print(len(result.study.trials), type(next(iter(result.study.sampler._states.values())).peer.optimizer.optim).__name__)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["12", "_NonObjectMinimizeBase"]


# Syne Tune's transfer searchers, built from source studies: a shifted bowl whose sources have
# their optimum near x = 1, lr = 1e-2, act = "relu"; the target's is at x = 1.2.
TRANSFER_SPACE = {
    "x": FloatDistribution(-5.0, 5.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "layers": IntDistribution(1, 8),
    "act": CategoricalDistribution(["relu", "tanh", "gelu"]),
}


def bowl(params):
    return shifted_bowl(params, 1.2)


def shifted_bowl(params, shift):
    return (
        (params["x"] - shift) ** 2
        + (math.log10(params["lr"]) + 2) ** 2
        + abs(params["layers"] - 3) / 4
        + (params["act"] != "relu")
    )


def _transfer_sources():
    import optuna

    studies = []
    for seed, shift in enumerate((0.8, 1.0, 1.3)):
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
        for _ in range(80):
            trial = study.ask(TRANSFER_SPACE)
            study.tell(trial, shifted_bowl(trial.params, shift))
        studies.append(study)
    return studies


def _syne_tune_transfer(name):
    return pytest.param(
        name,
        marks=pytest.mark.skipif(
            not all(importlib.util.find_spec(m) for m in ("syne_tune", "xgboost", "huggingface_hub", "botorch")),
            reason=f"{name}: peers extra not installed",
        ),
    )


@pytest.mark.parametrize("optimizer", [_syne_tune_transfer("syne-tune-quantile"), _syne_tune_transfer("syne-tune-box")])
def test_syne_tune_transfer_searchers_start_where_the_sources_are_good(optimizer):
    """Their first trials (the first one included) beat random search's by far, and a seed
    gives the same run in one process."""
    studies = _transfer_sources()
    runs = [
        hpo.tune(bowl, TRANSFER_SPACE, optimizer=optimizer, transfer_from=studies, n_trials=6, seed=seed).study
        for seed in (0, 1, 0)
    ]
    random = [hpo.tune(bowl, TRANSFER_SPACE, optimizer="random", n_trials=6, seed=s).study for s in (0, 1)]
    random_median = np.median([t.value for study in random for t in study.trials])
    assert np.median([t.value for study in runs[:2] for t in study.trials]) < random_median / 4
    assert max(study.trials[0].value for study in runs[:2]) < random_median
    assert [t.params for t in runs[0].trials] != [t.params for t in runs[1].trials]
    assert [t.params for t in runs[2].trials] == [t.params for t in runs[0].trials]


@pytest.mark.skipif(importlib.util.find_spec("syne_tune") is None, reason="syne-tune-box: peers extra not installed")
def test_syne_tune_box_searches_inside_the_box_of_the_sources_best_configurations():
    studies = _transfer_sources()
    best = [study.best_params for study in studies]
    study = hpo.tune(bowl, TRANSFER_SPACE, optimizer="syne-tune-box", transfer_from=studies, n_trials=8, seed=0).study
    for trial in study.trials:
        for name in ("x", "lr", "layers"):
            low, high = min(b[name] for b in best), max(b[name] for b in best)
            slack = 1e-9 * max(abs(low), abs(high))  # a log range's round trip
            assert low - slack <= trial.params[name] <= high + slack, (name, trial.params[name], low, high)
        assert trial.params["act"] in {b["act"] for b in best}
