"""``surrogates.design``: inverse design meets the floor with its margin on two meshes."""

import pytest

from surrogates.dataset import SimulationConfig
from surrogates.design import inverse_design
from surrogates.p2d import P2DSettings

SMALL_MESH = SimulationConfig(p2d=P2DSettings(positive_points=8))


def test_inverse_design_meets_the_floor_with_margin_on_two_meshes_and_beats_a_stricter_one(shipped, surrogate):
    loose = inverse_design(
        shipped, "energy-3c", 230.0, verify=True, config=SMALL_MESH, generations=30, surrogate=surrogate
    )
    strict = inverse_design(shipped, "energy-3c", 234.0, verify=False, generations=30, surrogate=surrogate)
    # The margin is the surrogate's measured error on the floored objective.
    margin = surrogate.error_q95["energy_wh_per_kg"]
    assert 0 < margin < 0.05 and loose.margin == margin
    assert loose.feasible_predicted and loose.surrogate_floor == pytest.approx(230.0 * (1 + margin))
    assert loose.predicted["energy_wh_per_kg"] >= 230.0 * (1 + margin) - 1e-6
    # Verified: the floor holds in P2D on the dataset's mesh and on one twice as fine.
    assert loose.feasible and loose.status == loose.fine_status == "ok" and loose.fine_mesh_points == 16
    assert min(loose.simulated["energy_wh_per_kg"], loose.simulated_fine["energy_wh_per_kg"]) >= 230.0
    assert not loose.extrapolated and not strict.extrapolated  # the calibrated domain is the default
    assert strict.predicted["energy_3c_wh_per_kg"] < loose.predicted["energy_3c_wh_per_kg"]
    impossible = inverse_design(shipped, "energy", 1000.0, verify=True, generations=10, surrogate=surrogate)
    assert not impossible.feasible and impossible.simulated is None
    assert "lower the floor" in impossible.summary()


def test_the_former_objective_name_power_still_works_with_a_deprecation_warning(shipped, surrogate):
    with pytest.warns(DeprecationWarning, match="'power' is deprecated.*'energy-3c'"):
        result = inverse_design(shipped, "power", 230.0, verify=False, generations=5, surrogate=surrogate, margin=0.01)
    assert result.maximize == "energy-3c" and result.constrained == "energy"


def test_without_a_measured_error_the_margin_must_be_given(shipped):
    from hpo.errors import UserError
    from surrogates.models import Surrogate

    bare = Surrogate(shipped, {"energy_wh_per_kg": "kernel_ridge", "energy_3c_wh_per_kg": "kernel_ridge"})
    with pytest.raises(UserError, match="no measured error"):
        inverse_design(shipped, "energy", 150.0, verify=False, generations=5, surrogate=bare)
    assert (
        inverse_design(shipped, "energy", 150.0, verify=False, generations=5, surrogate=bare, margin=0.02).margin
        == 0.02
    )


def test_a_fixed_loading_holds_in_the_answer(shipped, surrogate):
    result = inverse_design(
        shipped, "energy-3c", 240.0, verify=False, generations=10, surrogate=surrogate, fixed={"loading": 20.0}
    )
    assert result.process["loading"] == 20.0 and result.feasible_predicted
    free = inverse_design(shipped, "energy-3c", 240.0, verify=False, generations=10, surrogate=surrogate)
    assert free.process["loading"] != 20.0
