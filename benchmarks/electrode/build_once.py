"""Designs simulated per second: PyBaMM model built once (input parameters) vs rebuilt per design.

Each configuration simulates (on the model's default mesh, refinement of poorly conducting
designs included) the same Sobol designs (both rates per design) in ``workers``
processes, each worker building its own model; the time includes the builds. On a shared
machine wall time depends on what else runs, so each configuration is repeated and the best
run is kept, and the CPU time of the workers (``time.process_time``, insensitive to other
processes' load) is reported too. Run:

    OMP_NUM_THREADS=1 python -m benchmarks.electrode.build_once --designs 128 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np


def simulate_chunk(task) -> tuple[list[str], float]:
    """Worker: build one model (or one per design when rebuilding) and simulate a chunk.

    Returns the statuses and the CPU seconds this worker spent (build included).
    """
    designs, rebuild, points = task
    from surrogates.manufacturing import ProcessParameters, manufacture
    from surrogates.p2d import P2DModel, P2DSettings

    started = time.process_time()
    settings = P2DSettings() if points is None else P2DSettings(positive_points=points)
    model = P2DModel(settings, rebuild=rebuild)
    statuses = [model.simulate(manufacture(ProcessParameters(*d))).status for d in designs]
    return statuses, time.process_time() - started


def measure_once(
    designs: np.ndarray, rebuild: bool, workers: int, points: int | None
) -> tuple[float, float, list[str]]:
    chunks = [(chunk.tolist(), rebuild, points) for chunk in np.array_split(designs, workers)]
    started = time.perf_counter()
    if workers == 1:
        parts = [simulate_chunk(chunks[0])]
    else:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(simulate_chunk, chunks))
    wall = time.perf_counter() - started
    return wall, sum(cpu for _, cpu in parts), [s for statuses, _ in parts for s in statuses]


def measure(designs: np.ndarray, rebuild: bool, workers: int, points: int | None, repeats: int) -> dict:
    runs = [measure_once(designs, rebuild, workers, points=points) for _ in range(repeats)]
    wall, cpu, statuses = min(runs, key=lambda run: run[0])
    return {
        "mode": "rebuild per design" if rebuild else "build once",
        "workers": workers,
        "designs": len(designs),
        "ok": statuses.count("ok"),
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "designs_per_second": round(len(designs) / wall, 2),
        "designs_per_cpu_second": round(len(designs) / cpu, 2),
    }


def main() -> None:
    from surrogates.dataset import sobol_design

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", type=int, default=128, help="designs per configuration (build once)")
    parser.add_argument("--rebuild-designs", type=int, default=24, help="designs per configuration (rebuild; slow)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to measure")
    parser.add_argument("--points", type=int, help="mesh points across the cathode (default: the model's mesh)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per configuration; the fastest is kept")
    parser.add_argument("--json", help="also write the rows as JSON here")
    args = parser.parse_args()
    design = sobol_design(max(args.designs, args.rebuild_designs), seed=7)[["am", "sc", "cd"]].to_numpy()
    load_before = os.getloadavg()[0]
    rows = []
    for workers in args.workers:
        rows.append(measure(design[: args.designs], False, workers, points=args.points, repeats=args.repeats))
        rows.append(measure(design[: args.rebuild_designs], True, workers, points=args.points, repeats=args.repeats))
    print(f"load average (1 min) before: {load_before:.1f}, after: {os.getloadavg()[0]:.1f}")
    print(
        f"{'mode':20s} {'workers':>7s} {'designs':>7s} {'ok':>4s} {'wall s':>7s} {'CPU s':>7s} "
        f"{'designs/s':>9s} {'designs/CPU-s':>13s}"
    )
    for row in rows:
        print(
            f"{row['mode']:20s} {row['workers']:7d} {row['designs']:7d} {row['ok']:4d} {row['wall_seconds']:7.2f} "
            f"{row['cpu_seconds']:7.2f} {row['designs_per_second']:9.2f} {row['designs_per_cpu_second']:13.2f}"
        )
    for workers in args.workers:
        once = next(r for r in rows if r["workers"] == workers and r["mode"] == "build once")
        again = next(r for r in rows if r["workers"] == workers and r["mode"] != "build once")
        print(
            f"{workers} worker(s): build-once is {once['designs_per_second'] / again['designs_per_second']:.1f}x "
            f"faster in wall time, {once['designs_per_cpu_second'] / again['designs_per_cpu_second']:.1f}x in CPU time"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
