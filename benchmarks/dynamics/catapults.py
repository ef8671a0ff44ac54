"""(a) Catapults in (S)GD: spikes in the top NTK eigenspace, more of them with smaller batches.

(A) Full-batch GD at eta = 3/lam: at the loss peak almost all of the residual lies along the top
eigenvector of the *current* tangent kernel. (A') The same for the spikes of SGD with batch 4:
the residual's share in the top-5 eigenvectors of the full-batch kernel at each peak, against
the share one step before the spike. (B) SGD at a GD-stable eta = 1.5/lam: smaller
batches have a larger batch sharpness, cross 2/eta more often and catapult more; after a common
GD phase to near interpolation, their AGOP is better aligned with the true predictor's and their
test error is lower. (C) The same from full-batch GD with k "learning-rate bumps" to 2.4/lam_t.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from benchmarks.dynamics._common import (
    new_figure,
    save_figure,
    sign_task,
    single_thread,
    write_csv,
)
from hpo.dynamics import (
    agop,
    agop_alignment,
    detect_catapults,
    empirical_ntk,
    ntk_sharpness,
    sphere_inputs,
    train,
    two_layer_relu,
)

BATCH_SIZES = (256, 64, 16, 4)
BUMPS = (0, 1, 3, 5)


def residual_shares(model, inputs, targets, top: int = 5) -> dict:
    """Share of the full-batch residual's energy along the top-1 and top-``top`` eigenvectors of the current NTK."""
    values, vectors = torch.linalg.eigh(empirical_ntk(model, inputs))  # ascending: top eigenvectors last
    with torch.no_grad():
        residual = model(inputs) - targets
    projections = (vectors.T @ residual) ** 2
    energy = float(residual @ residual)
    return {
        "lam_t": float(values[-1]) / inputs.shape[0],
        "share_top1": float(projections[-1]) / energy,
        f"share_top{top}": float(projections[-top:].sum()) / energy,
        f"energy_outside_top{top}": energy - float(projections[-top:].sum()),
    }


def catapult_in_top_eigenspace(
    *, n: int = 64, d: int = 10, width: int = 1024, c: float = 3.0, steps: int = 60, seed: int = 0
) -> list[dict]:
    """GD at eta = c/lam; per step the loss and the residual's share in the top-1 / top-5 eigenvectors of K_t."""
    inputs, targets = sign_task(n, d, seed=seed)
    model = two_layer_relu(d, width, seed=seed)
    rows = []

    def record(step, model, loss):
        rows.append({"step": step, "loss": loss, **residual_shares(model, inputs, targets)})

    lam = ntk_sharpness(model, inputs, "half_mse")
    train(model, inputs, targets, lr=c / lam, steps=steps, loss="half_mse", callback=record)
    return rows


def product_target(inputs: torch.Tensor) -> torch.Tensor:
    """The rank-2 target f*(x) = x1 * x2, whose AGOP spans the first two coordinates."""
    return inputs[:, 0] * inputs[:, 1]


def product_task(n: int, d: int, *, seed: int):
    """Inputs on the sphere of radius sqrt(d) and their targets f*(x) = x1 * x2."""
    inputs = sphere_inputs(n, d, seed=seed)
    return inputs, product_target(inputs)


def sgd_spike_shares(
    batch: int = 4,
    *,
    n: int = 256,
    d: int = 20,
    width: int = 256,
    epochs: int = 60,
    seed: int = 0,
    max_spikes: int = 20,
) -> list[dict]:
    """Per SGD spike (the full-batch loss curve's, up to ``max_spikes``): the residual's share in the top
    eigenvectors of the full-batch kernel K_t at the peak, and the same share one step before the spike.

    The run is repeated with the same seed (the batches and steps are identical) to measure K_t only
    at those steps.
    """
    inputs, targets = product_task(n, d, seed=seed)

    def sgd(callback=None):
        model = two_layer_relu(d, width, seed=seed)
        lr = 1.5 / ntk_sharpness(model, inputs, "half_mse")
        return train(
            model,
            inputs,
            targets,
            lr=lr,
            steps=epochs * n // batch,
            batch_size=batch,
            loss="half_mse",
            seed=seed,
            callback=callback,
        )

    report = detect_catapults(sgd().losses)
    spikes = list(zip(report.start_steps, report.peak_steps, report.peak_losses))[:max_spikes]
    wanted = {start - 1: "before" for start, _, _ in spikes} | {peak: "peak" for _, peak, _ in spikes}
    measured = {}

    def record(step, model, loss):
        if step in wanted:
            measured[step] = residual_shares(model, inputs, targets)

    sgd(record)
    return [
        {
            "batch_size": batch,
            "seed": seed,
            "start_step": start,
            "peak_step": peak,
            "peak_loss": peak_loss,
            **{f"{key}_at_peak": value for key, value in measured[peak].items()},
            **{f"{key}_before": value for key, value in measured[start - 1].items()},
        }
        for start, peak, peak_loss in spikes
        if start - 1 in measured and peak in measured
    ]


def _finish_and_score(model, inputs, targets, test_inputs, test_targets, final_gd_steps: int) -> dict:
    """Common ending: GD at 0.5/lam_t to near interpolation, then AGOP alignment and test MSE."""
    lam = ntk_sharpness(model, inputs, "half_mse")
    train(model, inputs, targets, lr=0.5 / lam, steps=final_gd_steps, loss="half_mse")
    with torch.no_grad():
        test_mse = float(((model(test_inputs) - test_targets) ** 2).mean())
    reference = agop(product_target, test_inputs)
    return {"agop_alignment": agop_alignment(agop(model, test_inputs), reference), "test_mse": test_mse}


def sgd_batch_sweep(
    batch_sizes=BATCH_SIZES,
    *,
    n: int = 256,
    d: int = 20,
    width: int = 256,
    epochs: int = 60,
    final_gd_steps: int = 3000,
    seeds=(0, 1, 2),
    n_test: int = 1000,
) -> list[dict]:
    """(B) SGD at eta = 1.5/lam for ``epochs``, then common GD; spikes, AGOP alignment, test MSE."""
    rows = []
    for seed in seeds:
        inputs, targets = product_task(n, d, seed=seed)
        test_inputs, test_targets = product_task(n_test, d, seed=seed + 1000)
        alignment_at_init = agop_alignment(
            agop(two_layer_relu(d, width, seed=seed), test_inputs), agop(product_target, test_inputs)
        )
        for batch in batch_sizes:
            model = two_layer_relu(d, width, seed=seed)
            lam = ntk_sharpness(model, inputs, "half_mse")
            record = train(
                model,
                inputs,
                targets,
                lr=1.5 / lam,
                steps=epochs * n // batch,
                batch_size=batch,
                loss="half_mse",
                seed=seed,
            )
            spikes = detect_catapults(record.losses).count
            rows.append(
                {
                    "experiment": "sgd",
                    "seed": seed,
                    "batch_size": batch,
                    "bumps": "",
                    "spikes": spikes,
                    "agop_alignment_init": alignment_at_init,
                    **_finish_and_score(
                        model,
                        inputs,
                        targets,
                        test_inputs=test_inputs,
                        test_targets=test_targets,
                        final_gd_steps=final_gd_steps,
                    ),
                }
            )
    return rows


def gd_lr_bumps(
    bumps=BUMPS,
    *,
    n: int = 256,
    d: int = 20,
    width: int = 256,
    bump_every: int = 400,
    bump_factor: float = 2.4,
    final_gd_steps: int = 3000,
    seeds=(0, 1, 2),
    n_test: int = 1000,
) -> list[dict]:
    """(C) Full-batch GD; k times, every ``bump_every`` steps, eta = bump_factor / lam_t
    (k = 0: 60 steps at 1.5/lam)."""
    rows = []
    for seed in seeds:
        inputs, targets = product_task(n, d, seed=seed)
        test_inputs, test_targets = product_task(n_test, d, seed=seed + 1000)
        for k in bumps:
            model = two_layer_relu(d, width, seed=seed)
            if k == 0:
                curve = train(
                    model,
                    inputs,
                    targets,
                    lr=1.5 / ntk_sharpness(model, inputs, "half_mse"),
                    steps=60,
                    loss="half_mse",
                ).losses
            else:
                segments = []
                for _ in range(k):
                    lam_t = ntk_sharpness(model, inputs, "half_mse")
                    losses = train(
                        model, inputs, targets, lr=bump_factor / lam_t, steps=bump_every, loss="half_mse"
                    ).losses
                    segments.append(losses if not segments else losses[1:])  # each segment starts where the last ended
                curve = np.concatenate(segments)
            rows.append(
                {
                    "experiment": "gd_bumps",
                    "seed": seed,
                    "batch_size": n,
                    "bumps": k,
                    "spikes": detect_catapults(curve).count,
                    "agop_alignment_init": "",
                    **_finish_and_score(
                        model,
                        inputs,
                        targets,
                        test_inputs=test_inputs,
                        test_targets=test_targets,
                        final_gd_steps=final_gd_steps,
                    ),
                }
            )
    return rows


def _mean_by(rows, key):
    values = sorted({r[key] for r in rows}, key=lambda v: -v if key == "batch_size" else v)
    return [
        (
            v,
            {m: float(np.mean([r[m] for r in rows if r[key] == v])) for m in ("spikes", "agop_alignment", "test_mse")},
        )
        for v in values
    ]


def run(out_dir: Path, *, seed: int = 0) -> dict:
    single_thread()
    eigen_rows = catapult_in_top_eigenspace(seed=seed)
    seeds = (seed, seed + 1, seed + 2)
    sgd_rows, bump_rows = sgd_batch_sweep(seeds=seeds), gd_lr_bumps(seeds=seeds)
    spike_rows = [row for s in seeds for row in sgd_spike_shares(4, seed=s, max_spikes=10)]
    write_csv(out_dir / "catapults-sgd-spikes.csv", spike_rows)
    rows = [{"part": "A_top_eigenspace", **r} for r in eigen_rows]
    keys = list(rows[0])
    rows += [
        {"part": f"{'B' if r['experiment'] == 'sgd' else 'C'}_{r['experiment']}", **r} for r in sgd_rows + bump_rows
    ]
    keys += [k for k in rows[-1] if k not in keys]
    write_csv(out_dir / "catapults.csv", [{k: r.get(k, "") for k in keys} for r in rows])

    peak = max(eigen_rows, key=lambda r: r["loss"])
    fig, axes = new_figure(5, width_per_panel=3.6)
    steps = [r["step"] for r in eigen_rows]
    axes[0].semilogy(steps, [r["loss"] for r in eigen_rows], label="training loss")
    share = axes[0].twinx()
    share.plot(steps, [r["share_top1"] for r in eigen_rows], "C1", label="residual share, top-1 eigvec of K_t")
    share.set_ylim(0, 1.05)
    axes[0].set_title(f"(A) GD at 3/lam: share at peak {peak['share_top1']:.3f}", fontsize=9)
    axes[0].set_xlabel("GD step")
    axes[0].legend(fontsize=6, loc="upper right")
    share.legend(fontsize=6, loc="center right")
    sgd_means, bump_means = _mean_by(sgd_rows, "batch_size"), _mean_by(bump_rows, "bumps")
    for metric, ax, title in (
        ("agop_alignment", axes[2], "AGOP alignment with f*"),
        ("test_mse", axes[3], "test MSE"),
    ):
        ax.plot([m["spikes"] for _, m in sgd_means], [m[metric] for _, m in sgd_means], "o-", label="SGD, batch b")
        for b, m in sgd_means:
            ax.annotate(f"b={b}", (m["spikes"], m[metric]), fontsize=6)
        ax.plot(
            [m["spikes"] for _, m in bump_means],
            [m[metric] for _, m in bump_means],
            "s-",
            label="GD, k lr bumps",
        )
        for k, m in bump_means:
            ax.annotate(f"k={k}", (m["spikes"], m[metric]), fontsize=6)
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlabel("catapults (mean of 3 seeds)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=6)
    axes[1].axis("off")
    table = [["b", "spikes", "align", "test MSE"]] + [
        [str(b), f"{m['spikes']:.1f}", f"{m['agop_alignment']:.3f}", f"{m['test_mse']:.3f}"] for b, m in sgd_means
    ]
    table += [["k", "spikes", "align", "test MSE"]] + [
        [str(k), f"{m['spikes']:.1f}", f"{m['agop_alignment']:.3f}", f"{m['test_mse']:.3f}"] for k, m in bump_means
    ]
    axes[1].table(cellText=table, loc="center", fontsize=7)
    axes[1].set_title("(B) SGD batch b / (C) GD bumps k", fontsize=9)
    before = [r["share_top5_before"] for r in spike_rows]
    at_peak = [r["share_top5_at_peak"] for r in spike_rows]
    axes[4].plot(before, at_peak, "o", ms=3, label=f"{len(spike_rows)} SGD spikes (b=4, 3 seeds)")
    axes[4].plot([0, 1], [0, 1], "k:", lw=0.8, label="no change")
    axes[4].set_xlabel("share in top-5 of K_t, step before the spike")
    axes[4].set_ylabel("share in top-5 of K_t, at the peak")
    axes[4].set_title("(A') SGD spikes in the top eigenspace", fontsize=9)
    axes[4].legend(fontsize=6)
    save_figure(fig, out_dir / "catapults.png")
    return {
        "share_top1_at_peak": peak["share_top1"],
        "energy_outside_top5": (eigen_rows[0]["energy_outside_top5"], peak["energy_outside_top5"]),
        "sgd_spikes_share_top5": (float(np.mean(before)), float(np.mean(at_peak)), float(np.min(at_peak))),
        "sgd": dict(sgd_means),
        "bumps": dict(bump_means),
    }
