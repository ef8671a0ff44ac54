"""Shared pieces of the dynamics experiments: data, thread limits, CSV and figure output, slopes."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from hpo.dynamics import hessian_spectral_norm, sphere_inputs


def single_thread() -> None:
    """One BLAS/torch thread: small ops ran ~8x faster than with 2 threads on the shared machine."""
    from hpo.threads import limit_threads

    limit_threads(1)


def sign_task(n: int, d: int, *, seed: int = 0, dtype=torch.float64):
    """Points on the sphere of radius sqrt(d) labelled ``y = sign(x_1)``: the catapult papers' task."""
    inputs = sphere_inputs(n, d, seed=seed, dtype=dtype)
    return inputs, torch.sign(inputs[:, 0])


def loglog_slope(x, y) -> float:
    """Least-squares slope of log(y) against log(x)."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def mean_hessian_norm(model: torch.nn.Module, inputs: torch.Tensor, *, iterations: int = 30) -> float:
    """Output-Hessian spectral norm averaged over the rows of ``inputs`` (one HVP power iteration each)."""
    return float(
        np.mean(
            [
                hessian_spectral_norm(model, inputs[i : i + 1], iterations=iterations, seed=i)
                for i in range(inputs.shape[0])
            ]
        )
    )


def write_csv(path: Path, rows: list[dict]) -> Path:
    """Rows of dicts (same keys) to CSV; floats with 6 significant digits."""
    path = Path(path)
    fields = list(rows[0])
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return path


def new_figure(n_panels: int, *, width_per_panel: float = 4.2, height: float = 3.4):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n_panels, figsize=(width_per_panel * n_panels, height), squeeze=False)
    return fig, list(axes[0])


def save_figure(fig, path: Path) -> Path:
    """Small PNG (the docs keep them under 300 KB)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)
