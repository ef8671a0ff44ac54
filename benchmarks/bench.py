"""``run_benchmark``: the Python call behind ``hpo bench`` (jobs, run, pack, report in one), and
``write_any_report``, behind ``hpo bench report``."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.report import CONFIG_FILE, DEFAULT_FOCUS, machine_info, read_config, write_report
from benchmarks.runner import RunSummary, pack_records, run_job, run_jobs
from benchmarks.suites import get_suite, make_jobs
from hpo.errors import UserError
from hpo.io import atomic_write_text

TRANSFER_SUITE = "transfer"
MULTI_FIDELITY_SUITE = "multi-fidelity"


def run_benchmark(
    suite: str,
    out: str | Path,
    *,
    problems: Sequence[str] | None = None,
    optimizers: Sequence[str] | None = None,
    seeds: int | None = None,
    n_trials: int | None = None,
    first_seed: int = 0,
    workers: int | None = None,
    dask: Any = None,
    progress: bool = True,
    focus: str = DEFAULT_FOCUS,
    command: str | None = None,
    pack: bool = True,
    raw_csv: bool = False,
) -> tuple[RunSummary, Path]:
    """Run ``suite`` (narrowed by ``problems``/``optimizers``/``seeds``/``n_trials``/``first_seed``, see
    ``benchmarks.suites.make_jobs``; for the ``transfer`` suite ``problems`` are families and
    ``optimizers`` its entries, see ``benchmarks.transfer.run.make_jobs``; for the
    ``multi-fidelity`` suite ``problems`` are learning-curve tables, ``optimizers`` pruner
    entries and ``n_trials`` the budget in trainings, see
    ``benchmarks.multi_fidelity.suite.make_jobs``) into ``out``,
    skipping runs finished earlier, pack the run files into ``out/runs.jsonl.xz`` (unless
    ``pack`` is false), then write ``out/report.md`` (``raw_csv``: also trials.csv and
    curves.csv). Returns what ran and the report's path.

    ``workers``: local processes (default: CPU count; 0 = this process). ``dask``: a
    scheduler address or a ``distributed.Client`` (then ``workers`` is ignored).
    ``command``: the command line recorded in the report (default: this process's argv).
    """
    if suite == TRANSFER_SUITE:  # leave one dataset out, with source studies
        from benchmarks.transfer import run as transfer

        jobs = transfer.make_jobs(
            problems,
            optimizers,
            seeds=seeds or transfer.DEFAULT_SEEDS,
            n_trials=n_trials or transfer.DEFAULT_TRIALS,
            first_seed=first_seed,
        )
        prepare = transfer.prepare  # the source studies, made once; its own job function
    elif suite == MULTI_FIDELITY_SUITE:  # pruners over learning-curve tables
        from benchmarks.multi_fidelity import suite as multi_fidelity

        jobs = multi_fidelity.make_jobs(
            problems,
            optimizers,
            seeds=seeds or multi_fidelity.DEFAULT_SEEDS,
            trainings=n_trials or multi_fidelity.DEFAULT_TRAININGS,
            first_seed=first_seed,
        )
        prepare = multi_fidelity.prepare
    else:
        jobs = make_jobs(
            suite, problems=problems, optimizers=optimizers, seeds=seeds, n_trials=n_trials, first_seed=first_seed
        )
        prepare = None
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out {str(out)!r}: cannot create the folder ({err.strerror})") from None
    run = run_job if prepare is None else prepare(out, jobs)
    config = {
        "command": pinned_command(command or shlex.join(sys.argv), suite, optimizers=optimizers, jobs=jobs),
        "suite": suite,
        "problems": sorted({j.problem for j in jobs}),
        "optimizers": sorted({j.optimizer for j in jobs}),
        "seeds": sorted({j.seed for j in jobs}),
        "jobs": len(jobs),
        "focus": focus,  # so that 'hpo bench report DIR' rebuilds the same report
        "machine": machine_info(),  # the report shows it; a rebuild elsewhere must not change it
    }
    recorded = read_config(out)
    if not covers(recorded, config):  # else: a rerun of part of the recorded benchmark, whose command still runs all
        atomic_write_text(out / CONFIG_FILE, json.dumps(config, indent=1) + "\n")
    summary = run_jobs(jobs, out, run=run, workers=workers, dask=dask, progress=progress)
    if pack:
        pack_records(out)
    return summary, write_any_report(out, focus=focus, raw_csv=raw_csv)


def covers(recorded: dict, config: dict) -> bool:
    """Whether the benchmark recorded in a folder's ``bench.json`` already holds every job of
    ``config`` (same suite; its problems, optimizers and seeds among the recorded ones): then a
    run such as ``--problems electrode`` after ``hpo bench check --drop`` reruns part of it, and
    the recorded command, which makes every run of the folder, is kept."""
    return (
        bool(recorded)
        and recorded.get("suite") == config["suite"]
        and all(set(config[key]) <= set(recorded.get(key) or ()) for key in ("problems", "optimizers", "seeds"))
    )


def pinned_command(command: str, suite: str, *, optimizers: Sequence[str] | None, jobs) -> str:
    """``command`` as it must be recorded to run the same jobs again: a suite that runs every
    registry optimizer resolves that list when it runs, and the registry grows, so the
    optimizers it ran are appended as ``--optimizers`` when none were given."""
    if optimizers or suite in (TRANSFER_SUITE, MULTI_FIDELITY_SUITE) or get_suite(suite).optimizers is not None:
        return command
    return f"{command} --optimizers {' '.join(sorted({job.optimizer for job in jobs}))}"


def write_any_report(out: str | Path, focus: str | None = None, *, raw_csv: bool = False) -> Path:
    """The report of the benchmark in ``out``: the transfer suite's own
    (``benchmarks.transfer.report``) or that of every other suite (``benchmarks.report``),
    as its ``bench.json`` says; the multi-fidelity suite's is ``benchmarks.multi_fidelity.report``."""
    if read_config(Path(out)).get("suite") == MULTI_FIDELITY_SUITE:
        from benchmarks.multi_fidelity.report import write_report as write_multi_fidelity_report

        return write_multi_fidelity_report(out)
    if read_config(Path(out)).get("suite") == TRANSFER_SUITE:
        from benchmarks.transfer.report import write_report as write_transfer_report

        return write_transfer_report(out)
    return write_report(out, focus, raw_csv=raw_csv)
