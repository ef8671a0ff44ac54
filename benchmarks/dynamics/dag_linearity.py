"""(f) Transition to linearity of DAG networks: does ||Hessian|| follow (minimum in-degree)^-1/2?

Zhu, Liu & Belkin bound the output Hessian of a DAG network by O(1/sqrt(minimum in-degree)). To
see the in-degree alone, the number of units must stay fixed: two tanh hidden layers of width
2048 whose second layer reads ``k`` random units of the first, and whose output reads all 2048
(``dense_output``). Two contrasts: the same network with the output also reading only ``k``
units (then only ``k`` last-layer units reach the output: an effective width of ``k``), and a
dense network of width ``k``. Last, a skip-connection network ``f = (v1.h1 + v2.h2)/sqrt(2m)``,
whose minimum in-degree is its width ``m``.
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
# network -> (its label, its NTKMLP keywords at in-degree k and fixed width)
VARIANTS = {
    "hidden in-degree k": ("hidden in-degree k, output reads all units", {"dense_output": True}),
    "all in-degrees k": ("output reads k units too (effective width k)", {"dense_output": False}),
    "dense width k": ("dense network of width k", {}),
}


def _network(variant: str, k: int, width: int, d: int, seed: int, dtype) -> NTKMLP:
    keywords = VARIANTS[variant][1]
    if variant == "dense width k":
        return NTKMLP(d, k, depth=2, activation="tanh", seed=seed, dtype=dtype)
    return NTKMLP(d, width, depth=2, activation="tanh", in_degree=k, seed=seed, dtype=dtype, **keywords)


def hessian_vs_in_degree(
    in_degrees=IN_DEGREES,
    *,
    variants=tuple(VARIANTS),
    width: int = 2048,
    d: int = 10,
    n_inputs: int = 3,
    seed: int = 0,
    dtype=torch.float32,
) -> list[dict]:
    """One row per variant and in-degree ``k``: the output-Hessian norm, mean over ``n_inputs`` inputs."""
    inputs = sphere_inputs(n_inputs, d, seed=seed + 100, dtype=dtype)
    return [
        {
            "network": variant,
            "in_degree": k,
            "width": k if variant == "dense width k" else width,
            "hessian_norm": mean_hessian_norm(_network(variant, k, width, d=d, seed=seed, dtype=dtype), inputs),
        }
        for variant in variants
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
    fig, axes = new_figure(1, width_per_panel=5.5, height=3.8)
    slopes = {}
    labels = {name: label for name, (label, _) in VARIANTS.items()} | {"skip": "skip connections, width m"}
    for network, label in labels.items():
        sel = [r for r in rows if r["network"] == network]
        x, y = [r["in_degree"] for r in sel], [r["hessian_norm"] for r in sel]
        slopes[network] = slope = loglog_slope(x, y)
        axes[0].loglog(x, y, "o-", label=f"{label} (slope {slope:+.2f})")
    x = [16, 4096]
    axes[0].loglog(x, [0.6 * (v / 16) ** -0.5 for v in x], "k:", label="reference slope -1/2")
    axes[0].set_xlabel("minimum in-degree k (width 2048 unless stated)")
    axes[0].set_ylabel("output-Hessian spectral norm")
    axes[0].legend(fontsize=7)
    save_figure(fig, out_dir / "dag-linearity.png")
    return {"slopes": slopes}
