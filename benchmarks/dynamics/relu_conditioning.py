"""(e) ReLU soothes the NTK condition number; linear networks inherit the input Gram's.

On a tight cluster of similar inputs the input Gram is badly conditioned. A linear network's NTK
is ``(L+1)`` times the input Gram at every depth, so it keeps that condition number. ReLU
networks spread similar inputs apart in gradient-feature space (larger minimum angle), so their
NTK is better conditioned, more so with depth, and gradient descent needs fewer iterations.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from benchmarks.dynamics._common import (
    new_figure,
    save_figure,
    single_thread,
    write_csv,
)
from hpo.dynamics import (
    NTKMLP,
    analytic_ntk,
    condition_number,
    empirical_ntk,
    input_gram,
    min_gradient_angle,
    ntk_sharpness,
    train,
)

ANALYTIC_DEPTHS = (1, 2, 4, 8, 16, 32, 64)
EMPIRICAL_DEPTHS = (1, 2, 4)
ACTIVATION_GAINS = {"relu": math.sqrt(2.0), "linear": 1.0}  # He scaling keeps ReLU signals O(1)


def clustered_inputs(n: int = 32, d: int = 64, *, spread: float = 0.5, seed: int = 0) -> torch.Tensor:
    """``x = mu + spread * g`` around one random centre, rescaled to norm sqrt(d): similar inputs."""
    generator = torch.Generator().manual_seed(seed)
    centre = torch.randn(d, generator=generator, dtype=torch.float64)
    points = centre + spread * torch.randn(n, d, generator=generator, dtype=torch.float64)
    return points / points.norm(dim=1, keepdim=True) * math.sqrt(d)


def _kernel_row(source: str, activation: str, depth: int, kernel: torch.Tensor, **extra) -> dict:
    n = kernel.shape[0]
    diagonal = torch.sqrt(torch.diagonal(kernel))
    off_diagonal = (kernel / torch.outer(diagonal, diagonal)).sum() - n
    return {
        "source": source,
        "activation": activation,
        "depth": depth,
        "condition_number": condition_number(kernel),
        "min_angle_deg": min_gradient_angle(kernel),
        "mean_normalised_offdiag": float(off_diagonal / (n * (n - 1))),
        **extra,
    }


def analytic_conditioning(inputs: torch.Tensor, depths=ANALYTIC_DEPTHS) -> list[dict]:
    rows = [_kernel_row("input_gram", "none", 0, kernel=input_gram(inputs))]
    for activation in ACTIVATION_GAINS:
        rows += [
            _kernel_row("analytic", activation, L, kernel=analytic_ntk(inputs, depth=L, activation=activation))
            for L in depths
        ]
    return rows


def empirical_conditioning(
    inputs: torch.Tensor, depths=EMPIRICAL_DEPTHS, *, width: int = 512, seeds=(0, 1, 2)
) -> list[dict]:
    rows = []
    for activation, gain in ACTIVATION_GAINS.items():
        for L in depths:
            for seed in seeds:
                model = NTKMLP(inputs.shape[1], width, depth=L, activation=activation, gain=gain, seed=seed)
                rows.append(_kernel_row("empirical", activation, L, kernel=empirical_ntk(model, inputs), seed=seed))
    return rows


def gd_iterations(
    inputs: torch.Tensor,
    configurations=(("linear", 1), ("relu", 1), ("relu", 2), ("relu", 4)),
    *,
    width: int = 512,
    target: float = 1e-3,
    max_steps: int = 20000,
    seed: int = 0,
):
    """GD at eta = 1/lam on random +-1 labels: iterations to reach ``target`` times the initial loss."""
    labels = torch.randint(0, 2, (inputs.shape[0],), generator=torch.Generator().manual_seed(seed + 7)) * 2.0 - 1
    labels = labels.to(inputs.dtype)
    rows, curves = [], {}
    for activation, depth in configurations:
        model = NTKMLP(
            inputs.shape[1],
            width,
            depth=depth,
            activation=activation,
            gain=ACTIVATION_GAINS[activation],
            seed=seed,
        )
        lam = ntk_sharpness(model, inputs, "half_mse")
        with torch.no_grad():
            initial = float(0.5 * ((model(inputs) - labels) ** 2).mean())
        record = train(
            model, inputs, labels, lr=1.0 / lam, steps=max_steps, loss="half_mse", stop_below=target * initial
        )
        converged = record.losses[-1] <= target * initial
        rows.append(
            {
                "activation": activation,
                "depth": depth,
                "iterations": len(record.losses) - 1 if converged else -1,
            }
        )
        curves[(activation, depth)] = record.losses
    return rows, curves


def run(out_dir: Path, *, seed: int = 0) -> dict:
    single_thread()
    inputs = clustered_inputs(seed=seed)
    analytic = analytic_conditioning(inputs)
    empirical = empirical_conditioning(inputs)
    iterations, curves = gd_iterations(inputs, seed=seed)
    rows = [{**r, "seed": r.get("seed", ""), "gd_iterations": ""} for r in analytic + empirical]
    rows += [
        {
            "source": "gd",
            "activation": r["activation"],
            "depth": r["depth"],
            "condition_number": "",
            "min_angle_deg": "",
            "mean_normalised_offdiag": "",
            "seed": seed,
            "gd_iterations": r["iterations"],
        }
        for r in iterations
    ]
    write_csv(out_dir / "relu-conditioning.csv", rows)

    fig, axes = new_figure(3)
    gram = analytic[0]
    for metric, ax in (("condition_number", axes[0]), ("min_angle_deg", axes[1])):
        for activation, style in (("relu", "o-"), ("linear", "s-")):
            sel = [r for r in analytic if r["activation"] == activation]
            ax.plot(
                [r["depth"] for r in sel],
                [r[metric] for r in sel],
                style,
                label=f"{activation}, infinite width",
            )
            emp = [r for r in empirical if r["activation"] == activation]
            depths = sorted({r["depth"] for r in emp})
            ax.plot(
                depths,
                [np.mean([r[metric] for r in emp if r["depth"] == L]) for L in depths],
                "x",
                markersize=9,
                label=f"{activation}, width 512 (3 seeds)",
            )
        ax.axhline(gram[metric], color="grey", ls=":", label="input Gram")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("hidden layers L")
    axes[0].set_yscale("log")
    axes[0].set_title("NTK condition number", fontsize=10)
    axes[1].axhline(math.degrees(math.acos(0.25)), color="k", ls="--", lw=0.8, label="arccos(1/4)")
    axes[1].set_title("min angle between gradient features (deg)", fontsize=10)
    axes[0].legend(fontsize=6)
    axes[1].legend(fontsize=6)
    for (activation, depth), losses in curves.items():
        axes[2].semilogy(losses / losses[0], label=f"{activation}, L={depth}")
    axes[2].set_title("GD at eta = 1/lam, width 512", fontsize=10)
    axes[2].set_xlabel("GD step")
    axes[2].set_ylabel("loss / initial")
    axes[2].legend(fontsize=7)
    save_figure(fig, out_dir / "relu-conditioning.png")
    kappa = {f"{r['activation']}@L={r['depth']}": r["condition_number"] for r in analytic}
    return {
        "analytic_condition_number": kappa,
        "gd_iterations": {f"{r['activation']}@L={r['depth']}": r["iterations"] for r in iterations},
    }
