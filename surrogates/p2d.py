"""P2D (Doyle-Fuller-Newman) simulation of one NMC111 / graphite cell with PyBaMM, at the stack level.

The cell is the designed NMC111 cathode against a graphite anode sized by an N/P ratio from
the cathode's capacity (both electrodes, the separator and the electrolyte simulated, so the
anode's rate limits count). It is built and discretised **once** with the design-dependent
quantities as PyBaMM input parameters, then re-solved for each design. The x-domains use
``SymbolicUniform1DSubMesh`` so the thicknesses can be inputs (with only one domain symbolic,
IDA fails at t=0: note 3.3).

Chemistry (every value's source in :class:`P2DSettings`, :class:`StackCoefficients` and
``docs/electrode.md``): the electrolyte, the graphite and the kinetics are PyBaMM's
``Mohtat2020`` set (an NMC532 / graphite pouch cell, the built-in full cell closest to NMC111);
the positive open-circuit potential is Mohtat2020's NMC curve, and its stoichiometry window
is the one between the cell's cut-off voltages, with the maximum concentration set so that this
window holds the practical capacity of NMC111 (``positive_specific_capacity``, 165 mAh/g
between 4.2 and 3.0 V; Shaju et al., Electrochim. Acta 48 (2002) 145: 155-165 mAh/g).

Objectives are stack-level: the cell's discharge energy divided by the mass (or volume) of a
single-layer stack (cathode coating, anode coating, separator, electrolyte in every pore,
half of each current collector; :func:`stack_mass_and_thickness`). Two discharges per design:

- ``energy`` rate (C/5 of the cathode's window capacity): specific energy in Wh/kg and Wh/L;
- high rate (by default 3C of the capacity the design delivered at C/5): specific energy in
  Wh/kg delivered at that rate (``energy_3c_wh_per_kg``), the rate-capability objective. It is
  an energy, not a power; ``P2DResult.power_wh_per_kg`` remains as a deprecated alias.

A design whose volume fractions are inconsistent is rejected before solving; a solve that
does not end at the lower cut-off voltage is flagged with its reason (``status != "ok"``)
and its numbers are never reported as values.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from dataclasses import dataclass

import numpy as np

from surrogates.manufacturing import ElectrodeProperties

FARADAY = 96485.33212  # C/mol

#: PyBaMM parameter names driven per design (note 3.2).
POROSITY = "Positive electrode porosity"
AM_FRACTION = "Positive electrode active material volume fraction"
THICKNESS = "Positive electrode thickness [m]"
BRUGGEMAN_ELECTROLYTE = "Positive electrode Bruggeman coefficient (electrolyte)"
CONDUCTIVITY = "Positive electrode conductivity [S.m-1]"
EXPOSED_FRACTION = "Positive electrode exposed area fraction"  # our own input, scales j0
PARTICLE_RADIUS = "Positive particle radius [m]"
NEGATIVE_THICKNESS = "Negative electrode thickness [m]"
CURRENT = "Current function [A]"
DESIGN_INPUTS = (
    POROSITY,
    AM_FRACTION,
    THICKNESS,
    BRUGGEMAN_ELECTROLYTE,
    CONDUCTIVITY,
    PARTICLE_RADIUS,
    NEGATIVE_THICKNESS,
)

OBJECTIVE_COLUMNS = ("energy_wh_per_kg", "energy_3c_wh_per_kg")
#: Former names of result columns: the 3C objective is an energy delivered at 3C, not a power.
#: Reading a file with a former name renames it with a DeprecationWarning (``renamed_columns``).
DEPRECATED_COLUMNS = {
    "power_wh_per_kg": "energy_3c_wh_per_kg",
    "power_retention": "retention_3c",
    "power_capacity_mah_cm2": "capacity_3c_mah_cm2",
}


def deprecated_name(old: str, new: str) -> None:
    warnings.warn(
        f"{old!r} is deprecated and will be removed: use {new!r} (the energy delivered at 3C, not a power)",
        DeprecationWarning,
        stacklevel=3,
    )


def renamed_columns(columns) -> dict[str, str]:
    """``{former: current}`` for the deprecated names among ``columns``, each warned about once."""
    renames = {old: new for old, new in DEPRECATED_COLUMNS.items() if old in columns and new not in columns}
    for old, new in renames.items():
        deprecated_name(old, new)
    return renames


# What the end of a discharge says about what limited it (``limitation``).
DIAGNOSTIC_VARIABLES = (
    "Positive electrolyte concentration [mol.m-3]",
    "Positive particle surface stoichiometry",
    "R-averaged positive particle stoichiometry",
)
# Thresholds of ``limitation``'s label (stated choices, not measured constants): the
# electrolyte is depleted where it falls below a tenth of its initial concentration; a
# reaction front spans this much of the particles' mean stoichiometry across the cathode; a
# particle is diffusion-limited where its surface is this much more lithiated than its mean.
DEPLETED_FRACTION = 0.1
FRONT_SPREAD = 0.3
DIFFUSION_EXCESS = 0.3
LIMITATIONS = ("electrolyte depletion", "ionic transport", "electronic conduction", "solid diffusion", "neither")


def limitation(solution, initial_electrolyte: float) -> dict:
    """What limited a discharge, read from the cathode at its end (``solution`` of
    ``P2DModel._discharge``):

    * ``electrolyte_min_fraction``: the lowest electrolyte concentration across the cathode,
      over the initial one;
    * ``utilization_spread``: the range of the particles' mean stoichiometry across the
      cathode (a reaction front);
    * ``particle_surface_excess``: the largest surface-minus-mean stoichiometry of a particle;
    * ``limited_by`` (one of ``LIMITATIONS``): ``"electrolyte depletion"`` below
      ``DEPLETED_FRACTION``; else, with a front wider than ``FRONT_SPREAD``, ``"ionic
      transport"`` when the separator side discharged further and ``"electronic
      conduction"`` when the current-collector side did; else ``"solid diffusion"`` above
      ``DIFFUSION_EXCESS``; else ``"neither"`` (the cut-off came from the open-circuit
      voltage and the overpotentials)."""
    electrolyte = solution["Positive electrolyte concentration [mol.m-3]"].entries[:, -1]
    surface = solution["Positive particle surface stoichiometry"].entries[:, -1]
    mean = solution["R-averaged positive particle stoichiometry"].entries[:, -1]  # separator side first
    fraction = float(electrolyte.min() / initial_electrolyte)
    spread = float(np.ptp(mean))
    excess = float(np.max(surface - mean))
    if fraction < DEPLETED_FRACTION:
        label = "electrolyte depletion"
    elif spread > FRONT_SPREAD:
        label = "ionic transport" if mean[0] > mean[-1] else "electronic conduction"
    elif excess > DIFFUSION_EXCESS:
        label = "solid diffusion"
    else:
        label = "neither"
    return {
        "electrolyte_min_fraction": fraction,
        "particle_surface_excess": excess,
        "utilization_spread": spread,
        "limited_by": label,
    }


class InvalidDesign(ValueError):
    """Electrode properties that are physically inconsistent (rejected before solving)."""


@dataclass(frozen=True)
class P2DSettings:
    """Chemistry, mesh, solver and protocol settings (sources in the comments)."""

    parameter_set: str = "Mohtat2020"  # NMC532 / graphite (electrolyte, graphite, kinetics, NMC OCP)
    # Practical NMC111 capacity held by the positive window between the cut-offs (Shaju et al. 2002).
    positive_specific_capacity: float = 165.0  # mAh/g
    positive_density: float = 4750.0  # kg/m3, NMC111 (as ManufacturingCoefficients.density_am)
    # NMC111 solid diffusivity: 1e-14 is within the 1e-15..1e-13 m2/s literature spread (note
    # 3.1), a PLACEHOLDER; with R = 5 um, R^2/D = 2500 s, so electrode design matters at 3C.
    particle_diffusivity: float = 1e-14  # m2/s
    # Mesh (benchmarks/electrode/mesh.py): x points per domain and r points per particle. The
    # designed cathode carries the gradients; the thin separator and the anode need fewer.
    positive_points: int = 20
    separator_points: int = 5
    negative_points: int = 10
    particle_points: int = 8  # r in each positive particle
    negative_particle_points: int = 5
    # Poorly conducting designs form a sharp reaction front at 3C that this mesh under-resolves
    # (errors up to 11 %): below this 3C retention the 3C discharge is solved again on a refined
    # cathode mesh, built on first use. 0 turns the refinement off.
    refine_below_retention: float = 0.3
    refined_positive_points: int = 60
    refined_particle_points: int = 40
    # Note 3.4: the default 1e-4 gives sporadic IDA_CONV_FAIL at low sigma; 1e-5 failed on none
    # of 128 + 1024 designs and moves the objectives by < 2e-4 relative to 1e-6.
    rtol: float = 1e-5
    atol: float = 1e-7
    energy_c_rate: float = 0.2  # relative to the cathode's window capacity
    high_c_rate: float = 3.0  # relative to the capacity delivered at the energy rate
    upper_cutoff: float = 4.2  # V, full cell (charged state of the window)
    lower_cutoff: float = 3.0  # V, full cell
    negative_min_stoichiometry: float = 0.01  # graphite lithiation left at the end of discharge
    time_margin: float = 1.3  # simulate up to margin x nominal discharge time

    def with_overrides(self, **overrides) -> P2DSettings:
        return dataclasses.replace(self, **overrides)

    def refined(self) -> P2DSettings:
        """The settings of the refined 3C solve (never refined again)."""
        return self.with_overrides(
            positive_points=max(self.positive_points, self.refined_positive_points),
            particle_points=max(self.particle_points, self.refined_particle_points),
            refine_below_retention=0.0,
        )


@dataclass(frozen=True)
class StackCoefficients:
    """Anode sizing and the single-layer stack around the designed cathode."""

    separator_thickness: float = 12e-6  # m, simulated (Mohtat2020: 12 um)
    separator_porosity: float = 0.40  # Mohtat2020
    separator_density: float = 950.0  # kg/m3 polyolefin (literature)
    electrolyte_density: float = 1250.0  # kg/m3, 1 M LiPF6 in carbonates (literature)
    np_ratio: float = 1.15  # anode / cathode capacity (PLACEHOLDER in the usual 1.1-1.2)
    negative_porosity: float = 0.30  # Mohtat2020
    negative_am_fraction: float = 0.61  # Mohtat2020 (graphite volume fraction)
    graphite_density: float = 2240.0  # kg/m3 (literature)
    negative_binder_density: float = 1780.0  # kg/m3, PVdF for the rest of the anode solid (PLACEHOLDER)
    aluminium_thickness: float = 16e-6  # m, counted at half (double-sided coating)
    copper_thickness: float = 12e-6  # m, counted at half
    aluminium_density: float = 2700.0
    copper_density: float = 8960.0


@dataclass
class P2DResult:
    """Outcome of one design; values are NaN unless ``status == "ok"``."""

    status: str  # "ok", "invalid", "solver_failure"
    reason: str = ""
    theoretical_capacity_mah_cm2: float = math.nan  # the cathode's window capacity
    specific_capacity_mah_g: float = math.nan  # delivered at the energy rate, per g of NMC
    energy_capacity_mah_cm2: float = math.nan
    capacity_3c_mah_cm2: float = math.nan
    energy_wh_per_kg: float = math.nan
    energy_wh_per_l: float = math.nan
    energy_3c_wh_per_kg: float = math.nan
    retention_3c: float = math.nan  # energy at the high rate / energy at the energy rate
    refined_mesh: bool = False  # the high-rate discharge was solved on the refined mesh
    stack_mass_kg_m2: float = math.nan
    stack_thickness_um: float = math.nan
    negative_thickness_um: float = math.nan
    # What limited the high-rate discharge, at its end (``limitation``)
    electrolyte_min_fraction: float = math.nan
    particle_surface_excess: float = math.nan
    utilization_spread: float = math.nan
    limited_by: str = ""
    solve_seconds: float = math.nan

    @property
    def power_wh_per_kg(self) -> float:
        """Deprecated name of ``energy_3c_wh_per_kg``."""
        deprecated_name("power_wh_per_kg", "energy_3c_wh_per_kg")
        return self.energy_3c_wh_per_kg

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def check_properties(props: ElectrodeProperties) -> None:
    """Reject designs the solver would run silently but which are unphysical (note 3.4)."""
    checks = [
        ("porosity", props.porosity, 0.0 < props.porosity < 1.0, "in (0, 1)"),
        ("am_volume_fraction", props.am_volume_fraction, 0.0 < props.am_volume_fraction < 1.0, "in (0, 1)"),
        ("cbd_volume_fraction", props.cbd_volume_fraction, 0.0 <= props.cbd_volume_fraction < 1.0, "in [0, 1)"),
        ("thickness", props.thickness, 1e-6 < props.thickness < 1e-3, "in (1 um, 1 mm)"),
        ("particle_radius", props.particle_radius, 1e-8 < props.particle_radius < 1e-4, "in (10 nm, 100 um)"),
        ("tortuosity", props.tortuosity, props.tortuosity >= 1.0, ">= 1"),
        ("conductivity", props.conductivity, props.conductivity > 0.0, "> 0"),
        ("exposed_area_fraction", props.exposed_area_fraction, 0.0 < props.exposed_area_fraction <= 1.0, "in (0, 1]"),
    ]
    for name, value, ok, allowed in checks:
        if not (ok and math.isfinite(value)):
            raise InvalidDesign(f"{name} = {value:.4g} must be {allowed}")
    total = props.porosity + props.am_volume_fraction + props.cbd_volume_fraction
    if total > 1.0 + 1e-9:
        raise InvalidDesign(f"volume fractions sum to {total:.4f} > 1 (porosity + AM + CBD)")


def negative_thickness(window_capacity: float, negative_max_concentration: float, stack: StackCoefficients) -> float:
    """Anode thickness (m) holding ``np_ratio`` times the cathode's window capacity (C/m2)."""
    return stack.np_ratio * window_capacity / (FARADAY * negative_max_concentration * stack.negative_am_fraction)


def stack_mass_and_thickness(
    props: ElectrodeProperties, anode_thickness: float, stack: StackCoefficients
) -> tuple[float, float]:
    """Areal mass (kg/m2) and thickness (m) of the single-layer stack."""
    binder_fraction = 1.0 - stack.negative_porosity - stack.negative_am_fraction
    anode_mass = anode_thickness * (
        stack.negative_am_fraction * stack.graphite_density + binder_fraction * stack.negative_binder_density
    )
    pore_volume = (
        props.porosity * props.thickness
        + stack.separator_porosity * stack.separator_thickness
        + stack.negative_porosity * anode_thickness
    )
    mass = (
        props.coating_mass
        + anode_mass
        + stack.separator_density * (1.0 - stack.separator_porosity) * stack.separator_thickness
        + stack.electrolyte_density * pore_volume
        + 0.5 * stack.aluminium_density * stack.aluminium_thickness
        + 0.5 * stack.copper_density * stack.copper_thickness
    )
    thickness = (
        props.thickness
        + anode_thickness
        + stack.separator_thickness
        + 0.5 * (stack.aluminium_thickness + stack.copper_thickness)
    )
    return mass, thickness


class P2DModel:
    """A DFN full cell built once; :meth:`simulate` re-solves it for one cathode design.

    ``rebuild=True`` builds a fresh model with numeric design parameters and PyBaMM's
    default (regular) meshes for every design (the current stays an input, so both rates
    share that build): the slow reference the input-parameter model is validated and
    benchmarked against. ``rebuild_mesh="symbolic"`` rebuilds on the same symbolic meshes
    as the input-parameter model, isolating the input mechanism from the mesh type.
    """

    def __init__(
        self,
        settings: P2DSettings = P2DSettings(),
        stack: StackCoefficients = StackCoefficients(),
        rebuild: bool = False,
        rebuild_mesh: str = "regular",
    ) -> None:
        import pybamm

        self._pybamm = pybamm
        self.settings = settings
        self.stack = stack
        self.rebuild = rebuild
        if rebuild_mesh not in ("regular", "symbolic"):
            raise ValueError(f"rebuild_mesh must be 'regular' or 'symbolic', got {rebuild_mesh!r}")
        self.rebuild_mesh = rebuild_mesh
        self._model = pybamm.lithium_ion.DFN({"calculate discharge energy": "true"})
        base = pybamm.ParameterValues(settings.parameter_set)
        self._electrode_area = base["Electrode height [m]"] * base["Electrode width [m]"]
        self.window = stoichiometry_window(base, settings, stack)
        self._base_parameters = base
        self._initial_electrolyte = float(base["Initial concentration in electrolyte [mol.m-3]"])
        self._simulation = None if rebuild else self._make_simulation(inputs=None)
        self._refined_model: P2DModel | None = None

    # -- construction -------------------------------------------------------------------
    def _parameter_values(self, inputs: dict | None):
        """Parameter values with the design quantities as inputs (``None``) or numbers."""
        pybamm = self._pybamm
        values = self._base_parameters.copy()
        exchange_current = values["Positive electrode exchange-current density [A.m-2]"]
        exposed = pybamm.InputParameter(EXPOSED_FRACTION) if inputs is None else inputs[EXPOSED_FRACTION]

        # Only the exposed (not CBD-covered) AM surface reacts: scale j0 (note 2.7).
        def scaled_exchange_current(c_e, c_s_surf, c_s_max, T):
            return exchange_current(c_e, c_s_surf, c_s_max, T) * exposed

        window = self.window
        values.update(
            {
                "Positive electrode exchange-current density [A.m-2]": scaled_exchange_current,
                "Positive particle diffusivity [m2.s-1]": self.settings.particle_diffusivity,
                "Maximum concentration in positive electrode [mol.m-3]": window.positive_max_concentration,
                "Initial concentration in positive electrode [mol.m-3]": window.positive_initial_concentration,
                "Initial concentration in negative electrode [mol.m-3]": window.negative_initial_concentration,
                "Negative electrode porosity": self.stack.negative_porosity,
                "Negative electrode active material volume fraction": self.stack.negative_am_fraction,
                # sigma is passed as the effective conductivity, so no Bruggeman correction.
                "Positive electrode Bruggeman coefficient (electrode)": 0.0,
                "Separator thickness [m]": self.stack.separator_thickness,
                "Separator porosity": self.stack.separator_porosity,
                # The discharge starts at the upper cut-off: leave room so no event fires at t=0.
                "Upper voltage cut-off [V]": self.settings.upper_cutoff + 0.1,
                "Lower voltage cut-off [V]": self.settings.lower_cutoff,
            }
        )
        # The current stays an input even when rebuilding, so one build serves both rates.
        values[CURRENT] = "[input]"
        if inputs is None:
            values.update({name: "[input]" for name in DESIGN_INPUTS})
        else:
            values.update({name: inputs[name] for name in DESIGN_INPUTS})
        return values

    def _make_simulation(self, inputs: dict | None):
        pybamm = self._pybamm
        submesh_types = dict(self._model.default_submesh_types)
        if inputs is None or self.rebuild_mesh == "symbolic":
            # Thicknesses and radius as inputs need symbolic meshes on every domain (note 3.3).
            for domain in ("negative electrode", "separator", "positive electrode", "positive particle"):
                submesh_types[domain] = pybamm.SymbolicUniform1DSubMesh
        var_pts = dict(self._model.default_var_pts)
        mesh = self.settings
        var_pts.update(
            {
                "x_n": mesh.negative_points,
                "x_s": mesh.separator_points,
                "x_p": mesh.positive_points,
                "r_n": mesh.negative_particle_points,
                "r_p": mesh.particle_points,
            }
        )
        solver = pybamm.IDAKLUSolver(
            rtol=self.settings.rtol,
            atol=self.settings.atol,
            on_failure="warn",
            output_variables=[
                "Voltage [V]",
                "Discharge energy [W.h]",
                "Discharge capacity [A.h]",
                *DIAGNOSTIC_VARIABLES,
            ],
        )
        return pybamm.Simulation(
            self._model,
            parameter_values=self._parameter_values(inputs),
            submesh_types=submesh_types,
            var_pts=var_pts,
            solver=solver,
        )

    # -- solving ----------------------------------------------------------------------------
    def theoretical_capacity(self, props: ElectrodeProperties) -> float:
        """The cathode's window capacity (C/m2): its NMC mass times the practical capacity."""
        return props.am_loading * self.settings.positive_specific_capacity * 3.6e3  # mAh/g -> C/kg

    def _design_inputs(self, props: ElectrodeProperties) -> dict:
        return {
            POROSITY: props.porosity,
            AM_FRACTION: props.am_volume_fraction,
            THICKNESS: props.thickness,
            BRUGGEMAN_ELECTROLYTE: props.bruggeman_exponent,
            CONDUCTIVITY: props.conductivity,
            PARTICLE_RADIUS: props.particle_radius,
            EXPOSED_FRACTION: props.exposed_area_fraction,
            NEGATIVE_THICKNESS: negative_thickness(
                self.theoretical_capacity(props), self.window.negative_max_concentration, self.stack
            ),
        }

    def _discharge(self, simulation, inputs: dict, current: float, c_rate: float):
        """One constant-current discharge; returns (capacity Ah, energy Wh, solution) or raises."""
        t_end = self.settings.time_margin * 3600.0 / c_rate
        solution = simulation.solve([0.0, t_end], inputs={**inputs, CURRENT: current})
        # Only a discharge that reached the cut-off voltage is a complete answer.
        if solution.termination != "event: Minimum voltage [V]":
            raise _SolveIncomplete(
                f"discharge at {c_rate:g}C ended with '{solution.termination}' at "
                f"t={solution.t[-1]:.0f}s of {t_end:.0f}s"
            )
        capacity = float(solution["Discharge capacity [A.h]"].entries[-1])
        energy = float(solution["Discharge energy [W.h]"].entries[-1])
        return capacity, energy, solution

    def _refined_high_rate_discharge(self, design: dict, current: float):
        """The high-rate discharge again on the refined mesh (the model is built on first use)."""
        if self._refined_model is None:
            self._refined_model = P2DModel(
                self.settings.refined(), self.stack, rebuild=self.rebuild, rebuild_mesh=self.rebuild_mesh
            )
        refined = self._refined_model
        if refined.rebuild:
            simulation, inputs = refined._make_simulation(design), {}
        else:
            simulation, inputs = refined._simulation, design
        return refined._discharge(simulation, inputs, current, c_rate=self.settings.high_c_rate)

    def simulate(self, props: ElectrodeProperties) -> P2DResult:
        """Energy- and high-rate discharges of one design; never raises for a bad design."""
        try:
            check_properties(props)
        except InvalidDesign as err:
            return P2DResult(status="invalid", reason=str(err))
        started = time.perf_counter()
        area = self._electrode_area
        theoretical = self.theoretical_capacity(props)  # C/m2
        energy_rate = self.settings.energy_c_rate
        design = self._design_inputs(props)
        if self.rebuild:
            # Reference path: a new model with numeric design values (see rebuild_mesh).
            simulation, inputs = self._make_simulation(design), {}
        else:
            simulation, inputs = self._simulation, design
        try:
            low_capacity, low_energy, _ = self._discharge(
                simulation, inputs, energy_rate * theoretical * area / 3600.0, c_rate=energy_rate
            )
            # The high rate refers to what the design actually delivers (a practical C-rate).
            high_rate = self.settings.high_c_rate
            high_capacity, high_energy, end = self._discharge(
                simulation, inputs, high_rate * low_capacity, c_rate=high_rate
            )
            refined = low_energy > 0 and high_energy < self.settings.refine_below_retention * low_energy
            if refined:
                high_capacity, high_energy, end = self._refined_high_rate_discharge(design, high_rate * low_capacity)
        except _SolveIncomplete as err:
            return P2DResult(status="solver_failure", reason=str(err))
        except self._pybamm.SolverError as err:
            return P2DResult(status="solver_failure", reason=f"SolverError: {_one_line(err)}")
        anode = design[NEGATIVE_THICKNESS]
        mass, thickness = stack_mass_and_thickness(props, anode, self.stack)
        per_area = 1.0 / area
        return P2DResult(
            status="ok",
            theoretical_capacity_mah_cm2=theoretical / 3.6 / 1e4,  # C/m2 -> mAh/cm2
            specific_capacity_mah_g=low_capacity * per_area * 1e3 / (props.am_loading * 1e3),  # mAh / g NMC
            energy_capacity_mah_cm2=low_capacity * per_area * 1e3 / 1e4,
            capacity_3c_mah_cm2=high_capacity * per_area * 1e3 / 1e4,
            energy_wh_per_kg=low_energy * per_area / mass,
            energy_wh_per_l=low_energy * per_area / thickness / 1e3,
            energy_3c_wh_per_kg=high_energy * per_area / mass,
            retention_3c=high_energy / low_energy if low_energy > 0 else math.nan,
            refined_mesh=refined,
            stack_mass_kg_m2=mass,
            stack_thickness_um=thickness * 1e6,
            negative_thickness_um=anode * 1e6,
            **limitation(end, self._initial_electrolyte),
            solve_seconds=time.perf_counter() - started,
        )


@dataclass(frozen=True)
class StoichiometryWindow:
    """Concentrations that put the cell's open-circuit window on its cut-off voltages."""

    positive_charged: float  # stoichiometry at the upper cut-off
    positive_discharged: float  # stoichiometry at the lower cut-off
    positive_max_concentration: float  # mol/m3
    negative_max_concentration: float  # mol/m3
    negative_charged: float

    @property
    def positive_initial_concentration(self) -> float:
        return self.positive_charged * self.positive_max_concentration

    @property
    def negative_initial_concentration(self) -> float:
        return self.negative_charged * self.negative_max_concentration


def stoichiometry_window(base, settings: P2DSettings, stack: StackCoefficients) -> StoichiometryWindow:
    """The positive window between the cut-offs, its maximum concentration, and the anode's start.

    The anode holds ``np_ratio`` times the cathode's window, so over the discharge it goes from
    ``min + 1/np_ratio`` to ``min`` lithiation; the positive end points are where the open-circuit
    cell voltage equals the cut-offs with the anode at those end points. The maximum
    concentration then makes the window hold ``positive_specific_capacity`` per gram of NMC.
    """
    from scipy.optimize import brentq

    positive_ocp = _scalar_function(base["Positive electrode OCP [V]"])
    negative_ocp = _scalar_function(base["Negative electrode OCP [V]"])
    low = settings.negative_min_stoichiometry
    high = low + 1.0 / stack.np_ratio
    if not 0.0 < low < high < 1.0:
        raise ValueError(f"anode window {low:.3f}-{high:.3f} must lie in (0, 1): check np_ratio")
    charged = brentq(lambda x: positive_ocp(x) - negative_ocp(high) - settings.upper_cutoff, 1e-4, 0.9)
    discharged = brentq(lambda x: positive_ocp(x) - negative_ocp(low) - settings.lower_cutoff, charged, 1.0)
    capacity = settings.positive_specific_capacity * 3.6e3  # mAh/g -> C/kg
    max_concentration = capacity * settings.positive_density / (FARADAY * (discharged - charged))
    return StoichiometryWindow(
        positive_charged=charged,
        positive_discharged=discharged,
        positive_max_concentration=max_concentration,
        negative_max_concentration=float(base["Maximum concentration in negative electrode [mol.m-3]"]),
        negative_charged=high,
    )


def _scalar_function(function):
    import pybamm

    return lambda x: float(function(pybamm.Scalar(x)).evaluate())


class _SolveIncomplete(RuntimeError):
    """The solver returned a partial solution (did not reach the cut-off)."""


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())[:300]
