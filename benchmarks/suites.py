"""Benchmark suites: which problems, optimizers, seeds and budgets a run covers.

``smoke``
    Seconds: three cheap single-objective problems and ZDT1, two optimizers per problem
    (random search and TPE; MOTPE on ZDT1), 2 seeds, 16 trials. The test suite runs it.
``standard``
    The full comparison: the 24 BBOB functions in 2 and 5 dimensions, the four scikit-learn
    tasks, the MLP, the tabular benchmarks, the electrode problems and ZDT1-3/DTLZ1-2, with
    every registry optimizer that handles the problem's number of objectives, 5 seeds.
    Budgets per group are in ``STANDARD_TRIALS``; docs/benchmarks.md has the cost.

``heldout``
    The evaluation of the pre-trained agent (docs/pretrained.md): problems never used in
    its training or model selection (the held-out BBOB functions f2, f8, f12, f17, f21 in 2
    and 10 dimensions with instances 1-10, a scikit-learn task, three tabular benchmarks,
    the electrode surrogate), the pre-trained agent, its three ablations and the baselines
    random, TPE, CMA-ES, GP and online SAC-HMR; 10 seeds, 100 trials.
``sac-ablation``
    The SAC-HMR ablation of docs/sac-hmr.md: SAC-HMR against plain SAC (the same agent
    without HMR), random search and TPE on four synthetic functions and two cheap
    scikit-learn tasks; 10 seeds, 100 trials (about an hour of one core).

Any subset: ``make_jobs(suite, problems=[...], optimizers=[...], seeds=N, n_trials=N)``
(names, shell patterns or group names for problems). Random search always runs too: it is
the baseline of the normalized regret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarks.problems import problem_group, problem_n_objectives, select_problems
from benchmarks.runner import Job
from envs.synthetic_functions import HELDOUT_BBOB_FUNCTIONS
from hpo.errors import UserError
from hpo.optimizers import get_optimizer
from hpo.optimizers import optimizers as registry_optimizers

BASELINE = "random"


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    problems: tuple[str, ...]  # names, patterns or group names (see select_problems)
    optimizers: tuple[str, ...] | None  # None: every registry optimizer at run time
    seeds: int
    n_trials: Mapping[str, int]  # per problem group
    default_trials: int = 50

    def trials_for(self, problem: str) -> int:
        return self.n_trials.get(problem_group(problem), self.default_trials)


# Budgets of the standard suite: a few hours on 2 cores (docs/benchmarks.md has the
# measured cost per group). Cheap black-box functions get more trials than the ML tasks.
STANDARD_TRIALS = {
    "bbob": 50,
    "sklearn": 30,
    "mlp": 25,
    "tabular": 50,
    "electrode": 50,
    "multi-objective": 60,
}

# Never seen by the pre-trained agent: its BBOB functions and instances are disjoint from
# envs.synthetic_functions' training split (instance = seed + 1 <= 10), the rest are real tasks.
HELDOUT_PROBLEMS = tuple(f"bbob-f{function:02d}-d{dim}" for dim in (2, 10) for function in HELDOUT_BBOB_FUNCTIONS) + (
    "kernel-ridge-diabetes",
    "fcnet-protein",
    "nb201-cifar10",
    "hpobench-kc1",
    "electrode-balanced",
)

SUITES: dict[str, Suite] = {
    suite.name: suite
    for suite in (
        Suite(
            name="smoke",
            description="seconds: 3 cheap problems + ZDT1, random vs TPE/MOTPE, 2 seeds, 16 trials",
            problems=("bbob-f01-d2", "bbob-f08-d2", "nb201-cifar10", "zdt1"),
            optimizers=("random", "tpe", "motpe"),
            seeds=2,
            n_trials={},
            default_trials=16,
        ),
        Suite(
            name="standard",
            description=(
                "24 BBOB functions (2-D, 5-D), 4 scikit-learn tasks, MLP, tabular, electrode, "
                "ZDT1-3/DTLZ1-2; every registry optimizer; 5 seeds"
            ),
            problems=(
                "bbob-*-d2",
                "bbob-*-d5",
                "sklearn",
                "mlp",
                "tabular",
                "electrode",
                "multi-objective",
            ),
            optimizers=None,
            seeds=5,
            n_trials=STANDARD_TRIALS,
        ),
        Suite(
            name="heldout",
            description=(
                "pre-trained SAC-HMR, its ablations and 5 baselines on problems held out from "
                "its training; 10 seeds, 100 trials"
            ),
            problems=HELDOUT_PROBLEMS,
            optimizers=(
                "random",
                "tpe",
                "cmaes",
                "gp",
                "sac-hmr",
                "sac-hmr-pretrained",
                "sac-pretrained",
                "sac-hmr-pretrained-frozen",
                "sac-hmr-scratch",
            ),
            seeds=10,
            n_trials={},
            default_trials=100,
        ),
        Suite(
            name="sac-ablation",
            description=(
                "SAC-HMR vs SAC (no HMR), random, TPE on 4 synthetic functions and 2 cheap "
                "scikit-learn tasks; 10 seeds, 100 trials"
            ),
            problems=("synthetic", "sklearn-small"),
            optimizers=("sac-hmr", "sac", "random", "tpe"),
            seeds=10,
            n_trials={},
            default_trials=100,
        ),
    )
}


def get_suite(name: str) -> Suite:
    try:
        return SUITES[name]
    except KeyError:
        raise UserError(f"suite {name!r} is unknown; allowed: {', '.join(SUITES)}") from None


def compatible(optimizer: str, n_objectives: int) -> bool:
    entry = get_optimizer(optimizer)
    return entry.multi_objective if n_objectives > 1 else entry.single_objective


def make_jobs(
    suite: Suite | str,
    *,
    problems: Sequence[str] | None = None,
    optimizers: Sequence[str] | None = None,
    seeds: int | None = None,
    n_trials: int | None = None,
    first_seed: int = 0,
) -> list[Job]:
    """The jobs of ``suite``, optionally narrowed or changed: ``problems`` (names, patterns,
    groups), ``optimizers`` (registry names), ``seeds`` (seeds ``first_seed`` ..
    ``first_seed + seeds - 1``: 0..N-1 by default; another first seed gives a replicate),
    ``n_trials`` (one budget for every problem). Each problem gets the chosen optimizers that handle its
    number of objectives, plus random search (the baseline of the normalized regret)."""
    if isinstance(suite, str):
        suite = get_suite(suite)
    names = select_problems(problems if problems else suite.problems)
    # "Every registry optimizer" leaves out those that need source studies (transfer) and
    # those of an extra (the peers: named with --optimizers, they run too).
    every = [
        name
        for name in registry_optimizers()
        if not get_optimizer(name).needs_sources and get_optimizer(name).extra is None
    ]
    chosen = list(optimizers) if optimizers else list(suite.optimizers or every)
    for name in chosen:
        get_optimizer(name)  # an unknown name is an error listing the allowed ones
    seeds = suite.seeds if seeds is None else seeds
    if seeds < 1:
        raise UserError(f"seeds must be >= 1, got {seeds}")
    if first_seed < 0:
        raise UserError(f"first_seed must be >= 0, got {first_seed}")
    if n_trials is not None and n_trials < 1:
        raise UserError(f"n_trials must be >= 1, got {n_trials}")
    jobs = []
    for problem in names:
        n_objectives = problem_n_objectives(problem)
        applicable = [o for o in chosen if compatible(o, n_objectives)]
        if BASELINE not in applicable:
            applicable.insert(0, BASELINE)
        budget = n_trials or suite.trials_for(problem)
        for optimizer in applicable:
            for seed in range(first_seed, first_seed + seeds):
                jobs.append(Job(problem, optimizer, seed, budget))
    return jobs
