"""(d) Large-step SGD in the interpolation regime: bounded aiming ratio, linear convergence.

On an over-parametrised two-layer ReLU network every sample can be fitted exactly. The aiming
ratio ``a(w) = <grad L(w), w - proj_S(w)> / L(w)`` (exactly 2 for linear least squares, with
``L = |r|^2 / (2n)``) stays bounded along the path, and SGD with one sample per step at the
*constant* step ``1/beta_max`` (``beta_max = max_i K_ii``, the per-sample smoothness) converges
linearly with far fewer sample-gradients than GD; a 10x smaller step is much slower.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.func import jacrev

from benchmarks.dynamics._common import (
    new_figure,
    save_figure,
    sign_task,
    single_thread,
    write_csv,
)
from hpo.dynamics import empirical_ntk, train, two_layer_relu
from hpo.dynamics._functional import output_function, trainable_parameters

WIDTHS = (256, 1024, 4096)
CHECKPOINTS = (0, 10, 30, 100, 300, 1000, 3000, 10000)


def aiming_ratio(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    max_iterations: int = 30,
    tolerance: float = 1e-13,
) -> float:
    """``<grad L, w - proj_S(w)> / L`` with ``proj_S`` approximated by Gauss-Newton steps ``w -= J^+ r``."""
    f = output_function(model)
    start = trainable_parameters(model)
    params = {k: v.clone() for k, v in start.items()}
    residual0 = f(start, inputs) - targets
    jacobian0 = jacrev(lambda p: f(p, inputs))(start)
    for _ in range(max_iterations):
        residual = f(params, inputs) - targets
        if residual.norm() <= tolerance * max(1.0, float(residual0.norm())):
            break
        jacobian = jacrev(lambda p: f(p, inputs))(params)
        rows = {k: j.reshape(j.shape[0], -1) for k, j in jacobian.items()}
        kernel = sum(r @ r.T for r in rows.values())
        coefficients = torch.linalg.solve(kernel, residual)  # minimum-norm step: J^T (J J^T)^-1 r
        params = {k: params[k] - (rows[k].T @ coefficients).reshape(params[k].shape) for k in params}
    n = inputs.shape[0]
    loss = float(residual0 @ residual0) / (2 * n)
    inner = sum(
        float(((jacobian0[k].reshape(n, -1).T @ residual0) / n) @ (start[k] - params[k]).reshape(-1)) for k in start
    )
    return inner / loss


def convergence_runs(
    width: int,
    *,
    n: int = 64,
    d: int = 10,
    target: float = 1e-8,
    max_iterations: int = 20000,
    seed: int = 0,
    checkpoints=CHECKPOINTS,
    aiming: bool = True,
    only: tuple[str, ...] | None = None,
) -> tuple[list[dict], dict]:
    """GD at 1/lam, SGD b=1 at 1/beta_max and 0.1/beta_max, SGD b=8 at 1/beta_max, to ``target`` x L0.

    ``only`` restricts the runs to the named ones (the keys of the table below).
    """
    inputs, targets = sign_task(n, d, seed=seed)
    kernel = empirical_ntk(two_layer_relu(d, width, seed=seed), inputs)
    lam, beta_max = float(torch.linalg.eigvalsh(kernel)[-1]) / n, float(torch.diagonal(kernel).max())
    # name: (batch size or None for full batch, step, whether to track the aiming ratio on its path)
    runs = {
        "GD, eta=1/lam": (None, 1 / lam, aiming),
        "SGD b=1, eta=1/beta": (1, 1 / beta_max, aiming),
        "SGD b=1, eta=0.1/beta": (1, 0.1 / beta_max, False),
        "SGD b=8, eta=1/beta": (8, 1 / beta_max, False),
    }
    if only is not None:
        runs = {name: runs[name] for name in only}
    rows, curves = [], {}
    for name, (batch, lr, track_aiming) in runs.items():
        model = two_layer_relu(d, width, seed=seed)
        ratios = []

        def record(step, model, loss, track_aiming=track_aiming, ratios=ratios):
            if track_aiming and step in checkpoints:
                ratios.append(aiming_ratio(model, inputs, targets))

        with torch.no_grad():
            initial = float(0.5 * ((model(inputs) - targets) ** 2).mean())
        record_ = train(
            model,
            inputs,
            targets,
            lr=lr,
            steps=max_iterations,
            batch_size=batch,
            loss="half_mse",
            seed=seed,
            stop_below=target * initial,
            callback=record,
        )
        converged = record_.losses[-1] <= target * initial
        iterations = len(record_.losses) - 1
        curves[name] = record_.losses
        rows.append(
            {
                "width": width,
                "run": name,
                "lr": lr,
                "lam": lam,
                "beta_max": beta_max,
                "converged": bool(converged),
                "iterations": iterations,
                "sample_gradients": iterations * (batch or n),
                "min_aiming_ratio": min(ratios) if ratios else float("nan"),
                "max_aiming_ratio": max(ratios) if ratios else float("nan"),
            }
        )
    return rows, curves


def run(out_dir: Path, *, seed: int = 0) -> dict:
    single_thread()
    rows, all_curves = [], {}
    for width in WIDTHS:
        width_rows, curves = convergence_runs(width, seed=seed)
        rows += width_rows
        all_curves[width] = curves
    write_csv(out_dir / "interpolation-sgd.csv", rows)
    fig, axes = new_figure(2)
    for name, losses in all_curves[WIDTHS[-1]].items():
        batch = 64 if name.startswith("GD") else int(name.split("b=")[1].split(",")[0])
        axes[0].loglog(np.arange(1, len(losses) + 1) * batch, losses / losses[0], label=name)
    axes[0].set_xlabel("sample-gradients")
    axes[0].set_ylabel("loss / initial")
    axes[0].set_title(f"width {WIDTHS[-1]}, n = 64", fontsize=10)
    axes[0].legend(fontsize=7)
    for name in ("GD, eta=1/lam", "SGD b=1, eta=1/beta"):
        sel = [r for r in rows if r["run"] == name]
        axes[1].plot([r["width"] for r in sel], [r["min_aiming_ratio"] for r in sel], "o-", label=f"{name}: min")
        axes[1].plot([r["width"] for r in sel], [r["max_aiming_ratio"] for r in sel], "^--", label=f"{name}: max")
    axes[1].axhline(2, color="grey", ls=":", label="linear least squares (2)")
    axes[1].set_xscale("log")
    axes[1].set_xticks(WIDTHS, [str(w) for w in WIDTHS])
    axes[1].minorticks_off()
    axes[1].set_ylim(0, 4)
    axes[1].set_xlabel("width m")
    axes[1].set_title("aiming ratio along the path", fontsize=10)
    axes[1].legend(fontsize=6)
    save_figure(fig, out_dir / "interpolation-sgd.png")
    return {f"{r['run']}@m={r['width']}": (r["iterations"], r["sample_gradients"], r["converged"]) for r in rows}
