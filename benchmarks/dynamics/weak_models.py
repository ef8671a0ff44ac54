"""(g) Linearity emerges from assembling weak models: one dominant unit stops it.

The two-hidden-layer tanh network is a sum of ``m`` last-layer units, each contributing
O(m^-1/2). Giving one unit the output weight ``sqrt(m)`` makes it contribute O(1): the Hessian
norm then stops decaying with width, while the plain network's decays like m^-1/2.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from benchmarks.dynamics._common import (
    loglog_slope,
    mean_hessian_norm,
    new_figure,
    save_figure,
    single_thread,
    write_csv,
)
from hpo.dynamics import NTKMLP, sphere_inputs

WIDTHS = (64, 256, 1024, 4096)


def network(width: int, *, dominant: bool, d: int = 10, seed: int = 0, dtype=torch.float32) -> NTKMLP:
    model = NTKMLP(d, width, depth=2, activation="tanh", seed=seed, dtype=dtype)
    if dominant:
        with torch.no_grad():
            model.output.weight[0, 0] = math.sqrt(width)  # / sqrt(m) in the layer: this unit counts O(1)
    return model


def hessian_with_and_without_dominant_unit(
    widths=WIDTHS, *, d: int = 10, n_inputs: int = 3, seed: int = 0, dtype=torch.float32
) -> list[dict]:
    inputs = sphere_inputs(n_inputs, d, seed=seed + 100, dtype=dtype)
    return [
        {
            "dominant_unit": dominant,
            "width": m,
            "hessian_norm": mean_hessian_norm(network(m, dominant=dominant, d=d, seed=seed, dtype=dtype), inputs),
        }
        for dominant in (False, True)
        for m in widths
    ]


def run(out_dir: Path, *, seed: int = 0) -> dict:
    single_thread()
    rows = hessian_with_and_without_dominant_unit(seed=seed)
    write_csv(out_dir / "weak-models.csv", rows)
    fig, axes = new_figure(1, width_per_panel=5.0)
    ratios = {}
    for dominant, label in ((False, "all units weak"), (True, "one dominant unit")):
        sel = [r for r in rows if r["dominant_unit"] == dominant]
        x, y = [r["width"] for r in sel], [r["hessian_norm"] for r in sel]
        ratios[label] = y[-1] / y[0]
        axes[0].loglog(x, y, "o-", label=f"{label} (slope {loglog_slope(x, y):+.2f})")
    axes[0].set_xlabel("width m")
    axes[0].set_ylabel("output-Hessian spectral norm")
    axes[0].legend(fontsize=7)
    save_figure(fig, out_dir / "weak-models.png")
    return {"hessian_ratio_largest_to_smallest_width": ratios}
