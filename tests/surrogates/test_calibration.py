"""Calibration domain of the manufacturing relations and the bootstrap of their coefficients."""

import numpy as np
import pytest

from surrogates.calibration import (
    FITTED,
    TABLE_S3,
    CalibratedDomain,
    bootstrap_coefficients,
    domain_violations,
    mean_loading,
)
from surrogates.dataset import SimulationConfig, simulate_design
from surrogates.manufacturing import CALIBRATION_LOADING, ProcessParameters, calibration_line_sc, manufacture
from surrogates.p2d import P2DSettings

CALENDERED_PAST_DATA = (0.95, 0.66, 0.30)  # CD and porosity beyond Table S3

OFF_THE_SC_LINE = (0.90, 0.40, 0.10)  # Table S3 never varied SC at fixed AM

INSIDE = (0.90, 0.55, 0.10)  # a Table S3 composition, calendered within the measured range


def test_table_electrodes_lie_inside_their_own_domain():
    for am, sc, cd, *_ in TABLE_S3:
        process = (am / 100, max(sc / 100, 0.40), cd / 100)
        if process[0] < 0.86:  # 85 wt % AM lies below the process bounds
            continue
        assert CalibratedDomain().contains(process, manufacture(ProcessParameters(*process)))


@pytest.mark.parametrize("design", [CALENDERED_PAST_DATA, OFF_THE_SC_LINE, (0.96, 0.71, 0.40)])
def test_designs_outside_the_calibration_data_are_flagged(design):
    props = manufacture(ProcessParameters(*design))
    assert not CalibratedDomain().contains(design, props)
    assert domain_violations(np.array([design]))[0] > 0


def test_violation_is_negative_inside_and_grows_with_distance():
    violations = domain_violations(np.array([INSIDE, (0.95, 0.66, 0.25), CALENDERED_PAST_DATA]))
    assert violations[0] < 0 < violations[1] < violations[2]
    assert abs(calibration_line_sc(0.90) - 0.56) < 1e-12


def test_dataset_rows_carry_the_flag():
    config = SimulationConfig(p2d=P2DSettings(positive_points=6))
    inside = simulate_design((0, INSIDE, config))
    outside = simulate_design((1, CALENDERED_PAST_DATA + (35.0,), config))
    assert inside["extrapolated"] is False and outside["extrapolated"] is True
    assert inside["domain_violation"] < 0 < outside["domain_violation"]
    assert inside["loading"] == CALIBRATION_LOADING and outside["loading"] == 35.0


def test_the_default_loading_is_the_calibration_tables_mean():
    assert mean_loading() == pytest.approx(CALIBRATION_LOADING, rel=1e-3)
    assert 15.0 < CALIBRATION_LOADING < 19.0


def test_bootstrap_is_seeded_and_spreads_the_fitted_coefficients_only():
    first, again = bootstrap_coefficients(6, seed=3), bootstrap_coefficients(6, seed=3)
    assert first == again
    spread = {name: np.std([getattr(c, name) for c in first]) for name in FITTED}
    assert all(value > 0 for value in spread.values())
    assert len({c.min_porosity for c in first}) == 1  # placeholders are not refitted
