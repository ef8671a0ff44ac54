"""Analytic manufacturing model: process parameters -> electrode microstructure properties.

Replaces the CGMD/DEM simulation chain of Duquesnoy et al. (ESM 56 (2023) 50) with closed
forms fitted to the NMC111 experiments of Liu et al. (ESM 54 (2023) 156, SI Table S3); see
``docs/electrode.md``, with their sources.

Process parameters (the design variables of the paper):

- ``am``: active-material mass fraction of the dry solids (NMC), 0.86-0.96;
- ``sc``: solid content (mass fraction of solids) of the slurry, 0.40-0.71;
- ``cd``: calendering degree, the relative thickness reduction, 0-0.40.

Every coefficient lives in :class:`ManufacturingCoefficients`, documented as *calibrated*
(least-squares fit to Table S3) or *placeholder* (a plausible value that no data here pins
down). Override any of them with ``dataclasses.replace(DEFAULT_COEFFICIENTS, name=value)``.
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
}
PROCESS_NAMES = tuple(PROCESS_BOUNDS)
PROCESS_DESCRIPTIONS = {
    "am": "active-material mass fraction",
    "sc": "slurry solid content (mass fraction)",
    "cd": "calendering degree (relative thickness reduction)",
}


@dataclass(frozen=True)
class ManufacturingCoefficients:
    """Coefficients of the manufacturing model (SI units unless the name says otherwise)."""

    # --- composition (section 2.1 of the note) ---
    density_am: float = 4750.0  # kg/m3, NMC111 (literature value)
    density_cbd: float = 1850.0  # kg/m3, carbon black + PVdF 1:1 (placeholder ratio)
    density_solvent: float = 1030.0  # kg/m3, NMP

    # --- coating (2.2): fixed-gap doctor blade, so SC changes the loading ---
    wet_gap: float = 160e-6  # m, placeholder: gives 11/15/21 mg/cm2 at SC 0.45/0.55/0.65

    # --- drying porosity (2.3): eps_dry = ref + cbd_slope*(w_cbd - w_ref) + sc_slope*(sc - sc_ref)
    dry_porosity_ref: float = 0.53  # calibrated (Table S3)
    dry_porosity_cbd_slope: float = 0.8  # calibrated (Table S3)
    dry_porosity_sc_slope: float = -0.2  # PLACEHOLDER: SC and CBD are confounded in Table S3
    dry_porosity_cbd_ref: float = 0.10
    dry_porosity_sc_ref: float = 0.55

    # --- calendering (2.4): mass conservation plus a smooth compaction floor ---
    min_porosity: float = 0.22  # PLACEHOLDER: hard NMC jams / springs back (20-25 % typical)
    porosity_floor_width: float = 0.01  # PLACEHOLDER: softplus smoothing of the floor

    # --- tortuosity factor (2.5): tau = prefactor * eps^eps_exp * eps_cbd^cbd_exp ---
    tortuosity_prefactor: float = 2.98  # calibrated (Table S3, rms log error 0.10)
    tortuosity_porosity_exponent: float = -1.14  # calibrated
    tortuosity_cbd_exponent: float = 0.51  # calibrated

    # --- effective electronic conductivity (2.6), percolation in the CBD volume fraction:
    # sigma = floor + sigma0 * (eps_cbd - threshold)^exponent * exp(cd_gain * cd)
    conductivity_prefactor: float = 3.3  # S/m, calibrated (Table S3 with exponent 2, rms log 0.91)
    percolation_threshold: float = 0.048  # calibrated
    percolation_exponent: float = 2.0  # universal 3D exponent (Entwistle et al. 2022)
    conductivity_calendering_gain: float = 7.7  # calibrated: contact formation on calendering
    conductivity_floor: float = 1e-3  # S/m, PLACEHOLDER: avoids 1e-7 S/m at 96 wt% AM

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
    "loading": "kg/m2",
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
    loading: float  # kg/m2 of dry coating (AM + CBD)
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


def dry_porosity(am: float, sc: float, coeffs: ManufacturingCoefficients) -> float:
    """Porosity of the dried, uncalendered film (linear fit in CBD mass fraction and SC)."""
    return (
        coeffs.dry_porosity_ref
        + coeffs.dry_porosity_cbd_slope * ((1.0 - am) - coeffs.dry_porosity_cbd_ref)
        + coeffs.dry_porosity_sc_slope * (sc - coeffs.dry_porosity_sc_ref)
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


def effective_conductivity(cbd_fraction: float, cd: float, coeffs: ManufacturingCoefficients) -> float:
    """Percolation law in the electrode CBD volume fraction, enhanced by calendering contacts."""
    above_threshold = max(cbd_fraction - coeffs.percolation_threshold, 0.0)
    return coeffs.conductivity_floor + coeffs.conductivity_prefactor * above_threshold ** (
        coeffs.percolation_exponent
    ) * math.exp(coeffs.conductivity_calendering_gain * cd)


def exposed_area_fraction(am_fraction: float, cbd_fraction: float, coeffs: ManufacturingCoefficients) -> float:
    """Share of the AM surface not covered by CBD (electrochemically active)."""
    fraction = 1.0 - coeffs.cbd_coverage * cbd_fraction / am_fraction
    return min(max(fraction, coeffs.min_exposed_fraction), coeffs.max_exposed_fraction)


def manufacture(
    process: ProcessParameters, coeffs: ManufacturingCoefficients = DEFAULT_COEFFICIENTS
) -> ElectrodeProperties:
    """Slurry -> coating -> drying -> calendering; returns the electrode properties."""
    am, sc, cd = process.am, process.sc, process.cd
    phi_am, phi_cbd, solid_density = solid_phase_fractions(am, coeffs)
    slurry_density = 1.0 / (sc / solid_density + (1.0 - sc) / coeffs.density_solvent)
    loading = coeffs.wet_gap * slurry_density * sc
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
        loading=loading,
        am_volume_fraction=am_fraction,
        cbd_volume_fraction=cbd_fraction,
        solid_density=solid_density,
        coating_density=(1.0 - eps) * solid_density,
        tortuosity=tortuosity_factor(eps, cbd_fraction, coeffs),
        conductivity=effective_conductivity(cbd_fraction, achieved_cd, coeffs),
        exposed_area_fraction=exposed,
        active_surface=3.0 * am_fraction / coeffs.particle_radius * exposed,
        particle_radius=coeffs.particle_radius,
    )
