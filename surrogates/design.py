"""Inverse design: the process parameters that maximize one objective with a floor on the other.

"Best 3C energy with a C/5 energy of at least X Wh/kg" (or the converse) is solved on the
surrogate as a constrained single-objective pymoo problem (GA, feasibility-first constraint
handling). The floor imposed on the surrogate is raised by a relative ``margin``, because the
optimum sits on the constraint: by default the surrogate's measured error on that objective
(the 95th percentile of its relative out-of-fold error over the upper half of the dataset,
``surrogates.models.measured_error``). The optimum is then verified with P2D on the dataset's
mesh and on a finer one; it is feasible only when both meet the floor. With ``domain="calibrated"`` (the default) the
search also stays inside the calibration data of the manufacturing relations.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hpo.errors import UserError
from surrogates.calibration import INSIDE_TOLERANCE, domain_violations
from surrogates.dataset import SHIPPED_DATASET, SimulationConfig, load_config
from surrogates.manufacturing import PROCESS_NAMES, ProcessParameters, manufacture
from surrogates.p2d import OBJECTIVE_COLUMNS, P2DModel, deprecated_name
from surrogates.pareto import check_fixed, expand, pymoo_problem

OBJECTIVE_BY_NAME = {"energy": "energy_wh_per_kg", "energy-3c": "energy_3c_wh_per_kg"}
DEPRECATED_OBJECTIVE_NAMES = {"power": "energy-3c"}  # the 3C objective is an energy, not a power


def objective_name(name: str) -> str:
    """``name`` as a key of :data:`OBJECTIVE_BY_NAME`; a deprecated name warns and maps."""
    if name in DEPRECATED_OBJECTIVE_NAMES:
        deprecated_name(name, DEPRECATED_OBJECTIVE_NAMES[name])
        return DEPRECATED_OBJECTIVE_NAMES[name]
    if name not in OBJECTIVE_BY_NAME:
        raise UserError(f"maximize={name!r} must be one of {', '.join(OBJECTIVE_BY_NAME)}")
    return name


@dataclass
class InverseDesignResult:
    maximize: str
    floor: float
    process: dict[str, float]
    predicted: dict[str, float]
    simulated: dict[str, float] | None
    feasible_predicted: bool
    status: str = "not verified"
    attempts: int = 1
    surrogate_floor: float = math.nan  # the floor imposed on the surrogate (floor + margin)
    margin: float = math.nan  # relative margin of the first search
    extrapolated: bool = False  # outside the calibration data of the manufacturing relations
    domain: str = "calibrated"  # where the search was allowed to go
    fine_mesh_points: int = 0
    simulated_fine: dict[str, float] | None = None  # the same design on the finer mesh
    fine_status: str = "not verified"

    @property
    def constrained(self) -> str:
        return "energy-3c" if self.maximize == "energy" else "energy"

    @property
    def feasible(self) -> bool:
        """Feasible on the surrogate and, when verified, in P2D on both meshes too."""
        if not self.feasible_predicted:
            return False
        if self.simulated is None:
            return True
        bound = OBJECTIVE_BY_NAME[self.constrained]
        verified = [(self.status, self.simulated)]
        if self.simulated_fine is not None:
            verified.append((self.fine_status, self.simulated_fine))
        return all(status == "ok" and values[bound] >= self.floor for status, values in verified)

    def as_dict(self) -> dict:
        return {
            "maximize": self.maximize,
            "constraint": f"{self.constrained} >= {self.floor}",
            "process": self.process,
            "extrapolated": self.extrapolated,
            "domain": self.domain,
            "predicted": self.predicted,
            "simulated": self.simulated,
            "status": self.status,
            "simulated_fine_mesh": self.simulated_fine,
            "fine_mesh_points": self.fine_mesh_points,
            "fine_mesh_status": self.fine_status,
            "feasible_predicted": self.feasible_predicted,
            "feasible": self.feasible,
            "attempts": self.attempts,
            "surrogate_floor": self.surrogate_floor,
            "margin": self.margin,
        }

    def summary(self) -> str:
        goal = OBJECTIVE_BY_NAME[self.maximize]
        bound = OBJECTIVE_BY_NAME[self.constrained]
        if not self.feasible_predicted:
            where = "inside the calibration data " if self.domain == "calibrated" else ""
            return (
                f"no design {where}reaches {bound} >= {self.surrogate_floor:.2f} on the surrogate "
                f"(floor {self.floor:g} plus the {self.margin:.1%} margin; best found {self.predicted[bound]:.1f}"
                + (", outside the calibration data" if self.extrapolated and where else "")
                + "); lower the floor"
                + (" or use --domain full" if where else "")
            )
        lines = [
            f"maximize {goal} subject to {bound} >= {self.floor:g}",
            "process: "
            + ", ".join(f"{k} {v:.4f}" for k, v in self.process.items())
            + (" (outside the calibration data)" if self.extrapolated else " (inside the calibration data)"),
            "predicted: "
            + ", ".join(f"{k} {v:.2f}" for k, v in self.predicted.items())
            + f" (surrogate floor {self.surrogate_floor:.2f}: margin {self.margin:.2%}, search {self.attempts})",
        ]
        if self.simulated is not None:
            lines.append(f"P2D ({self.status}): " + ", ".join(f"{k} {v:.2f}" for k, v in self.simulated.items()))
        if self.simulated_fine is not None:
            lines.append(
                f"P2D, {self.fine_mesh_points} points ({self.fine_status}): "
                + ", ".join(f"{k} {v:.2f}" for k, v in self.simulated_fine.items())
            )
        if self.simulated is not None:
            lines.append("constraint holds in P2D" if self.feasible else "constraint NOT met in P2D (surrogate error)")
        return "\n".join(lines)


def inverse_design(
    frame: pd.DataFrame,
    maximize: str = "energy-3c",
    floor: float = 300.0,
    seed: int = 0,
    verify: bool = True,
    config: SimulationConfig | None = None,
    dataset_path: str | None = None,
    population: int = 60,
    generations: int = 60,
    surrogate=None,
    max_attempts: int = 4,
    margin: float | None = None,
    domain: str = "calibrated",
    fine_mesh_points: int | None = None,
    fixed: dict[str, float] | None = None,
) -> InverseDesignResult:
    """Maximize ``maximize`` ("energy-3c" or "energy") s.t. the other objective >= ``floor`` (Wh/kg).

    The surrogate must meet ``floor * (1 + margin)``; ``margin`` defaults to the surrogate's
    measured relative error on the floored objective (``Surrogate.error_q95``). With
    ``verify``, the optimum is simulated with P2D on the dataset's mesh and on
    ``fine_mesh_points`` (default twice the dataset's); if either puts it below the floor, the
    surrogate's floor is raised by 1.5x the shortfall and the search repeated (at most
    ``max_attempts`` searches). ``config`` defaults to the dataset's own settings (sidecar).
    ``fixed``: process parameters held at a value (e.g. ``{"loading": 20.0}``), the search
    running over the others.
    """
    from pymoo.algorithms.soo.nonconvex.ga import GA
    from pymoo.optimize import minimize

    from surrogates.models import Surrogate, selection_cache_path

    if domain not in ("calibrated", "full"):
        raise UserError(f"--domain {domain!r} must be one of calibrated, full")
    config = config or load_config(dataset_path or SHIPPED_DATASET)
    cache = selection_cache_path(dataset_path) if dataset_path else None
    surrogate = surrogate or Surrogate.from_dataset(frame, seed, cache)
    maximize = objective_name(maximize)
    fixed = check_fixed(fixed)
    goal = OBJECTIVE_COLUMNS.index(OBJECTIVE_BY_NAME[maximize])
    bound = 1 - goal
    if margin is None:
        if OBJECTIVE_COLUMNS[bound] not in surrogate.error_q95:
            raise UserError(
                "the surrogate has no measured error to set the margin from: run 'hpo electrode fit' on its "
                "dataset, or give margin="
            )
        margin = surrogate.error_q95[OBJECTIVE_COLUMNS[bound]]
    in_domain = domain == "calibrated"

    def optimize(surrogate_floor: float) -> np.ndarray:
        def constraints(x, values):
            floor_gap = surrogate_floor - values[:, bound]  # <= 0 when the floor is met
            if in_domain:
                return np.column_stack([floor_gap, domain_violations(x, config.manufacturing)])
            return floor_gap

        problem = pymoo_problem(
            surrogate.predict, constraint=constraints, maximize=[goal], n_constraints=1 + in_domain, fixed=fixed
        )
        result = minimize(problem, GA(pop_size=population), ("n_gen", generations), seed=seed)
        if result.X is None:  # no feasible point: report the least-violating one
            return expand(result.pop[np.argmin(result.pop.get("CV").ravel())].X, fixed)[0]
        return expand(result.X, fixed)[0]

    fine_points = fine_mesh_points or 2 * config.p2d.positive_points
    models = []
    if verify:
        fine = dataclasses.replace(config.p2d, positive_points=fine_points)
        models = [P2DModel(config.p2d, config.stack), P2DModel(fine, config.stack)]
    extra = margin * abs(floor)
    for attempt in range(1, max_attempts + 1):
        x_best = optimize(floor + extra)
        predicted_values = surrogate.predict(x_best[None, :])[0]
        process = dict(zip(PROCESS_NAMES, map(float, x_best)))
        violation = float(domain_violations(x_best, config.manufacturing)[0])
        outcome = InverseDesignResult(
            maximize=maximize,
            floor=floor,
            process=process,
            predicted=dict(zip(OBJECTIVE_COLUMNS, map(float, predicted_values))),
            simulated=None,
            feasible_predicted=bool(predicted_values[bound] >= floor + extra - 1e-9)
            and (not in_domain or violation <= INSIDE_TOLERANCE),
            attempts=attempt,
            surrogate_floor=floor + extra,
            margin=margin,
            extrapolated=violation > INSIDE_TOLERANCE,
            domain=domain,
            fine_mesh_points=fine_points if verify else 0,
        )
        if not models or not outcome.feasible_predicted:
            return outcome
        props = manufacture(ProcessParameters(**process), config.manufacturing)
        coarse, finer = (model.simulate(props) for model in models)
        outcome.status, outcome.fine_status = coarse.status, finer.status
        outcome.simulated = {c: float(getattr(coarse, c)) for c in OBJECTIVE_COLUMNS}
        outcome.simulated_fine = {c: float(getattr(finer, c)) for c in OBJECTIVE_COLUMNS}
        if outcome.feasible or coarse.status != "ok" or finer.status != "ok":
            return outcome
        reached = min(values[OBJECTIVE_COLUMNS[bound]] for values in (outcome.simulated, outcome.simulated_fine))
        extra += 1.5 * (floor - reached) + 1e-3 * abs(floor)
    return outcome
