"""The learning-rate range on the digits MLP: does its top end train, and does it help tuning?

``top_end_rows``: the benchmark's own training (:meth:`hpo.digits_mlp.DigitsMLP.train_and_evaluate`:
SGD, batch 64, 10 epochs) at the top of :func:`hpo.dynamics.lr_range` and at multiples of it, over
several seeds. ``compare_ranges``: the same optimizer (TPE via ``hpo.tune``), budget and seeds tune
the learning rate over a wide log range ``[1e-4, 10]`` and over the measured range. Reported: best
validation error after 3, 10 and all trials, and the test error of the chosen lr.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.dynamics._common import (
    new_figure,
    save_figure,
    single_thread,
    write_csv,
)
from hpo.digits_mlp import DigitsMLP
from hpo.dynamics import LearningRateRange, lr_range

WIDE_RANGE = (1e-4, 10.0)
BUDGETS = (3, 10)
TOP_MULTIPLES = (1.0, 1.5, 3.0)


def digits_lr_range(task: DigitsMLP, seed: int = 0, probe_size: int = 256) -> LearningRateRange:
    """The range ``hpo dynamics lr-range`` prints for the digits MLP: probes trained like the task (SGD, its batch)."""
    inputs, targets = task.probe(probe_size, seed)
    return lr_range(task.build_model(seed), inputs, targets, loss="mse", batch_size=task.batch_size, seed=seed)


def top_end_rows(task: DigitsMLP | None = None, seeds=(0, 1, 2), multiples=TOP_MULTIPLES) -> list[dict]:
    """Validation error of the task's own training at ``multiple x high`` of the seed-0 range, per seed."""
    task = task or DigitsMLP()
    found = digits_lr_range(task, seed=0)
    return [
        {
            "multiple_of_top": multiple,
            "lr": multiple * found.high,
            "lr_times_sharpness": multiple * found.high * found.sharpness,
            "seed": seed,
            "val_error": task.train_and_evaluate(multiple * found.high, seed=seed),
        }
        for multiple in multiples
        for seed in seeds
    ]


def compare_ranges(
    *, n_trials: int = 25, seeds=(0, 1, 2, 3, 4), optimizer: str = "tpe", task: DigitsMLP | None = None
) -> tuple[list[dict], dict, object]:
    """Returns (one row per range x seed, best-so-far curves by range, the suggested range)."""
    import optuna

    from hpo.tuning import tune

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    task = task or DigitsMLP()
    suggested = digits_lr_range(task, seed=0)
    ranges = {"wide [1e-4, 10]": WIDE_RANGE, "measured [0.3/s, probed top]": (suggested.low, suggested.high)}
    rows, curves = [], {name: [] for name in ranges}
    for name, (low, high) in ranges.items():
        for seed in seeds:
            space = {"lr": optuna.distributions.FloatDistribution(low, high, log=True)}
            # the model and data order are seeded per tuning seed: the two ranges see identical trials' noise
            result = tune(
                lambda params, seed=seed: task.train_and_evaluate(params["lr"], seed=seed),
                space,
                optimizer=optimizer,
                n_trials=n_trials,
                direction="minimize",
                seed=seed,
            )
            best_so_far = result.history["best_so_far"].to_numpy()
            curves[name].append(best_so_far)
            best_lr = result.best_params["lr"]
            rows.append(
                {
                    "range": name,
                    "low": low,
                    "high": high,
                    "seed": seed,
                    **{f"best_val_error_at_{b}": float(best_so_far[b - 1]) for b in BUDGETS},
                    f"best_val_error_at_{n_trials}": float(best_so_far[-1]),
                    "best_lr": best_lr,
                    "test_error_of_best": task.train_and_evaluate(best_lr, seed=seed, split="test"),
                }
            )
    return rows, curves, suggested


def markdown_table(rows: list[dict], n_trials: int) -> str:
    columns = [f"best_val_error_at_{b}" for b in (*BUDGETS, n_trials)] + ["test_error_of_best"]
    header = "| range | " + " | ".join(c.replace("_", " ") for c in columns) + " | best lr (median) |"
    lines = [header, "|" + "---|" * (len(columns) + 2)]
    for name in dict.fromkeys(r["range"] for r in rows):
        sel = [r for r in rows if r["range"] == name]
        cells = [f"{np.mean([r[c] for r in sel]):.3f} ± {np.std([r[c] for r in sel]):.3f}" for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {np.median([r['best_lr'] for r in sel]):.3g} |")
    return "\n".join(lines)


def run(out_dir: Path, *, seed: int = 0, n_trials: int = 25, n_seeds: int = 5) -> dict:
    single_thread()
    rows, curves, suggested = compare_ranges(n_trials=n_trials, seeds=tuple(range(seed, seed + n_seeds)))
    write_csv(out_dir / "lr-range-tuning.csv", rows)
    table = markdown_table(rows, n_trials)
    intro = (
        f"NTK sharpness s = {suggested.sharpness:.4g} (MSELoss, 256 probe samples); critical lr 2/s = "
        f"{suggested.critical:.4g}; measured range [{suggested.low:.4g}, {suggested.high:.4g}] (top from "
        f"{len(suggested.probes)} SGD probe runs). "
        f"TPE, {n_trials} trials, {n_seeds} seeds, mean ± std.\n\n"
    )
    (out_dir / "lr-range-tuning.md").write_text(intro + table + "\n")
    fig, axes = new_figure(1, width_per_panel=5.0)
    for name, runs in curves.items():
        stacked = np.vstack(runs)
        trials = np.arange(1, stacked.shape[1] + 1)
        axes[0].plot(trials, stacked.mean(axis=0), "o-", label=f"{name}: mean")
        axes[0].fill_between(trials, stacked.min(axis=0), stacked.max(axis=0), alpha=0.2, label=f"{name}: min-max")
    axes[0].set_xlabel("trial")
    axes[0].set_ylabel("best validation error so far")
    axes[0].set_yscale("log")
    axes[0].set_title(f"TPE on the lr of the digits MLP ({n_seeds} seeds)", fontsize=9)
    axes[0].legend(fontsize=7)
    save_figure(fig, out_dir / "lr-range-tuning.png")
    return {
        "suggested_range": (suggested.low, suggested.high),
        "critical_lr": suggested.critical,
        "table": table,
    }
