"""P2D full cell: NMC111 capacity, anode sizing, build-once inputs vs rebuilt model, failure flags (small mesh)."""

import dataclasses
import math

import pytest

from surrogates.manufacturing import ProcessParameters, manufacture
from surrogates.p2d import FARADAY, P2DModel, P2DResult, P2DSettings

SMALL_MESH = P2DSettings(positive_points=8)


# Corners of the process box: porous and CBD-rich, mid-range, densest and AM-richest.
THIN_POROUS, MID_RANGE, THICK_DENSE = (0.86, 0.40, 0.0), (0.91, 0.55, 0.2), (0.96, 0.71, 0.40)


@pytest.fixture(scope="module")
def model():
    return P2DModel(SMALL_MESH)


FIELDS = ("energy_wh_per_kg", "energy_3c_wh_per_kg", "energy_capacity_mah_cm2")


@pytest.mark.parametrize("design", [THIN_POROUS, MID_RANGE, THICK_DENSE])
def test_nmc111_capacity_at_c_over_5(model, design):
    result = model.simulate(manufacture(ProcessParameters(*design)))
    assert result.status == "ok"
    assert 150.0 <= result.specific_capacity_mah_g <= 170.0  # NMC111 at 4.2-3.0 V (Shaju et al. 2002)
    print(f"{design}: {result.specific_capacity_mah_g:.1f} mAh/g NMC, {result.energy_wh_per_kg:.1f} Wh/kg stack")
    if design == THICK_DENSE:  # the densest design of the box: a realistic stack, not a Li-metal one
        assert 200.0 < result.energy_wh_per_kg < 300.0


def test_window_sits_on_the_cut_offs_and_the_anode_holds_np_times_the_cathode(model):
    pybamm = pytest.importorskip("pybamm")
    base = pybamm.ParameterValues(SMALL_MESH.parameter_set)
    window, stack = model.window, model.stack

    def ocv(positive, negative):
        u_p = base["Positive electrode OCP [V]"](pybamm.Scalar(positive)).evaluate()
        return float(u_p - base["Negative electrode OCP [V]"](pybamm.Scalar(negative)).evaluate())

    low = SMALL_MESH.negative_min_stoichiometry
    assert ocv(window.positive_charged, window.negative_charged) == pytest.approx(SMALL_MESH.upper_cutoff, abs=1e-6)
    assert ocv(window.positive_discharged, low) == pytest.approx(SMALL_MESH.lower_cutoff, abs=1e-6)
    props = manufacture(ProcessParameters(*MID_RANGE))
    result = model.simulate(props)
    anode = (
        FARADAY * window.negative_max_concentration * stack.negative_am_fraction * result.negative_thickness_um * 1e-6
    )
    assert anode / model.theoretical_capacity(props) == pytest.approx(stack.np_ratio, rel=1e-9)


@pytest.mark.parametrize("design", [THIN_POROUS, MID_RANGE, THICK_DENSE])
def test_input_parameters_equal_numeric_parameters_on_the_same_mesh(model, design):
    props = manufacture(ProcessParameters(*design))
    reused = model.simulate(props)
    rebuilt = P2DModel(SMALL_MESH, rebuild=True, rebuild_mesh="symbolic").simulate(props)
    for field in FIELDS:
        assert getattr(reused, field) == pytest.approx(getattr(rebuilt, field), rel=1e-4), field


@pytest.mark.parametrize("design", [THIN_POROUS, MID_RANGE, THICK_DENSE])
def test_input_parameter_model_matches_rebuilt_default_mesh_model(model, design):
    props = manufacture(ProcessParameters(*design))
    reused = model.simulate(props)
    rebuilt = P2DModel(SMALL_MESH, rebuild=True).simulate(props)
    assert reused.status == rebuilt.status == "ok"
    for field in FIELDS:
        assert getattr(reused, field) == pytest.approx(getattr(rebuilt, field), rel=0.01), field


def test_energy_3c_trade_off(model):
    # More AM and no calendering: more energy, but the sparse CBD network starves the 3C discharge.
    balanced = model.simulate(manufacture(ProcessParameters(0.88, 0.50, 0.10)))
    rich = model.simulate(manufacture(ProcessParameters(0.96, 0.69, 0.0)))
    assert rich.energy_wh_per_kg > balanced.energy_wh_per_kg
    assert rich.energy_3c_wh_per_kg < balanced.energy_3c_wh_per_kg
    assert 0 < rich.retention_3c < balanced.retention_3c < 1


def _scaled(props, factor):
    """The same coating ``factor`` times as thick (and heavy)."""
    return dataclasses.replace(
        props,
        thickness=props.thickness * factor,
        dry_thickness=props.dry_thickness * factor,
        coating_mass=props.coating_mass * factor,
        am_loading=props.am_loading * factor,
    )


def test_a_thick_dense_cathode_is_electrolyte_limited_at_3c_and_a_thin_porous_one_is_not(model):
    dense = _scaled(manufacture(ProcessParameters(*THICK_DENSE)), 2.0)  # 100 um at 22 % porosity
    porous = _scaled(manufacture(ProcessParameters(*THIN_POROUS)), 0.5)  # 56 um at 60 % porosity
    assert dense.thickness > 1.5 * porous.thickness and dense.porosity < 0.5 * porous.porosity
    thick, thin = model.simulate(dense), model.simulate(porous)
    assert thick.limited_by == "electrolyte depletion" and thick.electrolyte_min_fraction < 0.05
    assert thin.limited_by == "neither" and thin.electrolyte_min_fraction > 0.9
    assert thick.retention_3c < 0.1 < 0.7 < thin.retention_3c


def test_an_am_rich_uncalendered_cathode_is_limited_by_electronic_conduction(model):
    # the sparse CBD network: the collector side discharges, the separator side does not
    rich = model.simulate(manufacture(ProcessParameters(0.96, 0.69, 0.0)))
    assert rich.limited_by == "electronic conduction" and rich.utilization_spread > 0.3
    assert rich.electrolyte_min_fraction > 0.5


def test_invalid_volume_fractions_rejected_before_solving(model):
    props = manufacture(ProcessParameters(0.9, 0.55, 0.1))
    bad = dataclasses.replace(props, porosity=0.5, am_volume_fraction=0.7)
    result = model.simulate(bad)
    assert result.status == "invalid" and "sum" in result.reason
    assert math.isnan(result.energy_wh_per_kg) and math.isnan(result.solve_seconds)


def test_partial_solution_flagged_not_used():
    # Too short a time window: the discharge cannot reach the cut-off voltage.
    short = P2DModel(dataclasses.replace(SMALL_MESH, time_margin=0.1))
    result = short.simulate(manufacture(ProcessParameters(0.9, 0.55, 0.1)))
    assert result.status == "solver_failure"
    assert "ended with" in result.reason
    assert math.isnan(result.energy_wh_per_kg) and math.isnan(result.energy_3c_wh_per_kg)


def test_a_design_below_the_refinement_retention_gets_its_power_discharge_from_the_refined_mesh():
    props = manufacture(ProcessParameters(*MID_RANGE))
    coarse = SMALL_MESH.with_overrides(
        refine_below_retention=0.0, refined_positive_points=16, refined_particle_points=16
    )
    plain = P2DModel(coarse).simulate(props)
    # Every design is below a retention of 1.01, so its power-rate discharge is solved again.
    refined = P2DModel(coarse.with_overrides(refine_below_retention=1.01)).simulate(props)
    fine = P2DModel(coarse.refined()).simulate(props)
    assert not plain.refined_mesh and refined.refined_mesh and not fine.refined_mesh
    assert refined.energy_wh_per_kg == plain.energy_wh_per_kg  # the energy rate stays on the coarse mesh
    assert refined.energy_3c_wh_per_kg != plain.energy_3c_wh_per_kg
    assert refined.energy_3c_wh_per_kg == pytest.approx(fine.energy_3c_wh_per_kg, rel=1e-3)
    assert coarse.refined().positive_points == 16 and coarse.refined().particle_points == 16


def test_the_former_name_power_wh_per_kg_reads_the_3c_energy_with_a_deprecation_warning():
    result = P2DResult(status="ok", energy_3c_wh_per_kg=123.0)
    with pytest.warns(DeprecationWarning, match="'power_wh_per_kg' is deprecated.*energy delivered at 3C"):
        assert result.power_wh_per_kg == 123.0
