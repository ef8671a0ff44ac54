"""(g) Linearity emerges from assembling weak models: one dominant unit stops it.

The two-hidden-layer tanh network is a sum of ``m`` last-layer units, each contributing
O(m^-1/2). Giving one unit the output weight ``sqrt(m)`` makes it contribute O(1): the Hessian
norm then stops decaying with width, while the plain network's decays like m^-1/2. The dominant
unit's own random weights set its O(1) contribution, so the norm varies a lot between seeds:
the experiment shows several seeds and a 95% interval of the mean.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from benchmarks.dynamics._common import (
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


SEEDS = (0, 1, 2, 3, 4)


def hessian_with_and_without_dominant_unit(
    widths=WIDTHS, *, d: int = 10, n_inputs: int = 3, seeds=(0,), dtype=torch.float32
) -> list[dict]:
    """One row per seed, unit kind and width: the output-Hessian norm, mean over ``n_inputs`` inputs."""
    rows = []
    for seed in seeds:
        inputs = sphere_inputs(n_inputs, d, seed=seed + 100, dtype=dtype)
        rows += [
            {
                "seed": seed,
                "dominant_unit": dominant,
                "width": m,
                "hessian_norm": mean_hessian_norm(network(m, dominant=dominant, d=d, seed=seed, dtype=dtype), inputs),
            }
            for dominant in (False, True)
            for m in widths
        ]
    return rows


def mean_and_interval(values) -> tuple[float, float, float]:
    """Mean and the 95% t-interval of the mean."""
    values = np.asarray(values, dtype=float)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    return float(values.mean()), float(low), float(high)


def run(out_dir: Path, *, seed: int = 0) -> dict:
    single_thread()
    seeds = tuple(seed + s for s in SEEDS)
    rows = hessian_with_and_without_dominant_unit(seeds=seeds)
    write_csv(out_dir / "weak-models.csv", rows)
    fig, axes = new_figure(2, width_per_panel=4.6)
    summary = {}
    for index, (dominant, label) in enumerate(((False, "all units weak"), (True, "one dominant unit"))):
        by_width = [
            [r["hessian_norm"] for r in rows if r["dominant_unit"] == dominant and r["width"] == m] for m in WIDTHS
        ]
        means = [mean_and_interval(values) for values in by_width]
        ratios = [
            r_last["hessian_norm"] / r_first["hessian_norm"]
            for r_first, r_last in zip(
                [r for r in rows if r["dominant_unit"] == dominant and r["width"] == WIDTHS[0]],
                [r for r in rows if r["dominant_unit"] == dominant and r["width"] == WIDTHS[-1]],
            )
        ]
        ratio_mean, ratio_low, ratio_high = mean_and_interval(ratios)
        summary[label] = {
            "mean_by_width": [round(m[0], 3) for m in means],
            "ratio_largest_to_smallest_width": (round(ratio_mean, 2), round(ratio_low, 2), round(ratio_high, 2)),
        }
        color = f"C{index}"
        axes[0].loglog(WIDTHS, [m[0] for m in means], "o-", color=color, label=f"{label}: mean, 95% interval")
        axes[0].fill_between(WIDTHS, [m[1] for m in means], [m[2] for m in means], color=color, alpha=0.2)
        for values in zip(*by_width):
            axes[0].loglog(WIDTHS, values, ":", color=color, lw=0.6)
        axes[1].plot([index] * len(ratios), ratios, "o", color=color)
        axes[1].errorbar(
            index + 0.15,
            ratio_mean,
            yerr=[[ratio_mean - ratio_low], [ratio_high - ratio_mean]],
            fmt="s",
            color=color,
            capsize=3,
        )
    axes[0].set_xlabel("width m")
    axes[0].set_ylabel("output-Hessian spectral norm")
    axes[0].set_title(f"{len(seeds)} seeds (dotted: each seed)", fontsize=9)
    axes[0].legend(fontsize=7)
    axes[1].set_xticks([0, 1], ["all weak", "one dominant"])
    axes[1].set_xlim(-0.5, 1.5)
    axes[1].axhline((WIDTHS[-1] / WIDTHS[0]) ** -0.5, color="grey", ls=":", label="m^-1/2")
    axes[1].axhline(1, color="k", ls=":", lw=0.6, label="no decay")
    axes[1].set_ylabel(f"||H|| at m={WIDTHS[-1]} / at m={WIDTHS[0]}, per seed")
    axes[1].legend(fontsize=7)
    save_figure(fig, out_dir / "weak-models.png")
    return summary
