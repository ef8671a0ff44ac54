"""Figures of a study: convergence for one objective, the Pareto front for several."""

from __future__ import annotations

from pathlib import Path

import optuna

from hpo.io import atomic_write
from hpo.tuning import history_frame


def plot_study(study: optuna.Study, path: str | Path, title: str | None = None) -> Path:
    """Write a PNG: best-so-far curve over trial values (one objective), or the first two
    objectives with the Pareto-optimal trials highlighted (several). Failed trials are
    marked on the x axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = history_frame(study)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    if frame.empty:
        ax.text(0.5, 0.5, "no trials", ha="center", va="center", transform=ax.transAxes)
    elif len(study.directions) == 1:
        done = frame[frame["state"] == "COMPLETE"]
        failed = frame[frame["state"] == "FAIL"]
        ax.scatter(done["number"], done["value"], s=14, alpha=0.5, label="trial value")
        ax.step(done["number"], done["best_so_far"], where="post", color="C3", label="best so far")
        if not failed.empty:
            ax.scatter(
                failed["number"],
                [done["value"].min() if not done.empty else 0] * len(failed),
                marker="x",
                color="k",
                s=18,
                label=f"failed ({len(failed)})",
            )
        ax.set_xlabel("trial")
        ax.set_ylabel(f"objective ({study.direction.name.lower()})")
        ax.legend(loc="best", fontsize=8)
    else:
        done = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
        best = {t.number for t in study.best_trials}
        ax.scatter([t.values[0] for t in done], [t.values[1] for t in done], s=12, alpha=0.4, label="trials")
        front = sorted((t for t in done if t.number in best), key=lambda t: t.values[0])
        ax.plot(
            [t.values[0] for t in front],
            [t.values[1] for t in front],
            "o-",
            color="C3",
            ms=4,
            label=f"Pareto front ({len(front)})",
        )
        names = [d.name.lower() for d in study.directions]
        ax.set_xlabel(f"objective 0 ({names[0]})")
        ax.set_ylabel(f"objective 1 ({names[1]})")
        ax.legend(loc="best", fontsize=8)
    ax.set_title(title or study.study_name, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
    return Path(path)


def plot_comparison(studies: dict[str, optuna.Study], path: str | Path, title: str = "") -> Path:
    """Write a PNG overlaying the best-so-far curves of single-objective studies (one per
    label), e.g. several optimizers on one task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    direction = None
    for label, study in studies.items():
        frame = history_frame(study)
        if frame.empty or "best_so_far" not in frame:
            continue
        done = frame[frame["state"] == "COMPLETE"]
        ax.step(done["number"], done["best_so_far"], where="post", label=label)
        direction = study.direction.name.lower()
    ax.set_xlabel("trial")
    ax.set_ylabel(f"best objective so far ({direction or 'n/a'})")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
    return Path(path)
