"""(h) Output-Hessian norm vs width with a linear and a non-linear (softplus) output layer.

Transition to linearity: ||d^2 f / dw^2|| ~ width^-1/2 while ||d f / dw|| stays of order one, so
the tangent kernel stays constant during training. A non-linear output layer breaks this: the
Hessian norm no longer decays, and the NTK moves during training at any width.
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
from hpo.dynamics import (
    NTKMLP,
    empirical_ntk,
    ntk_sharpness,
    output_gradient_norm,
    sphere_inputs,
    train,
)

WIDTHS = (64, 256, 1024, 4096)
OUTPUTS = {"linear": None, "softplus": "softplus"}


def hessian_vs_width(
    widths=WIDTHS,
    *,
    activations=("tanh", "relu"),
    outputs=tuple(OUTPUTS),
    depth: int = 2,
    d: int = 10,
    n_inputs: int = 3,
    seed: int = 0,
    dtype=torch.float32,
) -> list[dict]:
    """||H||, ||grad f|| and their ratio at ``n_inputs`` points, for each activation x output x width."""
    inputs = sphere_inputs(n_inputs, d, seed=seed + 100, dtype=dtype)
    rows = []
    for activation in activations:
        for output in outputs:
            for width in widths:
                model = NTKMLP(
                    d,
                    width,
                    depth=depth,
                    activation=activation,
                    gain=1.0,
                    output_activation=OUTPUTS[output],
                    seed=seed,
                    dtype=dtype,
                )
                hessian = mean_hessian_norm(model, inputs)
                gradient = float(
                    sum(output_gradient_norm(model, inputs[i : i + 1]) for i in range(n_inputs)) / n_inputs
                )
                rows.append(
                    {
                        "activation": activation,
                        "output": output,
                        "width": width,
                        "hessian_norm": hessian,
                        "gradient_norm": gradient,
                        "linearity_ratio": hessian / gradient**2,
                    }
                )
    return rows


def ntk_change_vs_width(
    widths=WIDTHS, *, output: str = "linear", n: int = 32, d: int = 10, seed: int = 0, max_steps: int = 20000
) -> list[dict]:
    """Relative NTK change after GD at eta = 1/lam to 1e-3 of the initial loss (1 hidden tanh layer)."""
    inputs = sphere_inputs(n, d, seed=seed)
    targets = 1.0 + 0.5 * torch.sign(inputs[:, 0])
    rows = []
    for width in widths:
        model = NTKMLP(d, width, depth=1, activation="tanh", output_activation=OUTPUTS[output], seed=seed)
        initial_kernel = empirical_ntk(model, inputs)
        lam = ntk_sharpness(model, inputs, "half_mse")
        with torch.no_grad():
            initial_loss = float(0.5 * ((model(inputs) - targets) ** 2).mean())
        record = train(
            model,
            inputs,
            targets,
            lr=1.0 / lam,
            steps=max_steps,
            loss="half_mse",
            stop_below=1e-3 * initial_loss,
        )
        change = float(
            torch.linalg.norm(empirical_ntk(model, inputs) - initial_kernel) / torch.linalg.norm(initial_kernel)
        )
        rows.append(
            {
                "output": output,
                "width": width,
                "steps": len(record.losses) - 1,
                "final_over_initial": float(record.losses[-1] / record.losses[0]),
                "relative_ntk_change": change,
            }
        )
    return rows


def run(out_dir: Path, *, seed: int = 0) -> dict:
    single_thread()
    hessian_rows = hessian_vs_width(seed=seed)
    change_rows = [row for output in OUTPUTS for row in ntk_change_vs_width(output=output, seed=seed)]
    rows = [{"part": "hessian", **r, "steps": "", "relative_ntk_change": ""} for r in hessian_rows]
    rows += [
        {
            "part": "ntk_change",
            "activation": "tanh",
            "output": r["output"],
            "width": r["width"],
            "hessian_norm": "",
            "gradient_norm": "",
            "linearity_ratio": "",
            "steps": r["steps"],
            "relative_ntk_change": r["relative_ntk_change"],
        }
        for r in change_rows
    ]
    write_csv(out_dir / "hessian-width.csv", rows)

    slopes = {}
    fig, axes = new_figure(3)
    for activation in ("tanh", "relu"):
        for output in OUTPUTS:
            sel = [r for r in hessian_rows if r["activation"] == activation and r["output"] == output]
            widths, norms = [r["width"] for r in sel], [r["hessian_norm"] for r in sel]
            slopes[f"{activation}/{output}"] = slope = loglog_slope(widths, norms)
            axes[0].loglog(
                widths,
                norms,
                "o-" if output == "linear" else "s--",
                label=f"{activation}, {output} output (slope {slope:+.2f})",
            )
            axes[1].semilogx(
                widths,
                [r["gradient_norm"] for r in sel],
                "o-" if output == "linear" else "s--",
                label=f"{activation}, {output}",
            )
    axes[0].set_title("output-Hessian spectral norm", fontsize=10)
    axes[1].set_title("gradient norm ||df/dw||", fontsize=10)
    axes[1].set_ylim(0, None)
    for output in OUTPUTS:
        sel = [r for r in change_rows if r["output"] == output]
        widths, changes = [r["width"] for r in sel], [r["relative_ntk_change"] for r in sel]
        slopes[f"ntk_change/{output}"] = slope = loglog_slope(widths, changes)
        axes[2].loglog(
            widths,
            changes,
            "o-" if output == "linear" else "s--",
            label=f"{output} output (slope {slope:+.2f})",
        )
    axes[2].set_title("relative NTK change after GD (tanh)", fontsize=10)
    for ax in axes:
        ax.set_xlabel("width m")
        ax.legend(fontsize=6)
    save_figure(fig, out_dir / "hessian-width.png")
    return {"slopes": slopes}
