"""``surrogates.pareto``: hypervolume, pymoo and Optuna on one problem, the front with its
validation, band and plot, written without following planted links."""

import os
import stat

import numpy as np
import pandas as pd
import pytest

from hpo.errors import UserError
from surrogates.manufacturing import PROCESS_BOUNDS
from surrogates.p2d import LIMITATIONS, OBJECTIVE_COLUMNS
from surrogates.pareto import (
    HypervolumeScale,
    nondominated,
    run_optuna,
    run_pareto,
    run_pymoo,
    spread_indices,
)


def toy_objectives(x):
    """Two conflicting smooth objectives of the process parameters (maximized)."""
    x = np.atleast_2d(x)
    low, high = (np.array([bounds[i] for bounds in PROCESS_BOUNDS.values()]) for i in (0, 1))
    unit = (x - low) / (high - low)
    return np.column_stack([unit.sum(axis=1), 3.0 - (unit**2).sum(axis=1)])


class LinearSurrogate:
    """Stands in for the fitted regressors: the writes are under test, not the fit."""

    def predict(self, x):
        x = np.atleast_2d(x)
        return np.column_stack([300 * x[:, 0], 300 * (1 - x[:, 0]) + x[:, 2]])


def test_hypervolume_of_known_sets():
    scale = HypervolumeScale(low=np.array([0.0, 0.0]), high=np.array([1.0, 1.0]))
    assert scale.hypervolume(np.array([[1.0, 1.0]])) == pytest.approx(1.0)
    assert scale.hypervolume(np.array([[0.5, 0.5]])) == pytest.approx(0.25)
    assert scale.hypervolume(np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])) == pytest.approx(0.25)
    assert scale.hypervolume(np.array([[np.nan, 1.0]])) == 0.0


def test_nondominated_drops_dominated_and_duplicates():
    values = np.array([[1, 3], [2, 2], [1, 1], [2, 2], [3, 0.5]], float)
    assert sorted(nondominated(values).tolist()) == [0, 1, 4]


def test_spread_indices_include_both_ends():
    picked = spread_indices(40, 12)
    assert picked[0] == 0 and picked[-1] == 39 and len(picked) == 12
    assert list(spread_indices(5, 12)) == [0, 1, 2, 3, 4]


def test_pymoo_and_optuna_run_the_same_problem_for_the_budget():
    scale = HypervolumeScale(low=np.array([0.0, -3.0]), high=np.array([3.0, 3.0]))
    _, pymoo_log = run_pymoo(toy_objectives, "nsga2", 200, seed=0, population=20)
    optuna_log = run_optuna(toy_objectives, "nsga2", 60, seed=0, population=20)
    assert len(pymoo_log.f) == 200 and len(optuna_log.f) == 60
    curve = scale.curve(pymoo_log, [20, 100, 200])
    assert curve == sorted(curve) and curve[-1] > 0  # non-decreasing in evaluations
    low = np.array([b[0] for b in PROCESS_BOUNDS.values()])
    assert (optuna_log.x >= low).all()


def test_pareto_run_writes_front_validation_band_and_plot(shipped, surrogate, tmp_path):
    # Validation on the dataset's own mesh, as the default run does; the smallest bootstrap band.
    report = run_pareto(
        shipped, tmp_path, evaluations=600, validate=4, population=30, band_members=20, surrogate=surrogate
    )
    front = pd.read_csv(tmp_path / "front.csv")
    validation = pd.read_csv(tmp_path / "validation.csv")
    assert (tmp_path / "front.png").stat().st_size > 10_000
    assert {"am", "sc", "cd", "predicted_energy_wh_per_kg", "simulated_energy_3c_wh_per_kg", "porosity"} <= set(front)
    assert len(validation) == 4 and (validation["status"] == "ok").all()
    # each re-simulated point says what stopped its 3C discharge, in both files
    assert validation["limited_by"].isin(LIMITATIONS).all()
    validated = front.dropna(subset=["simulated_energy_3c_wh_per_kg"])
    assert list(validated["limited_by"]) == list(validation["limited_by"])
    # Calibrated domain (the default): no front point outside the calibration data.
    assert not front["extrapolated"].any() and (front["domain_violation"] <= 1e-6).all()
    assert not validation["extrapolated"].any()
    banded = front.dropna(subset=["energy_3c_wh_per_kg_low"])
    assert len(banded) == 4
    for column in OBJECTIVE_COLUMNS:
        assert (banded[f"{column}_low"] <= banded[f"{column}_high"]).all()
        assert (banded[f"{column}_low"] > 0).all()
    assert banded["band_nonpercolating"].between(0, 20).all() and (banded["band_members_ok"] == 20).all()
    # the scenario of the members whose carbon-binder network percolates lies within all members' band
    mode = banded.dropna(subset=["energy_3c_wh_per_kg_low_percolating"])
    assert len(mode) >= 1
    assert (mode["energy_3c_wh_per_kg_low_percolating"] >= mode["energy_3c_wh_per_kg_low"] - 1e-9).all()
    assert "resolved (band under 1/3 of the span in both)" in report.summary()
    # Along the front, the C/5 energy rises while the 3C energy falls.
    assert front["predicted_energy_wh_per_kg"].is_monotonic_increasing
    assert front["predicted_energy_3c_wh_per_kg"].is_monotonic_decreasing
    # The re-simulated points err by what the surrogate's cross-validation measured.
    for column in OBJECTIVE_COLUMNS:
        errors = validation[f"relative_error_{column}"]
        assert errors.median() <= surrogate.error_q95[column] and errors.max() < 3 * surrogate.error_q95[column]
    assert 0 < report.hypervolume_predicted <= 1.2


def test_full_domain_front_is_flagged_where_it_leaves_the_calibration_data(shipped, surrogate, tmp_path):
    report = run_pareto(
        shipped,
        tmp_path,
        evaluations=300,
        validate=0,
        population=20,
        domain="full",
        band_members=0,
        surrogate=surrogate,
    )
    assert report.front["extrapolated"].any()
    flagged = report.front["domain_violation"] > 1e-6
    assert (report.front["extrapolated"] == flagged).all()


def test_a_band_too_small_for_its_quantiles_is_refused_before_the_search(shipped, surrogate, tmp_path):
    with pytest.raises(UserError, match="--band 8: a 10-90 % interval needs at least 20"):
        run_pareto(shipped, tmp_path, evaluations=100, validate=2, band_members=8, surrogate=surrogate)
    assert not (tmp_path / "front.csv").exists()


@pytest.mark.parametrize("algorithm", ["smsemoa", "moead"])
def test_other_pymoo_algorithms_find_a_front(algorithm):
    scale = HypervolumeScale(low=np.array([0.0, -3.0]), high=np.array([3.0, 3.0]))
    result, log = run_pymoo(toy_objectives, algorithm, 300, seed=1, population=20)
    assert 280 <= len(log.f) <= 320  # MOEA/D evaluates per neighbourhood, close to the budget
    front = -np.atleast_2d(result.F)
    assert len(nondominated(front)) >= 5
    assert scale.hypervolume(front) > scale.hypervolume(log.f[:20])


def test_pareto_replaces_planted_symlinks_and_does_not_copy_their_mode(shipped, tmp_path):
    from surrogates.pareto import run_pareto

    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    os.chmod(victim, 0o777)
    for name in ("front.csv", "validation.csv", "front.png"):
        (out / name).symlink_to(victim)
    run_pareto(shipped, out, evaluations=100, validate=0, band_members=0, population=20, surrogate=LinearSurrogate())
    assert victim.read_text() == "keep me\n"
    for name in ("front.csv", "validation.csv", "front.png"):
        written = os.lstat(out / name)
        assert stat.S_ISREG(written.st_mode) and not written.st_mode & 0o111, name
    assert len(pd.read_csv(out / "front.csv")) > 0


def test_a_fixed_process_parameter_holds_on_every_front_point_and_is_validated(shipped, surrogate, tmp_path):
    report = run_pareto(
        shipped,
        tmp_path,
        evaluations=300,
        validate=0,
        population=20,
        band_members=0,
        surrogate=surrogate,
        fixed={"loading": 17.467},
    )
    assert (report.front["loading"] == 17.467).all() and report.front["am"].nunique() > 1
    assert "loading fixed at 17.467" in report.summary()
    free = run_pareto(
        shipped, tmp_path, evaluations=300, validate=0, population=20, band_members=0, surrogate=surrogate
    )
    assert free.front["loading"].nunique() > 1
    for fixed, message in (({"speed": 1.0}, "not a process parameter"), ({"loading": 50.0}, "outside the allowed")):
        with pytest.raises(UserError, match=message):
            run_pareto(shipped, tmp_path, evaluations=100, validate=0, band_members=0, surrogate=surrogate, fixed=fixed)
