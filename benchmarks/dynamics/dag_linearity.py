"""(f) Transition to linearity of DAG networks: ||Hessian|| ~ (minimum in-degree)^-1/2.

Two networks: a two-hidden-layer tanh network of fixed width 2048 whose second layer and output
read only ``k`` random inputs each (so "width" in the paper's sense is the in-degree ``k``), and a
skip-connection network whose output reads both hidden layers, ``f = (v1.h1 + v2.h2)/sqrt(2m)``.
"""

from __future__ import annotations

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

IN_DEGREES = (16, 64, 256, 1024)
SKIP_WIDTHS = (64, 256, 1024, 4096)


def hessian_vs_in_degree(
    in_degrees=IN_DEGREES,
    *,
    width: int = 2048,
    d: int = 10,
    n_inputs: int = 3,
    seed: int = 0,
    dtype=torch.float32,
) -> list[dict]:
    inputs = sphere_inputs(n_inputs, d, seed=seed + 100, dtype=dtype)
    return [
        {
            "network": "sparse",
            "in_degree": k,
            "width": width,
            "hessian_norm": mean_hessian_norm(
                NTKMLP(d, width, depth=2, activation="tanh", in_degree=k, seed=seed, dtype=dtype), inputs
            ),
        }
        for k in in_degrees
    ]


def hessian_of_skip_network(
    widths=SKIP_WIDTHS, *, d: int = 10, n_inputs: int = 3, seed: int = 0, dtype=torch.float32
) -> list[dict]:
    inputs = sphere_inputs(n_inputs, d, seed=seed + 100, dtype=dtype)
    # every non-input neuron of the skip network has in-degree at least m
    return [
        {
            "network": "skip",
            "in_degree": m,
            "width": m,
            "hessian_norm": mean_hessian_norm(
                NTKMLP(d, m, depth=2, activation="tanh", skip_output=True, seed=seed, dtype=dtype), inputs
            ),
        }
        for m in widths
    ]


def run(out_dir: Path, *, seed: int = 0) -> dict:
    single_thread()
    rows = hessian_vs_in_degree(seed=seed) + hessian_of_skip_network(seed=seed)
    write_csv(out_dir / "dag-linearity.csv", rows)
    fig, axes = new_figure(1, width_per_panel=5.0)
    slopes = {}
    for network, label in (
        ("sparse", "sparse DAG, width 2048, in-degree k"),
        ("skip", "skip connections, width m"),
    ):
        sel = [r for r in rows if r["network"] == network]
        x, y = [r["in_degree"] for r in sel], [r["hessian_norm"] for r in sel]
        slopes[network] = slope = loglog_slope(x, y)
        axes[0].loglog(x, y, "o-", label=f"{label} (slope {slope:+.2f})")
    x = [16, 4096]
    axes[0].loglog(x, [0.6 * (v / 16) ** -0.5 for v in x], "k:", label="reference slope -1/2")
    axes[0].set_xlabel("minimum in-degree")
    axes[0].set_ylabel("output-Hessian spectral norm")
    axes[0].legend(fontsize=7)
    save_figure(fig, out_dir / "dag-linearity.png")
    return {"slopes": slopes}
