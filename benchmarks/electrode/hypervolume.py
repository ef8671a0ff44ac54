"""Hypervolume vs evaluations: pymoo NSGA-II, Optuna NSGA-II and Optuna TPE on the surrogate;
and the surrogate route vs NSGA-II run directly on the P2D model.

Part 1 (``surrogate``): each optimizer (pymoo NSGA-II, SMS-EMOA, MOEA/D; Optuna NSGA-II,
TPE) gets the same evaluation budget on the surrogate for
several seeds; the hypervolume (normalized by the dataset's range, reference point (1, 1))
of everything evaluated so far is recorded at checkpoints. Writes a table (CSV, printed
as Markdown) and ``hypervolume_surrogate.png``.

Part 2 (``p2d``): NSGA-II on the P2D model itself for a budget that fits in ~10 minutes on
one core, against the surrogate front re-simulated with P2D (all its points) and against the
Sobol dataset itself. Hypervolumes are of P2D values in both cases. Writes a table and
``hypervolume_p2d.png``.

    OMP_NUM_THREADS=1 python -m benchmarks.electrode.hypervolume surrogate --out docs/figures/electrode
    OMP_NUM_THREADS=1 python -m benchmarks.electrode.hypervolume p2d --out docs/figures/electrode
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

OPTIMIZERS = ("pymoo NSGA-II", "pymoo SMS-EMOA", "pymoo MOEA/D", "Optuna NSGA-II", "Optuna TPE")
PYMOO_NAMES = {"pymoo NSGA-II": "nsga2", "pymoo SMS-EMOA": "smsemoa", "pymoo MOEA/D": "moead"}


def markdown_table(frame: pd.DataFrame, index: bool = True) -> str:
    """A Markdown table (pandas' to_markdown needs the optional 'tabulate' package)."""
    frame = frame.reset_index() if index else frame
    cells = [[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row] for row in frame.itertuples(index=False)]
    header = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def checkpoints_for(budget: int) -> list[int]:
    marks = [25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 4000]
    return [m for m in marks if m < budget] + [budget]


def run_optimizer(name: str, objectives, budget: int, seed: int, population: int):
    from surrogates.pareto import run_optuna, run_pymoo

    if name in PYMOO_NAMES:
        return run_pymoo(objectives, PYMOO_NAMES[name], budget, seed=seed, population=population)[1]
    if name == "Optuna NSGA-II":
        return run_optuna(objectives, "nsga2", budget, seed=seed, population=population)
    return run_optuna(objectives, "tpe", budget, seed=seed, population=population)


def plot_curves(table: pd.DataFrame, path: Path, title: str, xlabel: str, markers: dict | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.0), dpi=110)
    for name, group in table.groupby("optimizer", sort=False):
        stats = group.groupby("evaluations")["hypervolume"].agg(["mean", "min", "max"])
        ax.plot(stats.index, stats["mean"], marker="o", ms=3, label=name)
        ax.fill_between(stats.index, stats["min"], stats["max"], alpha=0.2)
    for label, (x, y) in (markers or {}).items():
        ax.scatter([x], [y], marker="*", s=120, zorder=3, label=label)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("normalized hypervolume")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def surrogate_benchmark(args) -> None:
    from surrogates.dataset import SHIPPED_DATASET, read_dataset
    from surrogates.models import Surrogate
    from surrogates.pareto import HypervolumeScale

    frame = read_dataset(SHIPPED_DATASET)
    surrogate = Surrogate.from_dataset(frame)
    scale = HypervolumeScale.from_dataset(frame)
    marks = checkpoints_for(args.budget)
    rows = []
    for name in OPTIMIZERS:
        for seed in range(args.seeds):
            started = time.perf_counter()
            log = run_optimizer(name, surrogate.predict, args.budget, seed=seed, population=args.population)
            seconds = time.perf_counter() - started
            for mark, hv in zip(marks, scale.curve(log, marks)):
                rows.append(
                    {"optimizer": name, "seed": seed, "evaluations": mark, "hypervolume": hv, "seconds": seconds}
                )
            print(f"{name:15s} seed {seed}: HV {rows[-1]['hypervolume']:.4f} in {seconds:.1f} s", flush=True)
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "hypervolume_surrogate.csv", index=False)
    summary = table.pivot_table(index="evaluations", columns="optimizer", values="hypervolume", aggfunc="mean")
    print(f"\nmean normalized hypervolume over {args.seeds} seeds (surrogate objectives)\n")
    print(markdown_table(summary[list(OPTIMIZERS)]))
    times = table.groupby("optimizer", sort=False)["seconds"].mean()
    print("\nmean wall time per run [s]: " + ", ".join(f"{k} {v:.1f}" for k, v in times.items()))
    plot_curves(
        table,
        out / "hypervolume_surrogate.png",
        f"Surrogate problem, {args.seeds} seeds (band: min-max)",
        xlabel="surrogate evaluations",
    )


def p2d_benchmark(args) -> None:
    from surrogates.dataset import SHIPPED_DATASET, read_dataset
    from surrogates.models import Surrogate
    from surrogates.pareto import HypervolumeScale, P2DObjectives, nondominated, run_pymoo

    frame = read_dataset(SHIPPED_DATASET)
    scale = HypervolumeScale.from_dataset(frame)
    good = frame[frame["status"] == "ok"]
    dataset_values = good[["energy_wh_per_kg", "energy_3c_wh_per_kg"]].to_numpy()

    # Surrogate route: the whole NSGA-II front on the surrogate, re-simulated with P2D.
    started = time.perf_counter()
    surrogate = Surrogate.from_dataset(frame)
    result, _ = run_pymoo(surrogate.predict, "nsga2", 4000, seed=0, population=50)
    x_front = np.atleast_2d(result.X)[nondominated(-np.atleast_2d(result.F))]
    physics = P2DObjectives()
    resimulated = physics(x_front)
    surrogate_seconds = time.perf_counter() - started
    hv_surrogate_route = scale.hypervolume(resimulated)

    # Direct route: NSGA-II with the P2D model as the objective.
    rows = []
    marks = checkpoints_for(args.p2d_budget)
    direct = {}
    for seed in range(args.p2d_seeds):
        started = time.perf_counter()
        objectives = P2DObjectives()
        _, log = run_pymoo(objectives, "nsga2", args.p2d_budget, seed=seed, population=args.population)
        direct[seed] = (time.perf_counter() - started, objectives.failures)
        for mark, hv in zip(marks, scale.curve(log, marks)):
            rows.append({"optimizer": "pymoo NSGA-II on P2D", "seed": seed, "evaluations": mark, "hypervolume": hv})
        print(
            f"NSGA-II on P2D seed {seed}: HV {rows[-1]['hypervolume']:.4f} after {args.p2d_budget} "
            f"P2D calls in {direct[seed][0]:.0f} s ({direct[seed][1]} failed)",
            flush=True,
        )
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "hypervolume_p2d.csv", index=False)
    n_data = len(frame)
    summary = pd.DataFrame(
        [
            {
                "route": "Sobol dataset alone",
                "P2D calls": n_data,
                "hypervolume (P2D values)": scale.hypervolume(dataset_values),
            },
            {
                "route": f"surrogate front re-simulated ({len(x_front)} points)",
                "P2D calls": n_data + len(x_front),
                "hypervolume (P2D values)": hv_surrogate_route,
            },
        ]
        + [
            {
                "route": f"NSGA-II on P2D, seed {seed} ({seconds:.0f} s)",
                "P2D calls": args.p2d_budget,
                "hypervolume (P2D values)": float(table[(table.seed == seed)].hypervolume.iloc[-1]),
            }
            for seed, (seconds, _) in direct.items()
        ]
    )
    print()
    print(markdown_table(summary, index=False))
    print(
        f"\nsurrogate route after the dataset: {surrogate_seconds:.1f} s "
        f"(fit, NSGA-II, {len(x_front)} P2D re-simulations)"
    )
    plot_curves(
        table,
        out / "hypervolume_p2d.png",
        "P2D hypervolume vs P2D calls",
        xlabel="P2D simulations",
        markers={
            "Sobol dataset": (n_data, scale.hypervolume(dataset_values)),
            "surrogate front re-simulated": (n_data + len(x_front), hv_surrogate_route),
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Electrode hypervolume benchmarks")
    parser.add_argument("part", choices=["surrogate", "p2d"], help="which comparison to run")
    parser.add_argument("--out", default="docs/figures/electrode", help="directory for CSV and PNG")
    parser.add_argument("--budget", type=int, default=1000, help="surrogate evaluations per run")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per optimizer (surrogate part)")
    parser.add_argument("--population", type=int, default=50, help="NSGA-II population size")
    parser.add_argument("--p2d-budget", type=int, default=2000, help="P2D calls for NSGA-II on P2D")
    parser.add_argument("--p2d-seeds", type=int, default=1, help="seeds for NSGA-II on P2D")
    args = parser.parse_args()
    surrogate_benchmark(args) if args.part == "surrogate" else p2d_benchmark(args)


if __name__ == "__main__":
    main()
