"""``benchmarks.suites``: what each suite runs; every optimizer runs on the problems it handles,
random search always, and the optimizers that need source studies are left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.problems import (
    BBOB_FUNCTIONS,
)
from benchmarks.runner import Job
from benchmarks.suites import SUITES, make_jobs
from hpo.errors import UserError


def test_suites_of_every_optimizer_leave_out_those_that_need_source_studies():
    from benchmarks.suites import make_jobs

    assert "sac-hmr-transfer" not in {job.optimizer for job in make_jobs("standard", problems=["bbob-f01-d2"])}


def test_jobs_cover_compatible_optimizers_and_always_the_random_baseline():
    jobs = make_jobs("smoke", optimizers=["tpe", "nsga2"], seeds=3, n_trials=7)
    by_problem: dict[str, set] = {}
    for job in jobs:
        by_problem.setdefault(job.problem, set()).add(job.optimizer)
        assert job.n_trials == 7
    assert by_problem["bbob-f01-d2"] == {"random", "tpe"}  # nsga2 is multi-objective only
    assert by_problem["zdt1"] == {"random", "nsga2"}  # tpe (registry entry) is single-objective
    assert {job.seed for job in jobs} == {0, 1, 2}
    assert len(set(jobs)) == len(jobs)
    replicate = make_jobs("smoke", optimizers=["tpe", "nsga2"], seeds=3, n_trials=7, first_seed=10)
    assert {job.seed for job in replicate} == {10, 11, 12}
    assert [(j.problem, j.optimizer) for j in replicate] == [(j.problem, j.optimizer) for j in jobs]
    with pytest.raises(UserError, match="first_seed must be >= 0, got -1"):
        make_jobs("smoke", first_seed=-1)
    assert Job("p", "o", 1, 5).path("out") == Path("out/runs/p/o/seed1.json")


def test_standard_suite_covers_the_issue():
    jobs = make_jobs("standard")
    problems = {job.problem for job in jobs}
    assert {f"bbob-f{f:02d}-d{d}" for f in BBOB_FUNCTIONS for d in (2, 5)} <= problems
    assert {
        "svc-digits",
        "hgb-breast-cancer",
        "rf-wine",
        "kernel-ridge-diabetes",
        "mlp-digits",
        "electrode-biobjective",
        "zdt1",
        "zdt2",
        "zdt3",
        "dtlz1",
        "dtlz2",
    } <= problems
    assert {job.seed for job in jobs} == set(range(5))
    single = {job.optimizer for job in jobs if job.problem == "bbob-f01-d2"}
    assert {"random", "qmc", "tpe", "cmaes", "gp", "sac", "sac-hmr"} <= single
    assert SUITES["standard"].seeds == 5


def test_sac_ablation_suite_is_the_full_grid():
    jobs = make_jobs("sac-ablation")
    assert {job.problem for job in jobs} == {
        "branin-2d",
        "rosenbrock-4d",
        "hartmann-6d",
        "ackley-10d",
        "svc-breast-cancer",
        "tree-digits",
    }
    assert {job.optimizer for job in jobs} == {"sac-hmr", "sac", "random", "tpe"}
    assert {job.seed for job in jobs} == set(range(10))
    assert {job.n_trials for job in jobs} == {100}
    assert len(jobs) == 6 * 4 * 10
    # the ablation's problems stay out of the standard suite
    assert not {job.problem for job in make_jobs("standard")} & {job.problem for job in jobs}
