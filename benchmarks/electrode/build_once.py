"""Designs simulated per second: PyBaMM model built once (input parameters) vs rebuilt per design.

Each configuration simulates the same Sobol designs (both rates per design) in ``workers``
processes, each worker building its own model; the wall time includes the builds. Run:

    OMP_NUM_THREADS=1 python -m benchmarks.electrode.build_once --designs 64 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np


def simulate_chunk(task) -> list[str]:
    """Worker: build one model (or one per design when rebuilding) and simulate a chunk."""
    designs, rebuild, points = task
    from surrogates.manufacturing import ProcessParameters, manufacture
    from surrogates.p2d import P2DModel, P2DSettings

    model = P2DModel(P2DSettings(points_per_domain=points), rebuild=rebuild)
    return [model.simulate(manufacture(ProcessParameters(*d))).status for d in designs]


def measure(designs: np.ndarray, rebuild: bool, workers: int, points: int) -> dict:
    chunks = [(chunk.tolist(), rebuild, points) for chunk in np.array_split(designs, workers)]
    started = time.perf_counter()
    if workers == 1:
        statuses = simulate_chunk(chunks[0])
    else:
        with ProcessPoolExecutor(workers) as pool:
            statuses = [s for part in pool.map(simulate_chunk, chunks) for s in part]
    seconds = time.perf_counter() - started
    return {
        "mode": "rebuild per design" if rebuild else "build once",
        "workers": workers,
        "designs": len(designs),
        "ok": statuses.count("ok"),
        "seconds": round(seconds, 2),
        "designs_per_second": round(len(designs) / seconds, 2),
    }


def main() -> None:
    from surrogates.dataset import sobol_design

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", type=int, default=64, help="designs per configuration (build once)")
    parser.add_argument("--rebuild-designs", type=int, default=16, help="designs per configuration (rebuild; slow)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to measure")
    parser.add_argument("--points", type=int, default=20, help="mesh points per domain")
    parser.add_argument("--json", help="also write the rows as JSON here")
    args = parser.parse_args()
    design = sobol_design(max(args.designs, args.rebuild_designs), seed=7)[["am", "sc", "cd"]].to_numpy()
    rows = []
    for workers in args.workers:
        rows.append(measure(design[: args.designs], False, workers, args.points))
        rows.append(measure(design[: args.rebuild_designs], True, workers, args.points))
    print(f"{'mode':20s} {'workers':>7s} {'designs':>7s} {'ok':>4s} {'seconds':>8s} {'designs/s':>9s}")
    for row in rows:
        print(f"{row['mode']:20s} {row['workers']:7d} {row['designs']:7d} {row['ok']:4d} "
              f"{row['seconds']:8.2f} {row['designs_per_second']:9.2f}")
    for workers in args.workers:
        once = next(r for r in rows if r["workers"] == workers and r["mode"] == "build once")
        again = next(r for r in rows if r["workers"] == workers and r["mode"] != "build once")
        print(f"speed-up of build-once over rebuild, {workers} worker(s): "
              f"{once['designs_per_second'] / again['designs_per_second']:.1f}x")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
