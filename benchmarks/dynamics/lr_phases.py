"""(b) Learning-rate phases of a two-layer ReLU network, its quadratic model and its linearisation.

At eta = c / lam (lam = lambda_max(K)/n, loss 1/(2n) sum (f - y)^2): below c = 2 all three
decrease monotonically; for 2 < c < ~4 the linearisation diverges while the network and its
quadratic model catapult (spike, shrink their kernel below 2/eta, converge); above ~4 all diverge.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.dynamics._common import (
    new_figure,
    save_figure,
    sign_task,
    single_thread,
    write_csv,
)
from hpo.dynamics import (
    classify_phase,
    linearized_model,
    ntk_sharpness,
    quadratic_model,
    train,
    two_layer_relu,
)

C_VALUES = (1.5, 1.9, 2.2, 2.5, 3.0, 3.5, 3.8, 4.2, 5.0, 8.0)
MODEL_KINDS = {"network": lambda net: net, "quadratic": quadratic_model, "linearized": linearized_model}


def phase_runs(
    c_values=C_VALUES,
    *,
    width: int = 1024,
    n: int = 64,
    d: int = 10,
    steps: int = 800,
    seed: int = 0,
    kinds=tuple(MODEL_KINDS),
) -> tuple[list[dict], dict]:
    """Train each model kind at eta = c/lam for every c; returns (rows, loss curves by (kind, c))."""
    inputs, targets = sign_task(n, d, seed=seed)
    lam = ntk_sharpness(two_layer_relu(d, width, seed=seed), inputs, "half_mse")
    rows, curves = [], {}
    for c in c_values:
        for kind in kinds:
            model = MODEL_KINDS[kind](two_layer_relu(d, width, seed=seed))
            record = train(model, inputs, targets, lr=c / lam, steps=steps, loss="half_mse")
            losses = record.losses
            curves[(kind, c)] = losses
            initial, peak = losses[0], int(np.nanargmax(np.where(np.isfinite(losses), losses, np.inf)))
            final_sharpness = (
                ntk_sharpness(model, inputs, "half_mse")
                if not record.diverged and kind != "linearized"
                else float("nan")
            )
            rows.append(
                {
                    "model": kind,
                    "c": c,
                    "eta": c / lam,
                    "lam0": lam,
                    "phase": classify_phase(losses),
                    "steps_run": len(losses) - 1,
                    "peak_over_initial": float(losses[peak] / initial),
                    "peak_step": peak,
                    "final_over_initial": float(losses[-1] / initial),
                    "eta_times_final_lam": c / lam * final_sharpness,
                }
            )
    return rows, curves


def run(out_dir: Path, *, seed: int = 0) -> dict:
    single_thread()
    rows, curves = phase_runs(seed=seed)
    write_csv(out_dir / "lr-phases.csv", rows)
    fig, axes = new_figure(4, width_per_panel=3.6)
    colors = dict(zip(C_VALUES, __import__("matplotlib").colormaps["viridis"](np.linspace(0, 1, len(C_VALUES)))))
    for ax, kind in zip(axes, MODEL_KINDS):
        for c in C_VALUES:
            losses = curves[(kind, c)]
            ax.loglog(np.arange(1, len(losses) + 1), losses, color=colors[c], label=f"c={c}")
        ax.set_ylim(1e-8, 1e6)
        ax.set_title(f"{kind}: eta = c / lam", fontsize=10)
        ax.set_xlabel("GD step + 1")
    axes[0].set_ylabel("training loss")
    axes[2].legend(fontsize=6, ncol=2)
    markers = {"monotone": "o", "catapult": "^", "diverged": "x"}
    for offset, kind in zip((-0.06, 0.0, 0.06), MODEL_KINDS):
        for phase, marker in markers.items():
            points = [
                (r["c"] + offset, min(r["peak_over_initial"], 1e6))
                for r in rows
                if r["model"] == kind and r["phase"] == phase
            ]
            if points:
                axes[3].semilogy(
                    *zip(*points), marker, color=f"C{list(MODEL_KINDS).index(kind)}", label=f"{kind} {phase}"
                )
    axes[3].axvline(2, color="grey", lw=0.8)
    axes[3].axvline(4, color="grey", lw=0.8)
    axes[3].set_xlabel("c = eta * lam")
    axes[3].set_ylabel("peak loss / initial (capped 1e6)")
    axes[3].set_title("phases", fontsize=10)
    axes[3].legend(fontsize=5)
    save_figure(fig, out_dir / "lr-phases.png")
    phases = {(r["model"], r["c"]): r["phase"] for r in rows}
    return {"phases": {f"{k[0]}@c={k[1]}": v for k, v in phases.items()}}
