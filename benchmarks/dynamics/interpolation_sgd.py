"""(d) Aiming towards the minimizers: SGD's iteration count against the bound the paper states.

Liu, Drusvyatskiy, Belkin, Davis & Ma show that an "aiming" condition near the solution set S,
``<grad L(w), w - proj_S(w)> >= theta L(w)``, gives SGD with one sample per step at a constant
step the *same worst-case iteration complexity* as GD, about ``(beta / mu) log(1/eps)`` with
``beta`` the per-sample smoothness (``beta_max = max_i K_ii``) and ``mu`` the PL constant
(``lambda_min(K)/n``). For linear least squares the aiming ratio ``a(w) = <grad L, w -
proj_S(w)>/L`` is exactly 2, so the condition says something only where the network is not
linear: narrow two-layer ReLU networks (width 16-64 for n = 64 samples), whose kernel moves a lot
in training. Measured per width: the ratio's range along the GD and SGD paths, the kernel's
relative change, the iterations of GD at ``1/lam`` and of SGD (batch 1) at ``1/beta_max``, and the
bounds ``(lam/mu) log(1/eps)`` (GD) and ``(beta_max/mu) log(1/eps)`` (SGD) at initialisation.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch.func import jacrev

from benchmarks.dynamics._common import (
    new_figure,
    save_figure,
    sign_task,
    single_thread,
    write_csv,
)
from hpo.dynamics import empirical_ntk, relative_ntk_change, train, two_layer_relu
from hpo.dynamics._functional import output_function, trainable_parameters

WIDTHS = (16, 32, 64, 256, 1024)
CHECKPOINTS = (0, 3, 10, 30, 100, 300, 1000, 3000, 10000)


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

    ``only`` restricts the runs to the named ones (the keys of the table below). Each row also
    holds the worst-case iteration bound of its method, ``(smoothness / mu) log(1/target)``.
    """
    inputs, targets = sign_task(n, d, seed=seed)
    initial_model = two_layer_relu(d, width, seed=seed)
    kernel = empirical_ntk(initial_model, inputs)
    eigenvalues = torch.linalg.eigvalsh(kernel)
    lam, mu = float(eigenvalues[-1]) / n, float(eigenvalues[0]) / n
    beta_max = float(torch.diagonal(kernel).max())
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
        smoothness = lam if batch is None else beta_max
        rows.append(
            {
                "width": width,
                "run": name,
                "lr": lr,
                "lam": lam,
                "beta_max": beta_max,
                "mu": mu,
                "converged": bool(converged),
                "iterations": iterations,
                "worst_case_bound": smoothness / mu * math.log(1 / target),
                "kernel_change": relative_ntk_change(initial_model, model, inputs) if converged else float("nan"),
                "sample_gradients": iterations * (batch or n),
                "min_aiming_ratio": min(ratios) if ratios else float("nan"),
                "max_aiming_ratio": max(ratios) if ratios else float("nan"),
            }
        )
    return rows, curves


MAIN_RUNS = ("GD, eta=1/lam", "SGD b=1, eta=1/beta")


def run(out_dir: Path, *, seed: int = 0) -> dict:
    single_thread()
    rows = []
    for width in WIDTHS:
        rows += convergence_runs(width, seed=seed, only=MAIN_RUNS)[0]
    write_csv(out_dir / "interpolation-sgd.csv", rows)
    fig, axes = new_figure(3, width_per_panel=4.4)
    for index, name in enumerate(MAIN_RUNS):
        sel = [r for r in rows if r["run"] == name]
        widths = [r["width"] for r in sel]
        axes[0].fill_between(
            widths,
            [r["min_aiming_ratio"] for r in sel],
            [r["max_aiming_ratio"] for r in sel],
            alpha=0.3,
            color=f"C{index}",
            label=f"{name}: min-max on the path",
        )
        axes[1].loglog(widths, [r["iterations"] for r in sel], "o-", color=f"C{index}", label=f"{name}: measured")
        axes[1].loglog(widths, [r["worst_case_bound"] for r in sel], "^--", color=f"C{index}", label=f"{name}: bound")
    axes[0].axhline(2, color="grey", ls=":", label="linear least squares (2)")
    axes[0].set_ylim(0, 4)
    axes[0].set_title("aiming ratio along the path", fontsize=10)
    gd = [r for r in rows if r["run"] == MAIN_RUNS[0]]
    sgd = [r for r in rows if r["run"] == MAIN_RUNS[1]]
    axes[2].semilogx(
        [r["width"] for r in gd],
        [s["iterations"] / g["iterations"] for s, g in zip(sgd, gd)],
        "o-",
        label="SGD / GD iterations",
    )
    axes[2].semilogx([r["width"] for r in gd], [g["beta_max"] / g["lam"] for g in gd], "k--", label="beta_max / lam")
    axes[2].set_title("SGD (b=1) / GD iterations; kernel change", fontsize=10)
    axes[1].set_title("iterations to 1e-8 x initial loss", fontsize=10)
    axes[2].plot([r["width"] for r in gd], [r["kernel_change"] for r in gd], "s:", label="GD: relative kernel change")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(WIDTHS, [str(w) for w in WIDTHS])
        ax.minorticks_off()
        ax.set_xlabel("width m (n = 64)")
        ax.legend(fontsize=6)
    save_figure(fig, out_dir / "interpolation-sgd.png")
    return {
        f"{r['run']}@m={r['width']}": {
            "iterations": r["iterations"],
            "bound": round(r["worst_case_bound"]),
            "aiming": (round(r["min_aiming_ratio"], 2), round(r["max_aiming_ratio"], 2)),
            "kernel_change": round(r["kernel_change"], 3),
        }
        for r in rows
    }
