"""Inverse design: the process parameters that maximize one objective with a floor on the other.

"Best power with an energy of at least X Wh/kg" (or the converse) is solved on the surrogate
as a constrained single-objective pymoo problem (GA, feasibility-first constraint handling),
then verified with one P2D simulation of the optimum, because the surrogate's error can put a
point that is feasible on the surrogate just below the floor in the physics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surrogates.dataset import SHIPPED_DATASET, SimulationConfig, load_config
from surrogates.manufacturing import PROCESS_BOUNDS, PROCESS_NAMES, ProcessParameters, manufacture
from surrogates.p2d import OBJECTIVE_COLUMNS, P2DModel

OBJECTIVE_BY_NAME = {"energy": "energy_wh_per_kg", "power": "power_wh_per_kg"}


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

    @property
    def constrained(self) -> str:
        return "power" if self.maximize == "energy" else "energy"

    @property
    def feasible(self) -> bool:
        """Feasible on the surrogate and, when verified, in the P2D simulation too."""
        if not self.feasible_predicted:
            return False
        if self.simulated is None:
            return True
        value = self.simulated[OBJECTIVE_BY_NAME[self.constrained]]
        return self.status == "ok" and value >= self.floor

    def as_dict(self) -> dict:
        return {
            "maximize": self.maximize,
            "constraint": f"{self.constrained} >= {self.floor}",
            "process": self.process,
            "predicted": self.predicted,
            "simulated": self.simulated,
            "status": self.status,
            "feasible_predicted": self.feasible_predicted,
            "feasible": self.feasible,
            "attempts": self.attempts,
            "surrogate_floor": self.surrogate_floor,
        }

    def summary(self) -> str:
        goal = OBJECTIVE_BY_NAME[self.maximize]
        bound = OBJECTIVE_BY_NAME[self.constrained]
        if not self.feasible_predicted:
            return (
                f"no design reaches {bound} >= {self.floor:g} on the surrogate "
                f"(best found {self.predicted[bound]:.1f}); lower the floor"
            )
        lines = [
            f"maximize {goal} subject to {bound} >= {self.floor:g}",
            "process: " + ", ".join(f"{k} {v:.4f}" for k, v in self.process.items()),
            "predicted: "
            + ", ".join(f"{k} {v:.2f}" for k, v in self.predicted.items())
            + f" (surrogate floor {self.surrogate_floor:.2f}, search {self.attempts})",
        ]
        if self.simulated is not None:
            lines.append(f"P2D ({self.status}): " + ", ".join(f"{k} {v:.2f}" for k, v in self.simulated.items()))
            lines.append("constraint holds in P2D" if self.feasible else "constraint NOT met in P2D (surrogate error)")
        return "\n".join(lines)


def inverse_design(
    frame: pd.DataFrame,
    maximize: str = "power",
    floor: float = 300.0,
    seed: int = 0,
    verify: bool = True,
    config: SimulationConfig | None = None,
    dataset_path: str | None = None,
    population: int = 60,
    generations: int = 60,
    surrogate=None,
    max_attempts: int = 4,
) -> InverseDesignResult:
    """Maximize ``maximize`` ("power" or "energy") s.t. the other objective >= ``floor`` (Wh/kg).

    With ``verify``, the optimum is simulated with P2D; if P2D puts it below the floor, the
    floor on the surrogate is raised by 1.5x the shortfall and the search repeated (at most
    ``max_attempts`` searches). ``config`` defaults to the dataset's own settings (sidecar).
    """
    from pymoo.algorithms.soo.nonconvex.ga import GA
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    from surrogates.models import Surrogate, selection_cache_path

    cache = selection_cache_path(dataset_path) if dataset_path else None
    surrogate = surrogate or Surrogate.from_dataset(frame, seed, cache)
    goal = OBJECTIVE_COLUMNS.index(OBJECTIVE_BY_NAME[maximize])
    bound = 1 - goal
    low = np.array([PROCESS_BOUNDS[n][0] for n in PROCESS_NAMES])
    high = np.array([PROCESS_BOUNDS[n][1] for n in PROCESS_NAMES])

    def optimize(surrogate_floor: float) -> np.ndarray:
        class ConstrainedDesign(Problem):
            def __init__(self) -> None:
                super().__init__(n_var=len(PROCESS_NAMES), n_obj=1, n_ieq_constr=1, xl=low, xu=high)

            def _evaluate(self, x, out, *args, **kwargs):
                values = surrogate.predict(x)
                out["F"] = -values[:, goal]
                out["G"] = surrogate_floor - values[:, bound]  # <= 0 when the floor is met

        result = minimize(ConstrainedDesign(), GA(pop_size=population), ("n_gen", generations), seed=seed)
        if result.X is None:  # no feasible point: report the least-violating one
            return np.asarray(result.pop[np.argmin(result.pop.get("CV").ravel())].X, float)
        return np.asarray(result.X, float)

    # The optimum sits on the constraint, so any surrogate error can put it just below the
    # floor in P2D: tighten the surrogate's floor by the observed shortfall and retry.
    config = config or load_config(dataset_path or SHIPPED_DATASET)
    model = P2DModel(config.p2d, config.stack) if verify else None
    margin = 0.0
    for attempt in range(1, max_attempts + 1):
        x_best = optimize(floor + margin)
        predicted_values = surrogate.predict(x_best[None, :])[0]
        process = dict(zip(PROCESS_NAMES, map(float, x_best)))
        outcome = InverseDesignResult(
            maximize=maximize,
            floor=floor,
            process=process,
            predicted=dict(zip(OBJECTIVE_COLUMNS, map(float, predicted_values))),
            simulated=None,
            feasible_predicted=bool(predicted_values[bound] >= floor + margin - 1e-9),
            attempts=attempt,
            surrogate_floor=floor + margin,
        )
        if model is None or not outcome.feasible_predicted:
            return outcome
        simulation = model.simulate(manufacture(ProcessParameters(**process), config.manufacturing))
        outcome.status = simulation.status
        outcome.simulated = {c: float(getattr(simulation, c)) for c in OBJECTIVE_COLUMNS}
        if outcome.feasible or simulation.status != "ok":
            return outcome
        shortfall = floor - outcome.simulated[OBJECTIVE_COLUMNS[bound]]
        margin += 1.5 * shortfall + 1e-3 * abs(floor)
    return outcome
