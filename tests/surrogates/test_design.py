"""``surrogates.design``: inverse design meets the floor with its margin on two meshes."""

import pytest

from surrogates.dataset import SimulationConfig
from surrogates.design import inverse_design
from surrogates.p2d import P2DSettings

SMALL_MESH = SimulationConfig(p2d=P2DSettings(positive_points=8))


def test_inverse_design_meets_the_floor_with_margin_on_two_meshes_and_beats_a_stricter_one(shipped, surrogate):
    loose = inverse_design(shipped, "power", 230.0, verify=True, config=SMALL_MESH, generations=30, surrogate=surrogate)
    strict = inverse_design(shipped, "power", 234.0, verify=False, generations=30, surrogate=surrogate)
    assert loose.feasible_predicted and loose.surrogate_floor == pytest.approx(230.0 * 1.01)
    assert loose.predicted["energy_wh_per_kg"] >= 230.0 * 1.01 - 1e-6
    # Verified: the floor holds in P2D on the dataset's mesh and on one twice as fine.
    assert loose.feasible and loose.status == loose.fine_status == "ok" and loose.fine_mesh_points == 16
    assert min(loose.simulated["energy_wh_per_kg"], loose.simulated_fine["energy_wh_per_kg"]) >= 230.0
    assert not loose.extrapolated and not strict.extrapolated  # the calibrated domain is the default
    assert strict.predicted["power_wh_per_kg"] < loose.predicted["power_wh_per_kg"]
    impossible = inverse_design(shipped, "energy", 1000.0, verify=True, generations=10, surrogate=surrogate)
    assert not impossible.feasible and impossible.simulated is None
    assert "lower the floor" in impossible.summary()
