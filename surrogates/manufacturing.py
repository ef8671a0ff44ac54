"""Analytic manufacturing model: process parameters -> electrode microstructure properties.

Replaces the CGMD/DEM simulation chain of Duquesnoy et al. (ESM 56 (2023) 50) with closed
forms fitted to the NMC111 experiments of Liu et al. (ESM 54 (2023) 156, SI Table S3); see
``docs/electrode.md``, with their sources.

Process parameters (the design variables of the paper):

- ``am``: active-material mass fraction of the dry solids (NMC), 0.86-0.96;
- ``sc``: solid content (mass fraction of solids) of the slurry, 0.40-0.71;
- ``cd``: calendering degree, the relative thickness reduction, 0-0.40;
- ``loading``: areal loading of the dry coating in mg/cm2, 10-40 (a stated fourth variable,
  not one of the paper's: at a fixed loading the box holds no energy-for-rate trade-off).

Every coefficient lives in :class:`ManufacturingCoefficients`, documented as *calibrated*
(least-squares fit to Table S3, done by :mod:`surrogates.calibration`) or *placeholder* (a
plausible value that no data here pins down). Override any of them with
``DEFAULT_COEFFICIENTS.with_overrides(name=value)``.

The coating is made at a set areal loading, as in the experiments (about constant while SC
goes 46 -> 67 wt %): SC then acts through the dry porosity, so the dry thickness falls as SC
rises, as measured (121.6 -> 77.8 um). The loading's default is Table S3's mean,
:data:`CALIBRATION_LOADING`; the microstructure relations were measured at 15.5-18.9 mg/cm2
and are assumed not to depend on it (an assumption: thicker coatings can dry differently).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from hpo.errors import UserError

#: Allowed range of each process parameter (the paper's design space, Fig. 2 axes).
PROCESS_BOUNDS: dict[str, tuple[float, float]] = {
    "am": (0.86, 0.96),
    "sc": (0.40, 0.71),
    "cd": (0.0, 0.40),
    "loading": (10.0, 40.0),
}
#: Table S3's mean areal loading of dry coating, mg/cm2 (mean (1-eps) rho_solid L over its rows).
CALIBRATION_LOADING = 17.467
PROCESS_NAMES = tuple(PROCESS_BOUNDS)
PROCESS_DESCRIPTIONS = {
    "am": "active-material mass fraction",
    "sc": "slurry solid content (mass fraction)",
    "cd": "calendering degree (relative thickness reduction)",
    "loading": "areal loading of the dry coating [mg/cm2]",
}


@dataclass(frozen=True)
class ManufacturingCoefficients:
    """Coefficients of the manufacturing model (SI units unless the name says otherwise)."""

    # --- composition (section 2.1 of the note) ---
    density_am: float = 4750.0  # kg/m3, NMC111 (literature value)
    density_cbd: float = 1850.0  # kg/m3, carbon black + PVdF 1:1 (placeholder ratio)

    # --- drying porosity (2.3): eps_dry = ref + cbd_slope*(w_cbd - cbd_ref) + sc_slope*(sc - sc_line(am))
    dry_porosity_ref: float = 0.5513  # calibrated (Table S3, dry porosity implied by each row)
    dry_porosity_cbd_slope: float = 0.8733  # calibrated
    dry_porosity_cbd_ref: float = 0.10
    # SC rose with AM in Table S3 (sc_line: 46/55/67 wt % at 85/90/95), so the SC effect on its
    # own is not identifiable: it acts only off that line. PLACEHOLDER sign and size: a denser
    # slurry packs denser on drying.
    dry_porosity_sc_slope: float = -0.2
    sc_line_intercept: float = 0.56  # calibrated: SC of Table S3 at AM 0.90 (least squares)
    sc_line_slope: float = 2.1  # calibrated: d SC / d AM along Table S3

    # --- calendering (2.4): mass conservation plus a smooth compaction floor ---
    min_porosity: float = 0.22  # PLACEHOLDER: hard NMC jams / springs back (20-25 % typical)
    porosity_floor_width: float = 0.01  # PLACEHOLDER: softplus smoothing of the floor

    # --- tortuosity factor (2.5): tau = prefactor * eps^eps_exp * eps_cbd^cbd_exp ---
    tortuosity_prefactor: float = 2.9755  # calibrated (Table S3, rms log error 0.10)
    tortuosity_porosity_exponent: float = -1.1443  # calibrated
    tortuosity_cbd_exponent: float = 0.5076  # calibrated

    # --- effective electronic conductivity (2.6), percolation in the CBD volume fraction with a
    # composition-dependent calendering gain (at 95 wt % AM sigma stays flat under calendering):
    # raw = sigma0 * (eps_cbd - threshold)^exponent * exp((gain + gain_slope*(w_cbd - cbd_ref)) * cd)
    # sigma = floor + 1 / (1/raw + 1/ceiling)
    conductivity_prefactor: float = 3.9886  # S/m, calibrated (Table S3, rms log 0.46)
    percolation_threshold: float = 0.06728  # calibrated
    percolation_exponent: float = 2.0  # universal 3D exponent (Entwistle et al. 2022)
    conductivity_calendering_gain: float = 12.947  # calibrated: contact formation at 90 wt % AM
    conductivity_gain_cbd_slope: float = 46.697  # calibrated: more CBD, more contacts per CD
    conductivity_floor: float = 1e-3  # S/m, PLACEHOLDER: AM-AM contacts (measured 7.4e-4 to 1.6e-3 at 95 wt %)
    conductivity_ceiling: float = 2.0  # S/m, PLACEHOLDER: a CBD network conducts at most this

    # --- active surface (2.7): exposed fraction = 1 - coverage * eps_cbd/eps_am, clipped ---
    particle_radius: float = 5e-6  # m, NMC111 primary/secondary compromise (literature)
    cbd_coverage: float = 2.0  # PLACEHOLDER
    min_exposed_fraction: float = 0.2  # PLACEHOLDER clip
    max_exposed_fraction: float = 1.0

    def with_overrides(self, **overrides: float) -> ManufacturingCoefficients:
        """A copy with some coefficients replaced; unknown names raise :class:`UserError`."""
        known = {field.name for field in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise UserError(f"unknown manufacturing coefficient(s) {unknown}; known: {sorted(known)}")
        return dataclasses.replace(self, **{k: float(v) for k, v in overrides.items()})


DEFAULT_COEFFICIENTS = ManufacturingCoefficients()


@dataclass(frozen=True)
class ProcessParameters:
    """One manufacturing recipe; construction validates the ranges."""

    am: float
    sc: float
    cd: float
    loading: float = CALIBRATION_LOADING  # mg/cm2

    def __post_init__(self) -> None:
        for name in PROCESS_NAMES:
            check_process_value(name, getattr(self, name))

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in PROCESS_NAMES}


def check_process_value(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise :class:`UserError` naming the parameter and range."""
    low, high = PROCESS_BOUNDS[name]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(
            f"{name} ({PROCESS_DESCRIPTIONS[name]}) must be a number in [{low}, {high}], got {value!r}"
        ) from None
    # A tiny tolerance so that bounds written with rounding (0.4000000001) still pass.
    if not math.isfinite(number) or not (low - 1e-12 <= number <= high + 1e-12):
        raise UserError(f"{name} ({PROCESS_DESCRIPTIONS[name]}) = {value} is outside the allowed range [{low}, {high}]")
    return number


#: Units of the :class:`ElectrodeProperties` fields (SI; fractions are dimensionless).
PROPERTY_UNITS = {
    "dry_thickness": "m",
    "thickness": "m",
    "coating_mass": "kg/m2",
    "am_loading": "kg/m2",
    "solid_density": "kg/m3",
    "coating_density": "kg/m3",
    "conductivity": "S/m",
    "active_surface": "m2/m3",
    "particle_radius": "m",
}


@dataclass(frozen=True)
class ElectrodeProperties:
    """Microstructure of one calendered cathode coating (SI units)."""

    dry_porosity: float
    porosity: float
    dry_thickness: float  # m
    thickness: float  # m, after calendering and spring-back
    coating_mass: float  # kg/m2 of dry coating (AM + CBD): the process parameter ``loading`` in SI
    am_loading: float  # kg/m2 of active material
    am_volume_fraction: float  # of the electrode (solid + pores)
    cbd_volume_fraction: float  # of the electrode
    solid_density: float  # kg/m3
    coating_density: float  # kg/m3, (1 - porosity) * solid density
    tortuosity: float  # electrolyte tortuosity factor tau = eps D / D_eff
    conductivity: float  # S/m, effective electronic conductivity
    exposed_area_fraction: float  # share of AM surface in contact with electrolyte
    active_surface: float  # m2/m3, exposed AM surface per electrode volume
    particle_radius: float  # m

    @property
    def bruggeman_exponent(self) -> float:
        """Exponent b with eps^b = eps/tau, the form PyBaMM's Bruggeman option takes."""
        return 1.0 - math.log(self.tortuosity) / math.log(self.porosity)

    def as_dict(self) -> dict[str, float]:
        values = dataclasses.asdict(self)
        values["bruggeman_exponent"] = self.bruggeman_exponent
        return values


def solid_phase_fractions(am: float, coeffs: ManufacturingCoefficients) -> tuple[float, float, float]:
    """Volume fractions of AM and CBD within the solid phase, and the solid density."""
    volume_am = am / coeffs.density_am
    volume_cbd = (1.0 - am) / coeffs.density_cbd
    total = volume_am + volume_cbd
    return volume_am / total, volume_cbd / total, 1.0 / total


def calibration_line_sc(am: float, coeffs: ManufacturingCoefficients = DEFAULT_COEFFICIENTS) -> float:
    """The solid content Table S3 used at this AM fraction (its SC rose with AM)."""
    return coeffs.sc_line_intercept + coeffs.sc_line_slope * (am - 0.90)


def dry_porosity(am: float, sc: float, coeffs: ManufacturingCoefficients) -> float:
    """Porosity of the dried, uncalendered film: calibrated in the CBD mass fraction along the
    table's SC-AM line; the SC effect off that line is the placeholder ``dry_porosity_sc_slope``."""
    return (
        coeffs.dry_porosity_ref
        + coeffs.dry_porosity_cbd_slope * ((1.0 - am) - coeffs.dry_porosity_cbd_ref)
        + coeffs.dry_porosity_sc_slope * (sc - calibration_line_sc(am, coeffs))
    )


def calendered_porosity(eps_dry: float, cd: float) -> float:
    """Porosity after calendering by relative thickness reduction ``cd`` (mass conservation).

    No lateral spreading (foil elongation ~1 %), so the solid volume is conserved:
    ``(1 - eps) L = (1 - eps_dry) L_dry`` with ``L = (1 - cd) L_dry``.
    """
    return 1.0 - (1.0 - eps_dry) / (1.0 - cd)


def floored_porosity(eps: float, coeffs: ManufacturingCoefficients) -> float:
    """Apply the compaction floor smoothly (softplus), so optimizers see no kink."""
    width = coeffs.porosity_floor_width
    excess = (eps - coeffs.min_porosity) / width
    # log1p(exp(x)) overflows for large x; it equals x + log1p(exp(-x)).
    softplus = excess + math.log1p(math.exp(-excess)) if excess > 0 else math.log1p(math.exp(excess))
    return coeffs.min_porosity + width * softplus


def tortuosity_factor(porosity: float, cbd_fraction: float, coeffs: ManufacturingCoefficients) -> float:
    """Electrolyte tortuosity factor; CBD blocks pores, so it raises tau beyond Bruggeman."""
    return (
        coeffs.tortuosity_prefactor
        * porosity**coeffs.tortuosity_porosity_exponent
        * cbd_fraction**coeffs.tortuosity_cbd_exponent
    )


def conductivity_law(
    cbd_fraction: float, cbd_mass_fraction: float, cd: float, coeffs: ManufacturingCoefficients
) -> float:
    """Percolation law in the electrode CBD volume fraction, enhanced by calendering contacts
    with a gain that grows with the CBD content, saturating at the ceiling."""
    above_threshold = max(cbd_fraction - coeffs.percolation_threshold, 0.0)
    gain = coeffs.conductivity_calendering_gain + coeffs.conductivity_gain_cbd_slope * (
        cbd_mass_fraction - coeffs.dry_porosity_cbd_ref
    )
    network = coeffs.conductivity_prefactor * above_threshold**coeffs.percolation_exponent * math.exp(gain * cd)
    if network <= 0.0:
        return coeffs.conductivity_floor
    return coeffs.conductivity_floor + 1.0 / (1.0 / network + 1.0 / coeffs.conductivity_ceiling)


def exposed_area_fraction(am_fraction: float, cbd_fraction: float, coeffs: ManufacturingCoefficients) -> float:
    """Share of the AM surface not covered by CBD (electrochemically active)."""
    fraction = 1.0 - coeffs.cbd_coverage * cbd_fraction / am_fraction
    return min(max(fraction, coeffs.min_exposed_fraction), coeffs.max_exposed_fraction)


def manufacture(
    process: ProcessParameters, coeffs: ManufacturingCoefficients = DEFAULT_COEFFICIENTS
) -> ElectrodeProperties:
    """Slurry -> coating -> drying -> calendering; returns the electrode properties."""
    return microstructure(process.am, process.sc, process.cd, loading=process.loading, coeffs=coeffs)


def microstructure(
    am: float, sc: float, cd: float, *, loading: float = CALIBRATION_LOADING, coeffs: ManufacturingCoefficients
) -> ElectrodeProperties:
    """:func:`manufacture` without the range check (the calibration data reach 85 wt % AM);
    ``loading`` in mg/cm2."""
    phi_am, phi_cbd, solid_density = solid_phase_fractions(am, coeffs)
    loading = loading * 1e-2  # mg/cm2 -> kg/m2
    eps_dry = dry_porosity(am, sc, coeffs)
    dry_thickness = loading / (solid_density * (1.0 - eps_dry))
    eps = floored_porosity(calendered_porosity(eps_dry, cd), coeffs)
    # Thickness from conserved solid volume, so a floored porosity means spring-back.
    thickness = dry_thickness * (1.0 - eps_dry) / (1.0 - eps)
    # Contacts form with the compaction actually achieved: past the floor, pressing harder
    # springs back and adds no conductivity (equals cd when the floor is inactive).
    achieved_cd = 1.0 - thickness / dry_thickness
    am_fraction = (1.0 - eps) * phi_am
    cbd_fraction = (1.0 - eps) * phi_cbd
    exposed = exposed_area_fraction(am_fraction, cbd_fraction, coeffs)
    return ElectrodeProperties(
        dry_porosity=eps_dry,
        porosity=eps,
        dry_thickness=dry_thickness,
        thickness=thickness,
        coating_mass=loading,
        am_loading=loading * am,
        am_volume_fraction=am_fraction,
        cbd_volume_fraction=cbd_fraction,
        solid_density=solid_density,
        coating_density=(1.0 - eps) * solid_density,
        tortuosity=tortuosity_factor(eps, cbd_fraction, coeffs),
        conductivity=conductivity_law(cbd_fraction, 1.0 - am, achieved_cd, coeffs=coeffs),
        exposed_area_fraction=exposed,
        active_surface=3.0 * am_fraction / coeffs.particle_radius * exposed,
        particle_radius=coeffs.particle_radius,
    )
