"""``hpo demo``: the toolkit's three jobs in a few minutes, each written to OUT.

1. Tuning: the RL tuner (``sac-hmr-pretrained``), TPE and GP tune the same scikit-learn model
   (``svc-digits``) side by side; one figure overlays their best-so-far curves.
2. A Pareto front: the electrode pipeline's surrogate front (C/5 energy vs 3C energy) from the shipped
   dataset, with a few points re-simulated by the P2D model.
3. Benchmarks: the ``smoke`` suite (random search against TPE, MOTPE on the bi-objective
   problem) and its rank table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hpo.cli.args import HelpFormatter, positive_int

TUNERS = ("sac-hmr-pretrained", "tpe", "gp")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the three jobs briefly: tune a model, an electrode Pareto front, a benchmark table",
        description=(
            "Tune an RBF SVC on scikit-learn's digits with the RL tuner, TPE and GP (OUT/tuning/), "
            "find the electrode energy-rate Pareto front (OUT/electrode/) and run the smoke "
            "benchmark suite (OUT/bench/). A rerun resumes what is finished."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--out", default="results/demo", help="output folder")
    parser.add_argument("--n-trials", type=positive_int, default=30, help="trials per tuner")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.set_defaults(func=run)


def run(args) -> int:
    out = Path(args.out)
    # A bar redrawn into a file or a pipe floods it: only on a terminal.
    progress = not args.no_progress and sys.stderr.isatty()
    started = time.perf_counter()
    files = _tune(out / "tuning", args.n_trials, progress)
    print(f"[1/3] tuning done in {time.perf_counter() - started:.0f} s\n", flush=True)

    step = time.perf_counter()
    files += _pareto(out / "electrode")
    print(f"[2/3] Pareto front done in {time.perf_counter() - step:.0f} s\n", flush=True)

    step = time.perf_counter()
    files += _bench(out / "bench", progress)
    print(f"[3/3] benchmark done in {time.perf_counter() - step:.0f} s\n", flush=True)

    print(f"demo finished in {time.perf_counter() - started:.0f} s; files:")
    for path in files:
        print(f"  {path}")
    return 0


def _pareto(out: Path) -> list[Path]:
    """Two fronts over the shipped dataset's surrogate, as ``hpo electrode pareto --out
    OUT/fixed-loading --fix loading=17.467 --evaluations 2000 --validate 3`` and ``hpo
    electrode pareto --out OUT --evaluations 2000 --validate 3`` make them: at the calibration
    data's loading, where there is no trade-off, then with the loading free, where the
    coating's thickness carries one. Each summary says how much of it the data resolve."""
    from surrogates.dataset import SHIPPED_DATASET, load_config, read_dataset
    from surrogates.manufacturing import CALIBRATION_LOADING
    from surrogates.pareto import run_pareto

    frame, config = read_dataset(SHIPPED_DATASET), load_config(SHIPPED_DATASET)
    files = []
    for title, folder, fixed in (
        (
            f"at the calibration data's loading ({CALIBRATION_LOADING} mg/cm2)",
            out / "fixed-loading",
            {"loading": CALIBRATION_LOADING},
        ),
        ("with the loading free (10-40 mg/cm2)", out, None),
    ):
        print(f"electrode front {title}:")
        report = run_pareto(frame, folder, evaluations=2000, validate=3, config=config, fixed=fixed)
        print(report.summary() + "\n")
        files += [folder / "front.png", folder / "front.csv"]
    return files


def _bench(out: Path, progress: bool) -> list[Path]:
    """The smoke suite in this process, as ``hpo bench --suite smoke --out OUT --workers 0``."""
    from benchmarks.bench import run_benchmark
    from hpo.cli.bench import summary_line

    command = f"hpo bench --suite smoke --out {out} --workers 0"
    summary, report = run_benchmark("smoke", out, workers=0, progress=progress, command=command)
    print(summary_line(summary, report))
    if summary.failed:
        raise SystemExit(1)
    return [report]


def _tune(out: Path, n_trials: int, progress: bool) -> list[Path]:
    import optuna

    from hpo.plotting import plot_comparison
    from hpo.tasks import get_task
    from hpo.tuning import tune

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    task = get_task("svc-digits")
    out.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{out / 'studies.db'}"
    studies = {}
    for tuner in TUNERS:
        started = time.perf_counter()
        result = tune(
            task.objective,
            task.space,
            optimizer=tuner,
            n_trials=n_trials,
            direction=task.direction,
            seed=0,
            storage=storage,
            study_name=f"svc-digits-{tuner}",
            show_progress_bar=progress,
        )
        studies[tuner] = result.study
        print(
            f"{tuner:>20}: best CV accuracy {result.best_value:.4f} "
            f"(test {task.test_score(result.best_params):.4f}) in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    figure = plot_comparison(studies, out / "convergence.png", title=f"svc-digits: {n_trials} trials per tuner")
    return [figure, out / "studies.db"]
