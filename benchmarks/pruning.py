"""What pruning saves: epochs of training spent until a validation error is reached.

TPE tunes the digits MLP (``hpo.digits_mlp.DigitsMLP``: SGD on MSE, the model of
``hpo dynamics lr-range``) over a wide learning-rate range, 1e-3 to 100, and the hidden width,
with each pruner of the registry. Every trial reports its validation error and training loss
per epoch (``DigitsMLP.train_and_evaluate(..., reporter=)``). For ``dynamics`` the
objective also skips, before training, a learning rate above the top of the range that
``hpo.dynamics.lr_range`` measures on the initial model (once per width).

The cost of a run is the number of epochs it trained; the figure of merit is the number of
epochs spent until the best completed trial reaches ``--target`` validation error.

    python -m benchmarks.pruning --seeds 5 --n-trials 40 --out benchmarks/results/pruning
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution

from benchmarks.report import markdown_table
from hpo.digits_mlp import N_CLASSES, DigitsMLP
from hpo.dynamics import lr_range
from hpo.io import atomic_write_text
from hpo.trials import FINISHED
from hpo.tuning import tune

PRUNERS = ("none", "median", "hyperband", "dynamics")
SPACE = {
    "lr": FloatDistribution(1e-3, 100.0, log=True),
    "hidden": CategoricalDistribution((32, 64, 128, 256)),
}


EPOCHS = 12


@functools.cache
def _task(hidden: int) -> DigitsMLP:
    return DigitsMLP(hidden=hidden, epochs=EPOCHS)


@functools.cache
def max_lr(hidden: int) -> float:
    """The top of the trainable range of the initial model (seed 0) under the task's SGD
    and batch size, probed on 256 training examples (the training split is shuffled)."""
    task = _task(hidden)
    inputs, labels = task.data["train"]
    targets = torch.nn.functional.one_hot(labels[:256], N_CLASSES).float()
    found = lr_range(task.build_model(0), inputs[:256], targets, loss="mse", batch_size=task.batch_size)
    return float(found.high)


def objective(params, trial, *, dynamics: bool) -> float:
    hidden = int(params["hidden"])
    if dynamics:
        trial.check_learning_rate(params["lr"], max_lr(hidden))
    return _task(hidden).train_and_evaluate(params["lr"], seed=0, reporter=trial)


def epochs_of(trial: optuna.trial.FrozenTrial) -> int:
    """Epochs a trial trained: one report per finished epoch; a run that completed with fewer
    reports diverged during the next epoch (``train_and_evaluate`` then returns at once), which
    counts whole. A pruned trial stopped right after its last report; a skipped one has none."""
    reported = len(trial.intermediate_values)
    if trial.state == optuna.trial.TrialState.COMPLETE and reported < EPOCHS:
        return reported + 1
    return reported


def run_one(pruner: str, seed: int, n_trials: int) -> pd.DataFrame:
    started = time.perf_counter()
    result = tune(
        functools.partial(objective, dynamics=pruner == "dynamics"),
        SPACE,
        optimizer="tpe",
        pruner=pruner,
        n_trials=n_trials,
        seed=seed,
    )
    trials = [t for t in result.study.get_trials(deepcopy=False) if t.state in FINISHED]
    frame = pd.DataFrame(
        {
            "pruner": pruner,
            "seed": seed,
            "trial": [t.number for t in trials],
            "state": [t.state.name for t in trials],
            "lr": [t.params.get("lr") for t in trials],
            "hidden": [t.params.get("hidden") for t in trials],
            "epochs": [epochs_of(t) for t in trials],
            "value": [t.value if t.state == optuna.trial.TrialState.COMPLETE else np.nan for t in trials],
        }
    )
    frame["cumulative_epochs"] = frame["epochs"].cumsum()
    frame["best_so_far"] = frame["value"].cummin()
    frame.attrs["seconds"] = time.perf_counter() - started
    return frame


def epochs_to_target(frame: pd.DataFrame, target: float) -> float:
    reached = frame[frame["best_so_far"] <= target]
    return float(reached["cumulative_epochs"].iloc[0]) if not reached.empty else np.nan


def summarize(runs: pd.DataFrame, target: float) -> pd.DataFrame:
    rows = []
    for (pruner, seed), frame in runs.groupby(["pruner", "seed"], sort=False):
        rows.append(
            {
                "pruner": pruner,
                "seed": seed,
                "epochs_to_target": epochs_to_target(frame, target),
                "total_epochs": int(frame["epochs"].sum()),
                "pruned": int((frame["state"] == "PRUNED").sum()),
                "best_error": float(frame["value"].min()),
            }
        )
    per_seed = pd.DataFrame(rows)
    table = per_seed.groupby("pruner", sort=False).agg(
        median_epochs_to_target=("epochs_to_target", "median"),
        reached=("epochs_to_target", lambda s: f"{s.notna().sum()}/{len(s)}"),
        mean_total_epochs=("total_epochs", "mean"),
        mean_pruned=("pruned", "mean"),
        median_best_error=("best_error", "median"),
    )
    base = table.loc["none", "median_epochs_to_target"] if "none" in table.index else np.nan
    table["saving_vs_none"] = base / table["median_epochs_to_target"]
    return per_seed, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n-trials", type=int, default=40)
    parser.add_argument("--target", type=float, default=0.025, help="validation error to reach")
    parser.add_argument("--pruners", nargs="+", default=list(PRUNERS))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/pruning"))
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    frames = []
    for pruner in args.pruners:
        for seed in range(args.seeds):
            frame = run_one(pruner, seed, args.n_trials)
            frames.append(frame)
            print(
                f"{pruner:>10} seed {seed}: {frame['epochs'].sum():4d} epochs, "
                f"{(frame['state'] == 'PRUNED').sum():2d} pruned, best {frame['value'].min():.4f}, "
                f"{frame.attrs['seconds']:.0f} s",
                flush=True,
            )
    runs = pd.concat(frames, ignore_index=True)
    per_seed, table = summarize(runs, args.target)
    atomic_write_text(args.out / "trials.csv", runs.to_csv(index=False))
    atomic_write_text(args.out / "per_seed.csv", per_seed.to_csv(index=False))
    atomic_write_text(args.out / "summary.md", markdown_table(table.reset_index()) + "\n")
    atomic_write_text(
        args.out / "settings.json",
        json.dumps({"seeds": args.seeds, "n_trials": args.n_trials, "target": args.target, "epochs": EPOCHS}) + "\n",
    )
    print(f"\nepochs until the best validation error is <= {args.target} (TPE, {args.n_trials} trials):")
    print(markdown_table(table.reset_index()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
