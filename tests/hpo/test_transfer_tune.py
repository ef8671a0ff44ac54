"""hpo.tune and hpo tune with transfer_from: sources by name from a storage, the portfolio
evaluated first by any optimizer, and the refusals."""

import subprocess
import sys

import optuna
import pytest
from optuna.distributions import FloatDistribution

import hpo
from hpo.errors import UserError

SPACE = {"x": FloatDistribution(-1.0, 1.0), "y": FloatDistribution(-1.0, 1.0)}


def _source(storage, name, optimum, seed):
    study = optuna.create_study(storage=storage, study_name=name, sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(
        lambda t: (t.suggest_float("x", -1, 1) - optimum) ** 2 + (t.suggest_float("y", -1, 1) - optimum) ** 2, 40
    )
    return study


def target(params):
    return (params["x"] - 0.5) ** 2 + (params["y"] - 0.5) ** 2


@pytest.fixture
def storage(tmp_path):
    url = f"sqlite:///{tmp_path / 'sources.db'}"
    for i, optimum in enumerate((0.45, 0.55)):
        _source(url, f"source{i}", optimum, seed=100 + i)  # not the seeds of the target runs
    return url


def test_any_optimizer_starts_with_the_sources_portfolio(storage):
    seen = [t.params for i in range(2) for t in optuna.load_study(study_name=f"source{i}", storage=storage).trials]
    result = hpo.tune(
        target,
        SPACE,
        optimizer="tpe",
        n_trials=12,
        seed=0,
        transfer_from=["source0", "source1"],
        transfer_storage=storage,
    )
    assert all(t.params in seen for t in result.study.trials[:5])  # the portfolio: source configurations
    assert not any(t.params in seen for t in result.study.trials[5:])  # then TPE's own
    scratch = hpo.tune(target, SPACE, optimizer="tpe", n_trials=12, seed=0)
    assert result.best_value < scratch.best_value  # the sources' optima are near the target's


def test_transfer_refusals_name_the_culprit(storage):
    with pytest.raises(UserError, match=r"no study named 'nope'"):
        hpo.tune(target, SPACE, n_trials=3, transfer_from=["nope"], transfer_storage=storage)
    with pytest.raises(UserError, match="only single-objective studies transfer"):
        hpo.tune(
            lambda p: (1.0, 2.0),
            SPACE,
            directions=["minimize", "minimize"],
            optimizer="nsga2",
            n_trials=3,
            transfer_from=["source0"],
            transfer_storage=storage,
        )
    with pytest.raises(UserError, match="needs source studies"):
        hpo.tune(target, SPACE, optimizer="sac-hmr-transfer", n_trials=3)


def test_cli_transfer_from_names_in_the_storage(storage, tmp_path):
    (tmp_path / "obj.py").write_text("def f(p):\n    return (p['x'] - 0.5) ** 2 + (p['y'] - 0.5) ** 2\n")
    (tmp_path / "space.yaml").write_text("x: {type: float, low: -1, high: 1}\ny: {type: float, low: -1, high: 1}\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hpo",
            "tune",
            "--objective",
            "obj:f",
            "--space",
            "space.yaml",
            "--n-trials",
            "8",
            "--storage",
            storage,
            "--transfer-from",
            "source0",
            "source1",
            "--study-name",
            "target",
            "--no-progress",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    trials = optuna.load_study(study_name="target", storage=storage).trials
    seen = [t.params for i in range(2) for t in optuna.load_study(study_name=f"source{i}", storage=storage).trials]
    assert len(trials) == 8 and all(t.params in seen for t in trials[:5])
