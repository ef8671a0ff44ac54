"""(c) Clean-priority learning: a U-shaped clean-test error under label noise.

Digits with 40% of the training labels flipped to a wrong class; a 64-512-10 ReLU network in NTK
parametrisation, started from the zero function (antisymmetric initialisation), trained by
full-batch GD on the squared loss to one-hot targets. At the start the noisy samples' gradient
is smaller than their share of the samples would give (|g_noisy|/|g_clean| below
n_noisy/n_clean): their wrong labels partly cancel, and the clean part sets the direction. That
dominance fades near the bottom of the U (the ratio reaches 1), then the noise gets fitted and
the clean-test error rises again. The first step where the training gradient stops agreeing
with the gradient on a small clean validation set (cosine <= 0) is the early-stopping signal.
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
    Antisymmetric,
    gradient_cosine,
    gradient_cosine_stop,
    split_gradient,
    train,
)

N_CLASSES = 10


def noisy_digits(
    *, noise: float = 0.4, n_train: int = 1203, seed: int = 0, dtype=torch.float32
) -> dict[str, torch.Tensor]:
    """sklearn digits, centred, each sample scaled to norm 8 = sqrt(64); ``noise`` of the train labels wrong.

    The samples not used for training (all clean) are split into validation and test halves.
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    inputs = torch.as_tensor(data.data, dtype=dtype)
    inputs = inputs - inputs.mean(dim=0)
    inputs = inputs / inputs.norm(dim=1, keepdim=True) * math.sqrt(inputs.shape[1])
    labels = torch.as_tensor(data.target)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=generator)
    train_idx, rest = order[:n_train], order[n_train:]
    val_idx, test_idx = rest[: len(rest) // 2], rest[len(rest) // 2 :]
    noisy = torch.zeros(n_train, dtype=torch.bool)
    noisy[torch.randperm(n_train, generator=generator)[: round(noise * n_train)]] = True
    observed = labels[train_idx].clone()
    # a wrong class: shift the true class by 1..9 (mod 10)
    shift = torch.randint(1, N_CLASSES, (int(noisy.sum()),), generator=generator)
    observed[noisy] = (observed[noisy] + shift) % N_CLASSES
    return {
        "x_train": inputs[train_idx],
        "y_train": observed,
        "true_train": labels[train_idx],
        "noisy": noisy,
        "x_val": inputs[val_idx],
        "y_val": labels[val_idx],
        "x_test": inputs[test_idx],
        "y_test": labels[test_idx],
    }


def _one_hot(labels: torch.Tensor, dtype) -> torch.Tensor:
    return torch.nn.functional.one_hot(labels, N_CLASSES).to(dtype)


def _error(model, inputs, labels) -> float:
    with torch.no_grad():
        return float((model(inputs).argmax(dim=1) != labels).double().mean())


def label_noise_run(
    *,
    noise: float = 0.4,
    n_train: int = 1203,
    width: int = 512,
    lr: float = 4.0,
    steps: int = 2000,
    every: int = 20,
    zero_output: bool = True,
    seed: int = 0,
    dtype=torch.float32,
) -> list[dict]:
    """Train and record, every ``every`` steps, the errors, the fit of each subset and the gradient statistics.

    Loss ``1/(2n) sum_i ||f(x_i) - onehot_i||^2`` with step ``lr``. float32 by default: this
    experiment asserts no threshold that float32 rounding could move, and it runs 4x faster.
    ``zero_output`` starts from the zero function (antisymmetric initialisation): otherwise both
    subsets' gradients are at first dominated by the label-independent pull that shrinks the
    random initial outputs, which makes them agree for a reason that has nothing to do with noise.
    """
    data = noisy_digits(noise=noise, n_train=n_train, seed=seed, dtype=dtype)
    model = NTKMLP(64, width, depth=1, out_features=N_CLASSES, seed=seed, dtype=dtype)
    if zero_output:
        model = Antisymmetric(model)
    targets, val_targets = _one_hot(data["y_train"], dtype), _one_hot(data["y_val"], dtype)
    noisy, has_noise = data["noisy"], bool(data["noisy"].any())
    rows = []

    def record(step, model, loss):
        # the clean dominance fades within the first ~100 steps: record those densely
        if step % every and not (step <= 100 and step % 5 == 0):
            return
        with torch.no_grad():
            predicted = model(data["x_train"]).argmax(dim=1)
        row = {
            "step": step,
            "train_loss": loss / n_train,
            "test_error": _error(model, data["x_test"], data["y_test"]),
            "val_error": _error(model, data["x_val"], data["y_val"]),
            "clean_fit": float((predicted[~noisy] == data["y_train"][~noisy]).double().mean()),
            "noisy_fit": float((predicted[noisy] == data["y_train"][noisy]).double().mean()) if has_noise else math.nan,
            "cos_train_val": gradient_cosine(model, (data["x_train"], targets), (data["x_val"], val_targets)),
        }
        if has_noise:
            split = split_gradient(model, data["x_train"], targets, noisy_mask=noisy)
            row.update(
                cos_total_clean=split.cos_total_clean,
                cos_noisy_clean=split.cos_noisy_clean,
                noisy_to_clean_norm=split.noisy_to_clean_norm,
            )
        else:
            row.update(cos_total_clean=math.nan, cos_noisy_clean=math.nan, noisy_to_clean_norm=math.nan)
        rows.append(row)

    # 1/(2n) sum ||f - y||^2 at step lr is the "half_sse" convention at step lr / n
    train(model, data["x_train"], targets, lr=lr / n_train, steps=steps + 1, loss="half_sse", callback=record)
    return rows


def summarise(rows: list[dict]) -> dict:
    """Oracle minimum, final error, and where the two early-stopping signals land."""
    steps = np.array([r["step"] for r in rows])
    test = np.array([r["test_error"] for r in rows])
    best = int(np.argmin(test))
    val_best = int(np.argmin([r["val_error"] for r in rows]))
    stop_step = gradient_cosine_stop(steps, [r["cos_train_val"] for r in rows])
    stop_index = int(np.flatnonzero(steps == stop_step)[0]) if stop_step is not None else len(rows) - 1
    ratios = np.array([r["noisy_to_clean_norm"] for r in rows])
    faded = np.flatnonzero(ratios >= 0.95)
    return {
        "noisy_to_clean_norm_at_start": float(ratios[0]),
        "cos_noisy_clean_at_start": rows[0]["cos_noisy_clean"],
        "dominance_fades_at_step": int(steps[faded[0]]) if faded.size else None,
        "min_test_error": float(test[best]),
        "argmin_step": int(steps[best]),
        "final_test_error": float(test[-1]),
        "final_step": int(steps[-1]),
        "clean_fit_at_min": rows[best]["clean_fit"],
        "noisy_fit_at_min": rows[best]["noisy_fit"],
        "val_stop_step": int(steps[val_best]),
        "val_stop_test_error": float(test[val_best]),
        "cosine_stop_step": stop_step,
        "cosine_stop_test_error": float(test[stop_index]),
    }


def run(out_dir: Path, *, seed: int = 0) -> dict:
    single_thread()
    noisy_rows = label_noise_run(seed=seed)
    clean_rows = label_noise_run(noise=0.0, seed=seed, every=100)
    count_ratio = 0.4 / 0.6
    write_csv(
        out_dir / "label-noise.csv",
        [{"noise": 0.4, **r} for r in noisy_rows] + [{"noise": 0.0, **r} for r in clean_rows],
    )
    summary, control = summarise(noisy_rows), summarise(clean_rows)

    fig, axes = new_figure(3)
    steps = [r["step"] for r in noisy_rows]
    axes[0].plot(steps, [r["test_error"] for r in noisy_rows], label="clean test error, 40% noise")
    axes[0].plot(
        [r["step"] for r in clean_rows],
        [r["test_error"] for r in clean_rows],
        label="clean test error, no noise",
    )
    axes[0].axvline(summary["argmin_step"], color="k", ls=":", lw=0.8, label="oracle minimum")
    if summary["cosine_stop_step"] is not None:
        axes[0].axvline(summary["cosine_stop_step"], color="C3", ls="--", lw=1, label="cos(g_train, g_val) <= 0")
    axes[0].set_ylim(0, 0.6)
    axes[0].set_title("U-curve under label noise", fontsize=10)
    axes[1].plot(steps, [r["clean_fit"] for r in noisy_rows], label="clean subset fitted")
    axes[1].plot(steps, [r["noisy_fit"] for r in noisy_rows], label="noisy subset fitted (to its wrong label)")
    axes[1].set_title("what the network fits", fontsize=10)
    axes[2].plot(steps, [r["cos_total_clean"] for r in noisy_rows], label="cos(g, g_clean)")
    axes[2].plot(steps, [r["cos_noisy_clean"] for r in noisy_rows], label="cos(g_noisy, g_clean)")
    axes[2].plot(steps, [r["noisy_to_clean_norm"] for r in noisy_rows], label="|g_noisy| / |g_clean|")
    axes[2].plot(steps, [r["cos_train_val"] for r in noisy_rows], label="cos(g_train, g_val)")
    axes[2].axhline(0, color="grey", lw=0.6)
    axes[2].axhline(count_ratio, color="C2", ls=":", lw=0.8, label="n_noisy / n_clean")
    axes[2].set_title("gradient split", fontsize=10)
    for ax in axes:
        ax.set_xscale("symlog", linthresh=100)
        ax.set_xlim(0, None)
        ax.set_xlabel("GD step")
        ax.legend(fontsize=6)
    save_figure(fig, out_dir / "label-noise.png")
    return {
        "noise_0.4": summary,
        "n_noisy_over_n_clean": count_ratio,
        "noise_0": {k: control[k] for k in ("min_test_error", "final_test_error")},
    }
