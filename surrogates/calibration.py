"""Calibration of the manufacturing relations on Table S3, their bootstrap, and their domain.

The data are the nine NMC111 electrodes of Liu et al., ESM 54 (2023) 156-163 (SI Table S3 as
reproduced in Duquesnoy et al., ESM 56 (2023) 50): three compositions, each uncalendered and
calendered by 10 and 20 %, at about constant loading. Everything the manufacturing model calls
*calibrated* is fitted here:

- dry porosity: ``eps_dry = a + b (w_CBD - 0.10)`` on the dry porosity each electrode implies
  (``1 - (1 - eps)(1 - CD)``, exact by mass conservation); SC rises with AM in the table
  (46/55/67 wt %), so its own effect is not identifiable and acts only off that line;
- tortuosity factor: ``tau = A eps^p eps_CBD^q`` (log-linear least squares);
- electronic conductivity: a percolation law whose calendering gain depends on the
  composition, because at 95 wt % AM the measured sigma stays flat under calendering;
- the areal loading implied by each row, ``(1 - eps) rho_solid L``.

:func:`bootstrap_coefficients` refits on rows resampled with replacement, giving an ensemble
of coefficient sets whose spread is the fit uncertainty. :class:`CalibratedDomain` says
whether a design lies where the data are: inside the convex hull of the nine electrodes in
(porosity, CBD volume fraction, calendering degree), and with SC near the table's SC-AM line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from surrogates.manufacturing import (
    DEFAULT_COEFFICIENTS,
    ElectrodeProperties,
    ManufacturingCoefficients,
    ProcessParameters,
    calibration_line_sc,
    conductivity_law,
    manufacture,
    microstructure,
    solid_phase_fractions,
)

# (AM wt %, SC wt %, CD %, thickness um, porosity %, tau (EIS), sigma S/m)
TABLE_S3 = np.array(
    [
        (85, 46, 0, 121.6, 59.5, 1.94, 0.029),
        (85, 46, 10, 108.8, 55.8, 2.37, 0.093),
        (85, 46, 20, 98.5, 50.9, 2.66, 0.478),
        (90, 55, 0, 91.7, 53.0, 1.78, 0.0024),
        (90, 55, 10, 82.3, 49.8, 1.78, 0.043),
        (90, 55, 20, 72.1, 42.1, 2.77, 0.14),
        (95, 67, 0, 77.8, 51.5, 1.57, 7.4e-4),
        (95, 67, 10, 68.2, 45.0, 1.75, 1.5e-3),
        (95, 67, 20, 61.7, 40.3, 2.47, 1.6e-3),
    ]
)
#: Names of the coefficients fitted here (all others are literature values or placeholders).
FITTED = (
    "dry_porosity_ref",
    "dry_porosity_cbd_slope",
    "tortuosity_prefactor",
    "tortuosity_porosity_exponent",
    "tortuosity_cbd_exponent",
    "conductivity_prefactor",
    "percolation_threshold",
    "conductivity_calendering_gain",
    "conductivity_gain_cbd_slope",
)


@dataclass(frozen=True)
class TableColumns:
    """The table as the quantities the relations use (SI, fractions)."""

    am: np.ndarray
    sc: np.ndarray
    cd: np.ndarray
    thickness: np.ndarray
    porosity: np.ndarray
    tortuosity: np.ndarray
    conductivity: np.ndarray
    cbd_mass_fraction: np.ndarray
    cbd_volume_fraction: np.ndarray  # of the electrode
    solid_density: np.ndarray

    @classmethod
    def of(cls, rows: np.ndarray, coeffs: ManufacturingCoefficients = DEFAULT_COEFFICIENTS) -> TableColumns:
        am = rows[:, 0] / 100
        porosity = rows[:, 4] / 100
        fractions = np.array([solid_phase_fractions(a, coeffs) for a in am])
        return cls(
            am=am,
            sc=rows[:, 1] / 100,
            cd=rows[:, 2] / 100,
            thickness=rows[:, 3] * 1e-6,
            porosity=porosity,
            tortuosity=rows[:, 5],
            conductivity=rows[:, 6],
            cbd_mass_fraction=1 - am,
            cbd_volume_fraction=(1 - porosity) * fractions[:, 1],
            solid_density=fractions[:, 2],
        )


def fit_coefficients(rows: np.ndarray = TABLE_S3, start: ManufacturingCoefficients = DEFAULT_COEFFICIENTS) -> dict:
    """Least-squares values of the :data:`FITTED` coefficients on ``rows`` (Table S3 layout)."""
    from scipy.optimize import least_squares

    t = TableColumns.of(rows, start)
    fitted = {}
    dry = 1 - (1 - t.porosity) * (1 - t.cd)  # mass conservation through calendering
    design = np.column_stack([np.ones(len(dry)), t.cbd_mass_fraction - start.dry_porosity_cbd_ref])
    (fitted["dry_porosity_ref"], fitted["dry_porosity_cbd_slope"]), *_ = np.linalg.lstsq(design, dry, rcond=None)
    design = np.column_stack([np.ones(len(dry)), np.log(t.porosity), np.log(t.cbd_volume_fraction)])
    (log_a, p, q), *_ = np.linalg.lstsq(design, np.log(t.tortuosity), rcond=None)
    fitted.update(tortuosity_prefactor=math.exp(log_a), tortuosity_porosity_exponent=p, tortuosity_cbd_exponent=q)

    names = ("conductivity_prefactor", "percolation_threshold", "conductivity_calendering_gain")
    names += ("conductivity_gain_cbd_slope",)

    def log_residuals(values):
        trial = start.with_overrides(**dict(zip(names, values)))
        predicted = [
            conductivity_law(c, w, cd, coeffs=trial)
            for c, w, cd in zip(t.cbd_volume_fraction, t.cbd_mass_fraction, t.cd)
        ]
        return np.log(predicted) - np.log(t.conductivity)

    # A threshold above a composition's CBD fraction is allowed: that composition then sits
    # on the floor (flat under calendering), as measured at 95 wt % AM.
    initial = [getattr(start, n) for n in names]
    result = least_squares(log_residuals, initial, bounds=([1e-3, 0.0, 0.0, -500.0], [1e4, 0.2, 60.0, 500.0]))
    fitted.update(dict(zip(names, map(float, result.x))))
    return {k: float(v) for k, v in fitted.items()}


def mean_loading(rows: np.ndarray = TABLE_S3) -> float:
    """Mean areal loading of dry coating of ``rows`` (Table S3 layout), mg/cm2: (1-eps) rho_solid L."""
    t = TableColumns.of(rows)
    return float(np.mean((1 - t.porosity) * t.solid_density * t.thickness)) * 100


def bootstrap_coefficients(
    members: int, seed: int = 0, base: ManufacturingCoefficients = DEFAULT_COEFFICIENTS
) -> list[ManufacturingCoefficients]:
    """``members`` coefficient sets refitted on Table S3 rows drawn with replacement (the
    coefficients not fitted here keep their values in ``base``)."""
    rng = np.random.default_rng(seed)
    ensemble = []
    while len(ensemble) < members:
        rows = TABLE_S3[rng.integers(0, len(TABLE_S3), len(TABLE_S3))]
        # A resample with a single composition or a single CD cannot pin the slopes: redraw.
        if len(np.unique(rows[:, 0])) < 2 or len(np.unique(rows[:, 2])) < 2:
            continue
        ensemble.append(base.with_overrides(**fit_coefficients(rows, base)))
    return ensemble


def achieved_calendering(props: ElectrodeProperties) -> float:
    """Thickness reduction actually achieved (smaller than CD at the compaction floor)."""
    return 1.0 - props.thickness / props.dry_thickness


@dataclass(frozen=True)
class CalibratedDomain:
    """Where the relations were fitted: the hull of Table S3 and the band around its SC-AM line.

    ``violation`` is <= 0 inside (a usable constraint for optimizers: the largest signed
    distance outside a hull facet, in units of the data's range, or the excess SC offset).
    """

    sc_tolerance: float = 0.05  # placeholder: how far off the table's SC-AM line SC may go

    def _hull(self):
        # The measured electrodes and the model's rendering of their recipes: a table recipe is
        # inside whatever the relations' residuals.
        t = TableColumns.of(TABLE_S3)
        measured = np.column_stack([t.porosity, t.cbd_volume_fraction, t.cd])
        modelled = [microstructure(am, sc, cd, coeffs=DEFAULT_COEFFICIENTS) for am, sc, cd in zip(t.am, t.sc, t.cd)]
        rendered = np.array([[p.porosity, p.cbd_volume_fraction, achieved_calendering(p)] for p in modelled])
        return _unit_hull(np.vstack([measured, rendered]))

    def violation(self, process: tuple[float, ...], props: ElectrodeProperties) -> float:
        """``process``: (am, sc, cd[, loading]); the loading is not part of the check, since
        the relations are intensive and assumed independent of it."""
        am, sc = process[0], process[1]
        low, span, equations = _HULL_CACHE.setdefault("hull", self._hull())
        point = (np.array([props.porosity, props.cbd_volume_fraction, achieved_calendering(props)]) - low) / span
        hull_distance = float(np.max(equations[:, :-1] @ point + equations[:, -1]))
        sc_offset = abs(sc - calibration_line_sc(am)) - self.sc_tolerance
        return max(hull_distance, sc_offset)

    def contains(self, process: tuple[float, ...], props: ElectrodeProperties) -> bool:
        return self.violation(process, props) <= INSIDE_TOLERANCE


_HULL_CACHE: dict = {}
INSIDE_TOLERANCE = 1e-6  # a hull vertex evaluates to ~0 up to rounding


def _unit_hull(points: np.ndarray):
    from scipy.spatial import ConvexHull

    low, span = points.min(axis=0), np.ptp(points, axis=0)
    return low, span, ConvexHull((points - low) / span).equations


def domain_violations(x: np.ndarray, coeffs: ManufacturingCoefficients = DEFAULT_COEFFICIENTS) -> np.ndarray:
    """:meth:`CalibratedDomain.violation` of each row of process parameters ``x`` (n, 3 or 4)."""
    domain = CalibratedDomain()
    rows = np.atleast_2d(np.asarray(x, float))
    return np.array([domain.violation(tuple(row), manufacture(ProcessParameters(*row), coeffs)) for row in rows])
