"""Bi-objective search (C/5 energy vs 3C energy) with pymoo, Optuna baselines, and P2D validation.

``pymoo_problem`` builds the one pymoo ``Problem`` of the electrode pipeline: over the process
parameters, with objectives from any vectorized function (the surrogate, or the P2D model
itself) and optional inequality constraints, so the same problem is solved by pymoo
algorithms, by Optuna's samplers, directly on the physics, and with a floor on one objective
(``surrogates.design``). Every evaluation is logged in order, so hypervolume-vs-evaluations curves are
computed the same way for every optimizer.

With ``domain="calibrated"`` (the default) the search carries one inequality constraint, the
distance outside the calibration data (:mod:`surrogates.calibration`), so every front point
is a design whose manufacturing relations were fitted there; ``domain="full"`` searches the
whole process box and flags each point (``extrapolated``). The fit uncertainty of the
relations is propagated by re-simulating the validated points with a bootstrap ensemble of
their coefficients: 10-90 % intervals per point in ``front.csv`` (at least
``MIN_BAND_MEMBERS`` members, so each tail holds two or more), the number of members in which
the point's carbon-binder network does not percolate (the ensemble is then bimodal), and a band
in ``front.png``.

Hypervolume is computed with ``pymoo.indicators.hv.HV`` on objectives normalized by the
dataset's range: ``(max - f) / (max - min)`` per objective (minimization form), reference
point (1, 1). A value of 1 would mean one design as good as the dataset's best on both.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hpo.errors import UserError
from hpo.io import atomic_write
from surrogates.dataset import SHIPPED_DATASET, SimulationConfig, load_config
from surrogates.manufacturing import (
    PROCESS_BOUNDS,
    PROCESS_NAMES,
    ProcessParameters,
    manufacture,
)
from surrogates.p2d import OBJECTIVE_COLUMNS, P2DModel

ALGORITHMS = ("nsga2", "smsemoa", "moead")
DOMAINS = ("calibrated", "full")
BAND_PERCENTILES = (10.0, 90.0)
MIN_BAND_MEMBERS = 20
RESOLVED_RATIO = 3.0  # a front spanning less than this many median band widths is not resolved
PERCOLATING = "_percolating"  # suffix of the bands over the members whose CBD network percolates
MIN_MODE_MEMBERS = 10  # fewer members in that mode: no band for it
OBJECTIVE_LABELS = {
    "energy_wh_per_kg": "specific energy at C/5 [Wh/kg stack]",
    "energy_3c_wh_per_kg": "specific energy at 3C [Wh/kg stack]",
}
FRONT_PROPERTY_COLUMNS = (
    "porosity",
    "thickness",
    "tortuosity",
    "conductivity",
    "exposed_area_fraction",
)

Objectives = Callable[[np.ndarray], np.ndarray]  # (n, 4) process parameters -> (n, k) maximized
# (n, 4) process parameters and their (n, k) objective values -> (n, m) or (n,), feasible when <= 0
Constraint = Callable[[np.ndarray, np.ndarray], np.ndarray]


class EvaluationLog:
    """Every evaluated point, in evaluation order (objectives in their maximized form)."""

    def __init__(self) -> None:
        self._x: list[np.ndarray] = []
        self._f: list[np.ndarray] = []

    def record(self, x: np.ndarray, f: np.ndarray) -> None:
        self._x.append(np.atleast_2d(x))
        self._f.append(np.atleast_2d(f))

    @property
    def x(self) -> np.ndarray:
        return np.vstack(self._x) if self._x else np.empty((0, len(PROCESS_NAMES)))

    @property
    def f(self) -> np.ndarray:
        return np.vstack(self._f) if self._f else np.empty((0, len(OBJECTIVE_COLUMNS)))


def check_fixed(fixed: Mapping[str, float] | None) -> dict[str, float]:
    """Process parameters held at a value (``--fix NAME=VALUE``), validated; the search runs
    over the others. At least one stays free."""
    from surrogates.manufacturing import check_process_value

    fixed = dict(fixed or {})
    unknown = sorted(set(fixed) - set(PROCESS_NAMES))
    if unknown:
        raise UserError(f"--fix {unknown[0]}: not a process parameter; choose from {', '.join(PROCESS_NAMES)}")
    if len(fixed) == len(PROCESS_NAMES):
        raise UserError("--fix: at least one process parameter must stay free")
    return {name: check_process_value(name, value) for name, value in fixed.items()}


def expand(x: np.ndarray, fixed: Mapping[str, float]) -> np.ndarray:
    """Rows of the free process parameters -> rows of all of them (``PROCESS_NAMES`` order)."""
    x = np.atleast_2d(np.asarray(x, float))
    if not fixed:
        return x
    free = iter(x.T)
    return np.column_stack([np.full(len(x), fixed[n]) if n in fixed else next(free) for n in PROCESS_NAMES])


def pymoo_problem(
    objectives: Objectives,
    log: EvaluationLog | None = None,
    constraint: Constraint | None = None,
    *,
    maximize: Sequence[int] | None = None,
    n_constraints: int = 1,
    fixed: Mapping[str, float] | None = None,
):
    """A pymoo ``Problem`` over the process box maximizing the columns ``maximize`` (default:
    all of ``OBJECTIVE_COLUMNS``) of ``objectives(x)`` (pymoo minimizes, hence the sign),
    subject to the ``n_constraints`` columns of ``constraint(x, values) <= 0`` when given;
    ``log`` records every evaluation (all columns). With ``fixed``, the problem's variables are
    the other process parameters; ``objectives``, ``constraint`` and ``log`` see all of them."""
    from pymoo.core.problem import Problem

    fixed = check_fixed(fixed)
    free = [n for n in PROCESS_NAMES if n not in fixed]
    low = np.array([PROCESS_BOUNDS[n][0] for n in free])
    high = np.array([PROCESS_BOUNDS[n][1] for n in free])
    columns = list(range(len(OBJECTIVE_COLUMNS))) if maximize is None else list(maximize)

    class ElectrodeProblem(Problem):
        def __init__(self) -> None:
            super().__init__(
                n_var=len(free),
                n_obj=len(columns),
                n_ieq_constr=0 if constraint is None else n_constraints,
                xl=low,
                xu=high,
            )

        def _evaluate(self, x, out, *args, **kwargs):
            x = expand(x, fixed)
            values = objectives(x)
            if log is not None:
                log.record(x, values)
            out["F"] = -values[:, columns]
            if constraint is not None:
                out["G"] = np.asarray(constraint(x, values), float).reshape(len(x), -1)

    return ElectrodeProblem()


def make_algorithm(name: str, population: int = 50):
    """pymoo algorithm by name; all use their default operators."""
    if name == "nsga2":
        from pymoo.algorithms.moo.nsga2 import NSGA2

        return NSGA2(pop_size=population)
    if name == "smsemoa":
        from pymoo.algorithms.moo.sms import SMSEMOA

        return SMSEMOA(pop_size=population)
    if name == "moead":
        from pymoo.algorithms.moo.moead import MOEAD
        from pymoo.util.ref_dirs import get_reference_directions

        directions = get_reference_directions("uniform", 2, n_partitions=population - 1)
        return MOEAD(directions, n_neighbors=15, prob_neighbor_mating=0.7)
    raise UserError(f"--algorithm {name!r} must be one of {', '.join(ALGORITHMS)}")


def run_pymoo(
    objectives: Objectives,
    algorithm: str,
    evaluations: int,
    seed: int = 0,
    population: int = 50,
    constraint: Constraint | None = None,
    fixed: Mapping[str, float] | None = None,
):
    """Optimize with a pymoo algorithm for ``evaluations`` evaluations; returns (result, log).
    ``result.X`` holds the free process parameters only (``expand`` restores the others)."""
    from pymoo.optimize import minimize

    if constraint is not None and algorithm == "moead":
        raise UserError("--algorithm moead cannot keep the front in the calibrated domain: use nsga2 or smsemoa")
    log = EvaluationLog()
    result = minimize(
        pymoo_problem(objectives, log, constraint, fixed=fixed),
        make_algorithm(algorithm, population),
        ("n_eval", evaluations),
        seed=seed,
        verbose=False,
    )
    return result, log


def run_optuna(
    objectives: Objectives, sampler: str, evaluations: int, seed: int = 0, population: int = 50
) -> EvaluationLog:
    """Optimize the same problem with an Optuna multi-objective sampler (one point per trial)."""
    import optuna

    if sampler == "nsga2":
        chosen = optuna.samplers.NSGAIISampler(population_size=population, seed=seed)
    elif sampler == "tpe":
        chosen = optuna.samplers.TPESampler(seed=seed, multivariate=True)
    else:
        raise UserError(f"Optuna sampler {sampler!r} must be nsga2 or tpe")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["maximize"] * len(OBJECTIVE_COLUMNS), sampler=chosen)
    log = EvaluationLog()

    def trial_objective(trial):
        x = np.array([[trial.suggest_float(name, *PROCESS_BOUNDS[name]) for name in PROCESS_NAMES]])
        values = objectives(x)
        log.record(x, values)
        return tuple(float(v) for v in values[0])

    study.optimize(trial_objective, n_trials=evaluations)
    return log


@dataclass(frozen=True)
class HypervolumeScale:
    """Normalization of the objectives for hypervolume (from the dataset's range)."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def from_dataset(cls, frame: pd.DataFrame) -> HypervolumeScale:
        good = frame[frame["status"] == "ok"]
        values = good[list(OBJECTIVE_COLUMNS)].to_numpy(float)
        return cls(values.min(axis=0), values.max(axis=0))

    def hypervolume(self, maximized: np.ndarray) -> float:
        from pymoo.indicators.hv import HV

        maximized = np.atleast_2d(maximized)
        maximized = maximized[np.all(np.isfinite(maximized), axis=1)]
        if len(maximized) == 0:
            return 0.0
        normalized = (self.high - maximized) / (self.high - self.low)
        return float(HV(ref_point=np.ones(normalized.shape[1]))(normalized))

    def curve(self, log: EvaluationLog, checkpoints: list[int]) -> list[float]:
        """Hypervolume of all points evaluated up to each checkpoint."""
        f = log.f
        return [self.hypervolume(f[:k]) if k <= len(f) else math.nan for k in checkpoints]


def nondominated(maximized: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows (maximization), without duplicates."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    front = NonDominatedSorting().do(-maximized, only_non_dominated_front=True)
    _, unique = np.unique(np.round(maximized[front], 9), axis=0, return_index=True)
    return np.asarray(front)[np.sort(unique)]


class P2DObjectives:
    """Vectorized objectives from the P2D model (a failed design scores 0 Wh/kg, counted)."""

    def __init__(self, config: SimulationConfig | None = None) -> None:
        config = SimulationConfig() if config is None else config
        self.config = config
        self.model = P2DModel(config.p2d, config.stack)
        self.failures = 0
        self.calls = 0

    def simulate(self, x: np.ndarray) -> tuple[np.ndarray, list]:
        values, results = [], []
        for row in np.atleast_2d(x):
            props = manufacture(ProcessParameters(*map(float, row)), self.config.manufacturing)
            result = self.model.simulate(props)
            results.append((props, result))
            values.append([getattr(result, c) for c in OBJECTIVE_COLUMNS])
        return np.array(values, float), results

    def __call__(self, x: np.ndarray) -> np.ndarray:
        values, _ = self.simulate(x)
        self.calls += len(values)
        failed = ~np.all(np.isfinite(values), axis=1)
        self.failures += int(failed.sum())
        # An optimizer needs a number; the worst possible one keeps failures off the front.
        values[failed] = 0.0
        return values


def spread_indices(n_front: int, n_pick: int) -> np.ndarray:
    """``n_pick`` indices spread evenly along a front sorted by one objective (ends included)."""
    if n_pick >= n_front:
        return np.arange(n_front)
    return np.unique(np.round(np.linspace(0, n_front - 1, n_pick)).astype(int))


def validate_front(front: pd.DataFrame, indices: np.ndarray, config: SimulationConfig) -> pd.DataFrame:
    """Re-simulate chosen front points with P2D; relative error of the surrogate per point."""
    chosen = front.iloc[indices]
    simulated, results = P2DObjectives(config).simulate(chosen[list(PROCESS_NAMES)].to_numpy())
    rows = []
    for (index, point), values, (_, result) in zip(chosen.iterrows(), simulated, results):
        row = {
            "front_index": index,
            **{n: point[n] for n in PROCESS_NAMES},
            "status": result.status,
            "reason": result.reason,
        }
        for column, value in zip(OBJECTIVE_COLUMNS, values):
            predicted = point[f"predicted_{column}"]
            row[f"predicted_{column}"] = predicted
            row[f"simulated_{column}"] = value
            row[f"relative_error_{column}"] = abs(predicted - value) / abs(value) if value else math.nan
        row["simulated_energy_wh_per_l"] = result.energy_wh_per_l  # reported, not optimized
        # what stopped the 3C discharge (surrogates.p2d.limitation)
        row["limited_by"] = result.limited_by
        row["electrolyte_min_fraction"] = result.electrolyte_min_fraction
        row["extrapolated"] = point["extrapolated"]
        rows.append(row)
    return pd.DataFrame(rows)


def verdict(ratios: Mapping[str, float]) -> str:
    """What a front's span, in median band widths per objective, says about its trade-off."""
    if all(ratio >= RESOLVED_RATIO for ratio in ratios.values()):
        return f"the front spans at least {RESOLVED_RATIO:g}x this band in both objectives: a resolved trade-off"
    if all(ratio < 1 for ratio in ratios.values()):
        return (
            "the front is narrower than this band in both objectives: this domain holds no trade-off "
            "that the calibration data resolve"
        )
    short = [column for column, ratio in ratios.items() if ratio < RESOLVED_RATIO]
    return (
        f"the front spans less than {RESOLVED_RATIO:g}x this band in {' and '.join(short)}: "
        "the calibration data resolve only part of the trade-off"
    )


def check_band_members(members: int) -> None:
    if 0 < members < MIN_BAND_MEMBERS:
        raise UserError(
            f"--band {members}: a {BAND_PERCENTILES[0]:g}-{BAND_PERCENTILES[1]:g} % interval needs at least "
            f"{MIN_BAND_MEMBERS} bootstrap members (0 skips the band)"
        )


def uncertainty_intervals(
    front: pd.DataFrame, indices: np.ndarray, config: SimulationConfig, members: int, seed: int = 0
) -> pd.DataFrame:
    """10-90 % intervals of the P2D objectives of chosen front points over a bootstrap ensemble
    of the manufacturing relations (each member refitted on resampled calibration rows), and
    ``band_nonpercolating``: in how many members the point's CBD network is below that member's
    percolation threshold (its conductivity on the floor: those members form a second mode)."""
    from tqdm import tqdm

    from surrogates.calibration import bootstrap_coefficients

    check_band_members(members)
    ensemble = bootstrap_coefficients(members, seed, config.manufacturing)
    model = P2DModel(config.p2d, config.stack)
    chosen = front.iloc[indices]
    values = np.full((len(chosen), members, len(OBJECTIVE_COLUMNS)), np.nan)
    nonpercolating = np.zeros((len(chosen), members), bool)
    progress = tqdm(total=members * len(chosen), desc="bootstrap band", unit="design", disable=None, leave=False)
    for j, coeffs in enumerate(ensemble):
        for i, row in enumerate(chosen[list(PROCESS_NAMES)].to_numpy()):
            props = manufacture(ProcessParameters(*row), coeffs)
            nonpercolating[i, j] = props.cbd_volume_fraction <= coeffs.percolation_threshold
            result = model.simulate(props)
            values[i, j] = [getattr(result, c) for c in OBJECTIVE_COLUMNS]
            progress.update(1)
    progress.close()
    intervals = pd.DataFrame(index=chosen.index)
    low, high = BAND_PERCENTILES
    for k, column in enumerate(OBJECTIVE_COLUMNS):
        intervals[f"{column}_low"] = np.nanpercentile(values[:, :, k], low, axis=1)
        intervals[f"{column}_high"] = np.nanpercentile(values[:, :, k], high, axis=1)
    intervals["band_members_ok"] = np.all(np.isfinite(values), axis=2).sum(axis=1)
    intervals["band_nonpercolating"] = nonpercolating.sum(axis=1)
    # The scenario "the network percolates": the members of the main mode only.
    for k, column in enumerate(OBJECTIVE_COLUMNS):
        for name, q in ((f"{column}_low{PERCOLATING}", low), (f"{column}_high{PERCOLATING}", high)):
            intervals[name] = [
                np.nanpercentile(values[i, ~nonpercolating[i], k], q)
                if (~nonpercolating[i]).sum() >= MIN_MODE_MEMBERS
                else np.nan
                for i in range(len(chosen))
            ]
    return intervals


@dataclass
class ParetoReport:
    front: pd.DataFrame
    validation: pd.DataFrame
    models: dict[str, str]
    cv_r2: dict[str, float]
    hypervolume_predicted: float
    hypervolume_validated: float
    seconds: float
    algorithm: str
    evaluations: int
    domain: str = "calibrated"
    band_members: int = 0
    files: list[str] = field(default_factory=list)
    fixed: dict[str, float] = field(default_factory=dict)

    def relative_errors(self) -> dict[str, tuple[float, float]]:
        """Median and max relative error of the surrogate per objective on validated points."""
        out = {}
        for column in OBJECTIVE_COLUMNS:
            errors = self.validation.get(f"relative_error_{column}", pd.Series(dtype=float)).dropna()
            out[column] = (float(errors.median()), float(errors.max())) if len(errors) else (math.nan, math.nan)
        return out

    def summary(self) -> str:
        extrapolated = int(self.front["extrapolated"].sum())
        lines = [
            f"{self.algorithm} on the surrogate, {self.evaluations} evaluations, domain {self.domain}"
            + "".join(f", {name} fixed at {value:g}" for name, value in self.fixed.items())
            + ": "
            f"{len(self.front)} front points ({extrapolated} outside the calibration data), "
            f"normalized hypervolume {self.hypervolume_predicted:.4f}",
        ]
        for column in OBJECTIVE_COLUMNS:
            lines.append(f"surrogate for {column}: {self.models[column]} (CV R^2 {self.cv_r2[column]:.4f})")
        if len(self.validation):
            failed = int((self.validation["status"] != "ok").sum())
            lines.append(
                f"re-simulated {len(self.validation)} front points with P2D ({failed} failed): "
                f"hypervolume {self.hypervolume_validated:.4f}"
            )
            for column, (median, worst) in self.relative_errors().items():
                lines.append(f"  relative error {column}: median {median:.2%}, max {worst:.2%}")
        if self.band_members and f"{OBJECTIVE_COLUMNS[0]}_low" in self.front:
            split = self.front["band_nonpercolating"].dropna()
            lines += self._band_lines("", f"all {self.band_members} bootstrap members")
            lines.append(
                f"  members whose carbon-binder network does not percolate: {int(split.min())}-{int(split.max())} "
                f"of {self.band_members} per point"
                + (": the band mixes two modes there; the scenario without them:" if split.max() > 0 else "")
            )
            if split.max() > 0:
                lines += self._band_lines(PERCOLATING, "members whose network percolates")
        front = self.front
        lines.append(
            "front process parameters: "
            + ", ".join(f"{n} {front[n].min():.3f}-{front[n].max():.3f}" for n in PROCESS_NAMES)
        )
        lines.append(f"wrote {', '.join(self.files)} in {self.seconds:.1f} s")
        return "\n".join(lines)

    def _band_lines(self, suffix: str, label: str) -> list[str]:
        """Band widths against the front's span per objective, the verdict, and the validated
        points whose band is under 1/``RESOLVED_RATIO`` of the span in both objectives (the
        part of the trade-off the calibration data resolve)."""
        banded = self.front.dropna(subset=[f"{c}_low{suffix}" for c in OBJECTIVE_COLUMNS])
        if not len(banded):
            return [f"  {label}: fewer than {MIN_MODE_MEMBERS} members at every validated point"]
        low, high = BAND_PERCENTILES
        lines, ratios = [], {}
        resolved = np.ones(len(banded), bool)
        for column in OBJECTIVE_COLUMNS:
            simulated = self.front[f"simulated_{column}"]
            span = simulated.max() - simulated.min()
            width = (banded[f"{column}_high{suffix}"] - banded[f"{column}_low{suffix}"]).to_numpy()
            ratio = span / np.median(width) if np.median(width) > 0 else math.inf
            resolved &= width <= span / RESOLVED_RATIO
            ratios[column] = ratio
            lines.append(
                f"  {label}, {low:g}-{high:g} % band of {column}: width median {np.median(width):.1f}, max "
                f"{width.max():.1f} Wh/kg; the front spans {span:.1f} Wh/kg ({ratio:.1f}x the median width)"
            )
        lines.append(f"    {verdict(ratios)}")
        part = banded[resolved]
        ranges = ", ".join(
            f"{name} {part[name].min():.3g}-{part[name].max():.3g}"
            for name in (*PROCESS_NAMES, *(f"simulated_{c}" for c in OBJECTIVE_COLUMNS))
        )
        lines.append(
            f"    resolved (band under 1/{RESOLVED_RATIO:g} of the span in both): {len(part)} of {len(banded)} "
            "validated points" + (f", {ranges}" if len(part) else "")
        )
        return lines


def run_pareto(
    frame: pd.DataFrame,
    out_dir: str | Path,
    algorithm: str = "nsga2",
    evaluations: int = 4000,
    validate: int = 12,
    seed: int = 0,
    config: SimulationConfig | None = None,
    dataset_path: str | None = None,
    population: int = 50,
    domain: str = "calibrated",
    band_members: int = 40,
    surrogate=None,
    fixed: Mapping[str, float] | None = None,
) -> ParetoReport:
    """Front over the surrogate -> front.csv, validation.csv, front.png in ``out_dir``.

    ``config`` (P2D, stack and manufacturing settings for the re-simulations) defaults to the
    one the dataset was made with, read from its sidecar. ``domain`` is "calibrated" (front
    kept inside the calibration data) or "full"; ``band_members`` bootstrap members give the
    uncertainty intervals of the validated points (0 skips them). ``surrogate``: an already
    fitted :class:`~surrogates.models.Surrogate` of ``frame`` (refit from the dataset if None).
    ``fixed``: process parameters held at a value (e.g. ``{"loading": 17.467}``: the front at
    one loading), the search running over the others.
    """
    from surrogates.calibration import INSIDE_TOLERANCE, domain_violations
    from surrogates.models import Surrogate, cached_or_new_selection, selection_cache_path

    started = time.perf_counter()
    config = config or load_config(dataset_path or SHIPPED_DATASET)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cache = selection_cache_path(dataset_path) if dataset_path else None
    selection = cached_or_new_selection(frame, seed, cache)
    surrogate = surrogate or Surrogate(
        frame, selection.best, seed, kernel_thetas=selection.kernel_thetas, error_q95=selection.error_q95
    )
    if domain not in DOMAINS:
        raise UserError(f"--domain {domain!r} must be one of {', '.join(DOMAINS)}")
    check_band_members(band_members)
    fixed = check_fixed(fixed)

    def constraint(x, values):
        return domain_violations(x, config.manufacturing)

    result, _ = run_pymoo(
        surrogate.predict,
        algorithm,
        evaluations,
        seed=seed,
        population=population,
        constraint=constraint if domain == "calibrated" else None,
        fixed=fixed,
    )
    if result.X is None:
        raise UserError("no design inside the calibrated domain was found: raise --evaluations or use --domain full")
    x_front = expand(result.X, fixed)
    predicted = -np.atleast_2d(result.F)
    keep = nondominated(predicted)
    x_front, predicted = x_front[keep], predicted[keep]
    order = np.argsort(predicted[:, 0])
    front = pd.DataFrame(x_front[order], columns=list(PROCESS_NAMES))
    for index, column in enumerate(OBJECTIVE_COLUMNS):
        front[f"predicted_{column}"] = predicted[order, index]
    properties = [
        manufacture(ProcessParameters(*row), config.manufacturing).as_dict()
        for row in front[list(PROCESS_NAMES)].to_numpy()
    ]
    for column in FRONT_PROPERTY_COLUMNS:
        front[column] = [p[column] for p in properties]
    front["domain_violation"] = domain_violations(front[list(PROCESS_NAMES)].to_numpy(), config.manufacturing)
    front["extrapolated"] = front["domain_violation"] > INSIDE_TOLERANCE

    scale = HypervolumeScale.from_dataset(frame)
    validation = pd.DataFrame()
    hv_validated = math.nan
    if validate > 0:
        validation = validate_front(front, spread_indices(len(front), validate), config)
        for column in OBJECTIVE_COLUMNS:
            front[f"simulated_{column}"] = np.nan
            front.loc[validation["front_index"], f"simulated_{column}"] = validation[f"simulated_{column}"].to_numpy()
        front["limited_by"] = ""
        front.loc[validation["front_index"], "limited_by"] = validation["limited_by"].to_numpy()
        ok = validation["status"] == "ok"
        hv_validated = scale.hypervolume(validation.loc[ok, [f"simulated_{c}" for c in OBJECTIVE_COLUMNS]].to_numpy())
        if band_members > 0:
            intervals = uncertainty_intervals(
                front, validation["front_index"].to_numpy(), config, members=band_members, seed=seed
            )
            front = front.join(intervals)

    files = [str(out / "front.csv"), str(out / "validation.csv"), str(out / "front.png")]
    atomic_write(out / "front.csv", lambda tmp: front.to_csv(tmp, index_label="front_index"))
    atomic_write(out / "validation.csv", lambda tmp: validation.to_csv(tmp, index=False))
    plot_front(frame, front, validation, path=out / "front.png", title=f"{algorithm} on the surrogate, {domain} domain")
    return ParetoReport(
        front=front,
        validation=validation,
        models=selection.best,
        cv_r2={c: selection.score(c, selection.best[c]) for c in OBJECTIVE_COLUMNS},
        hypervolume_predicted=scale.hypervolume(predicted),
        hypervolume_validated=hv_validated,
        seconds=time.perf_counter() - started,
        algorithm=algorithm,
        evaluations=evaluations,
        domain=domain,
        band_members=band_members,
        files=files,
        fixed=fixed,
    )


def plot_front(frame: pd.DataFrame, front: pd.DataFrame, validation: pd.DataFrame, path: Path, title: str = "") -> None:
    """Dataset (coloured by areal loading, the variable that carries the trade-off) behind the
    predicted front and its P2D re-simulations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    energy, energy_3c = OBJECTIVE_COLUMNS
    good = frame[frame["status"] == "ok"]
    inside = ~good["extrapolated"].astype(bool) if "extrapolated" in good else pd.Series(True, index=good.index)
    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=110)
    style = {"cmap": "viridis", "vmin": good["loading"].min(), "vmax": good["loading"].max()}
    points = ax.scatter(
        good.loc[~inside, energy],
        good.loc[~inside, energy_3c],
        **style,
        c=good.loc[~inside, "loading"],
        s=6,
        alpha=0.25,
        label=f"dataset, outside the calibration data ({int((~inside).sum())})",
    )
    ax.scatter(
        good.loc[inside, energy],
        good.loc[inside, energy_3c],
        **style,
        c=good.loc[inside, "loading"],
        s=16,
        edgecolors="black",
        linewidths=0.4,
        label=f"dataset, inside the calibration data ({int(inside.sum())})",
    )
    fig.colorbar(points, ax=ax, label="areal loading [mg/cm2]")
    ax.plot(
        front[f"predicted_{energy}"],
        front[f"predicted_{energy_3c}"],
        "-",
        color="crimson",
        lw=2,
        label="surrogate front (predicted)",
    )
    band = front.dropna(subset=[f"{energy}_low"]) if f"{energy}_low" in front else front.iloc[:0]
    if len(band):
        band = band.sort_values(f"simulated_{energy}")
        ax.fill_between(
            band[f"simulated_{energy}"],
            band[f"{energy_3c}_low"],
            band[f"{energy_3c}_high"],
            color="crimson",
            alpha=0.18,
            label=f"fit uncertainty (bootstrap, {BAND_PERCENTILES[0]:g}-{BAND_PERCENTILES[1]:g} %)",
        )
        # The default coefficients' value may sit outside the 5-95 % interval: no negative bars.
        ax.errorbar(
            band[f"simulated_{energy}"],
            band[f"simulated_{energy_3c}"],
            xerr=_error_bars(band, energy),
            yerr=_error_bars(band, energy_3c),
            fmt="none",
            ecolor="crimson",
            alpha=0.6,
            lw=1,
        )
    if len(validation):
        ok = validation[validation["status"] == "ok"]
        ax.scatter(
            ok[f"simulated_{energy}"],
            ok[f"simulated_{energy_3c}"],
            marker="x",
            color="black",
            s=40,
            zorder=3,
            label="front re-simulated with P2D",
        )
    ax.set_xlabel(OBJECTIVE_LABELS[energy])
    ax.set_ylabel(OBJECTIVE_LABELS[energy_3c])
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    try:
        atomic_write(path, fig.savefig)
    finally:
        plt.close(fig)


def _error_bars(band: pd.DataFrame, column: str) -> np.ndarray:
    value = band[f"simulated_{column}"].to_numpy()
    return np.clip([value - band[f"{column}_low"].to_numpy(), band[f"{column}_high"].to_numpy() - value], 0.0, None)
