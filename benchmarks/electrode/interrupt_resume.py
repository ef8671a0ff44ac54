"""Interrupt ``hpo electrode dataset`` (Ctrl-C, then kill -9) and resume; compare with an
uninterrupted run. Prints the row counts at each step and whether the final sets agree.

    OMP_NUM_THREADS=1 python -m benchmarks.electrode.interrupt_resume --n 512 --points 10
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def dataset_command(out: Path, n: int, points: int) -> list[str]:
    launcher = "import sys; from hpo.cli import main; sys.exit(main(sys.argv[1:]))"
    return [
        sys.executable,
        "-c",
        launcher,
        "electrode",
        "dataset",
        "--n",
        str(n),
        "--out",
        str(out),
        "--points",
        str(points),
        "--no-progress",
    ]


def lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def interrupt_after(command: list[str], path: Path, rows: int, sig: int) -> int:
    """Start ``command``, send ``sig`` once ``path`` holds ``rows`` designs; return exit code."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while lines(path) < rows + 1 and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(sig)
    process.wait()
    return process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512, help="designs")
    parser.add_argument("--points", type=int, default=10, help="mesh points across the cathode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reference, resumed = Path(tmp) / "reference.csv", Path(tmp) / "resumed.csv"
        subprocess.run(dataset_command(reference, args.n, args.points), check=True, stdout=subprocess.DEVNULL)
        code = interrupt_after(dataset_command(resumed, args.n, args.points), resumed, args.n // 5, sig=signal.SIGINT)
        print(f"Ctrl-C (SIGINT): exit {code}, {lines(resumed) - 1} designs on disk")
        code = interrupt_after(dataset_command(resumed, args.n, args.points), resumed, args.n // 2, sig=signal.SIGKILL)
        print(f"kill -9 (SIGKILL): exit {code}, {lines(resumed) - 1} complete designs on disk")
        subprocess.run(dataset_command(resumed, args.n, args.points), check=True, stdout=subprocess.DEVNULL)
        final = pd.read_csv(resumed)
        print(f"resumed: {len(final)} rows, {final['design_id'].nunique()} unique design ids")
        ignore = ["solve_seconds"]  # wall-clock, differs run to run
        same = (
            pd.read_csv(reference)
            .sort_values("design_id")
            .drop(columns=ignore)
            .reset_index(drop=True)
            .equals(final.sort_values("design_id").drop(columns=ignore).reset_index(drop=True))
        )
        print(f"identical to the uninterrupted run: {same}")


if __name__ == "__main__":
    main()
