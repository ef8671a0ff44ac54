"""``run_benchmark``: the Python call behind ``hpo bench`` (jobs, run, pack, report in one)."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.report import CONFIG_FILE, DEFAULT_FOCUS, machine_info, write_report
from benchmarks.runner import RunSummary, pack_records, run_jobs
from benchmarks.suites import make_jobs
from hpo.errors import UserError
from hpo.io import atomic_write_text


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
    ``benchmarks.suites.make_jobs``; the ``transfer`` suite has its own runner,
    ``benchmarks.transfer``) into ``out``, skipping runs finished earlier, pack the run files
    into ``out/runs.jsonl.xz`` (unless ``pack`` is false), then write ``out/report.md``
    (``raw_csv``: also trials.csv and curves.csv). Returns what ran and the report's path.

    ``workers``: local processes (default: CPU count; 0 = this process). ``dask``: a
    scheduler address or a ``distributed.Client`` (then ``workers`` is ignored).
    ``command``: the command line recorded in the report (default: this process's argv).
    """
    if suite == "transfer":  # leave-one-dataset-out runs with source studies: its own runner
        from benchmarks.transfer.run import run

        return run(
            out,
            families=problems,
            entries=optimizers,
            seeds=seeds or 10,
            n_trials=n_trials or 100,
            first_seed=first_seed,
            workers=1 if workers is None else max(workers, 1),
            progress=progress,
        )
    jobs = make_jobs(
        suite, problems=problems, optimizers=optimizers, seeds=seeds, n_trials=n_trials, first_seed=first_seed
    )
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out {str(out)!r}: cannot create the folder ({err.strerror})") from None
    config = {
        "command": command or " ".join(shlex.quote(a) for a in sys.argv),
        "suite": suite,
        "problems": sorted({j.problem for j in jobs}),
        "optimizers": sorted({j.optimizer for j in jobs}),
        "seeds": sorted({j.seed for j in jobs}),
        "jobs": len(jobs),
        "focus": focus,  # so that 'hpo bench report DIR' rebuilds the same report
        "machine": machine_info(),  # the report shows it; a rebuild elsewhere must not change it
    }
    atomic_write_text(out / CONFIG_FILE, json.dumps(config, indent=1) + "\n")
    summary = run_jobs(jobs, out, workers=workers, dask=dask, progress=progress)
    if pack:
        pack_records(out)
    return summary, write_report(out, focus=focus, raw_csv=raw_csv)
