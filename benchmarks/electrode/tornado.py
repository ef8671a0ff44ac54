"""How the front moves with each placeholder: the pipeline rerun at each placeholder's low and
high plausible value (a tornado table).

For the baseline and for each placeholder of ``PLACEHOLDERS`` at its low and its high value
(the others at their defaults), a ``--n``-design Sobol dataset is simulated (resumable, in
``OUT/datasets/``), the surrogate is selected and fitted on it, and the front is searched in
the calibrated domain and in the full box (no re-simulation). ``tornado.csv`` holds, per run
and domain, where the front lies (median AM, SC, CD and loading, AM's and loading's ranges) and what it spans (the
predicted C/5 and 3C energy, min and max); ``report.md`` the same as tables with the moves
from the baseline; ``fronts.csv`` and ``fronts.png`` every run's front.

    python -m benchmarks.electrode.tornado --out benchmarks/results/electrode-tornado --n 256
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hpo.io import atomic_write_text


@dataclass(frozen=True)
class Placeholder:
    name: str
    part: str  # "manufacturing", "p2d" or "stack": which settings hold it
    low: float
    high: float
    why: str  # where the range comes from


PLACEHOLDERS = (
    Placeholder(
        "dry_porosity_sc_slope", "manufacturing", -0.4, 0.2, "sign and size unknown; +0.2 reverses the SC effect"
    ),
    Placeholder("min_porosity", "manufacturing", 0.20, 0.25, "20-25 % typical for calendered NMC"),
    Placeholder("conductivity_floor", "manufacturing", 7.4e-4, 1.6e-3, "measured at 95 wt % AM (Table S3)"),
    Placeholder("conductivity_ceiling", "manufacturing", 1.0, 4.0, "a CBD network's conductivity, order of magnitude"),
    Placeholder("cbd_coverage", "manufacturing", 1.0, 3.0, "CBD covering AM surface, order of magnitude"),
    Placeholder("particle_diffusivity", "p2d", 3e-15, 1e-13, "NMC111 solid diffusivity, 1e-15 to 1e-13 m2/s reported"),
    Placeholder("np_ratio", "stack", 1.1, 1.2, "the usual N/P range"),
)


def config_for(placeholder: Placeholder | None, value: float | None):
    from surrogates.dataset import SimulationConfig

    config = SimulationConfig()
    if placeholder is None:
        return config
    part = getattr(config, placeholder.part)
    return dataclasses.replace(config, **{placeholder.part: dataclasses.replace(part, **{placeholder.name: value})})


def front_summary(front: pd.DataFrame) -> dict:
    energy, energy_3c = front["predicted_energy_wh_per_kg"], front["predicted_energy_3c_wh_per_kg"]
    return dict(
        points=len(front),
        am_median=front["am"].median(),
        am_range=front["am"].max() - front["am"].min(),
        sc_median=front["sc"].median(),
        cd_median=front["cd"].median(),
        loading_median=front["loading"].median(),
        loading_range=front["loading"].max() - front["loading"].min(),
        energy_min=energy.min(),
        energy_max=energy.max(),
        energy_3c_min=energy_3c.min(),
        energy_3c_max=energy_3c.max(),
    )


def run_one(out: Path, label: str, config, *, n: int, seed: int) -> list[dict]:
    from surrogates.dataset import generate_dataset, ok_rows
    from surrogates.pareto import run_pareto

    path = out / "datasets" / f"{label}.csv"
    frame = ok_rows(generate_dataset(path, n, seed, config=config, progress=False, command=f"tornado {label}"))
    rows = []
    for domain in ("calibrated", "full"):
        run_pareto(
            frame,
            out / "fronts" / label / domain,
            validate=0,
            band_members=0,
            config=config,
            dataset_path=str(path),
            domain=domain,
            seed=seed,
        )
        front = pd.read_csv(out / "fronts" / label / domain / "front.csv")
        rows.append(dict(run=label, domain=domain, **front_summary(front)))
    return rows


FRONT_COLUMNS = ("am", "sc", "cd", "loading", "predicted_energy_wh_per_kg", "predicted_energy_3c_wh_per_kg")


def collect_fronts(out: Path, labels: Sequence[str]) -> pd.DataFrame:
    """Every run's front (``out/fronts/LABEL/DOMAIN/front.csv``) in one table, and
    ``fronts.png``: per domain, the baseline front against each placeholder's low and high."""
    frames = []
    for label in labels:
        for domain in ("calibrated", "full"):
            front = pd.read_csv(out / "fronts" / label / domain / "front.csv")[list(FRONT_COLUMNS)]
            frames.append(front.assign(run=label, domain=domain))
    fronts = pd.concat(frames, ignore_index=True)[["run", "domain", *FRONT_COLUMNS]]
    atomic_write_text(out / "fronts.csv", fronts.to_csv(index=False, float_format="%.5g"))
    plot_fronts(fronts, out / "fronts.png")
    return fronts


def plot_fronts(fronts: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hpo.io import atomic_write

    fig, axes = plt.subplots(2, len(PLACEHOLDERS), figsize=(3.0 * len(PLACEHOLDERS), 6.4), sharex=True, sharey=True)
    for row, domain in zip(axes, ("calibrated", "full")):
        part = fronts[fronts["domain"] == domain]
        for ax, placeholder in zip(row, PLACEHOLDERS):
            for run, style in (
                ("baseline", "k-"),
                (f"{placeholder.name}-low", "b--"),
                (f"{placeholder.name}-high", "r:"),
            ):
                front = part[part["run"] == run].sort_values("predicted_energy_wh_per_kg")
                label = run.rsplit("-", 1)[-1] if run != "baseline" else run
                ax.plot(front["predicted_energy_wh_per_kg"], front["predicted_energy_3c_wh_per_kg"], style, label=label)
            ax.set_title(f"{placeholder.name}\n({domain})", fontsize="small")
            ax.tick_params(labelsize="x-small")
    for ax in axes[-1]:
        ax.set_xlabel("C/5 energy [Wh/kg]", fontsize="small")
    for row in axes:
        row[0].set_ylabel("3C energy [Wh/kg]", fontsize="small")
    axes[0][0].legend(fontsize="x-small")
    fig.suptitle("Fronts over the surrogate with each placeholder at its low (blue) and high (red) value")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    from benchmarks.report import markdown_table
    from hpo.threads import limit_threads

    limit_threads()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=128, help="designs per dataset (a power of two)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows = run_one(args.out, "baseline", config_for(None, None), n=args.n, seed=args.seed)
    for placeholder in PLACEHOLDERS:
        for side, value in (("low", placeholder.low), ("high", placeholder.high)):
            label = f"{placeholder.name}-{side}"
            rows += run_one(args.out, label, config_for(placeholder, value), n=args.n, seed=args.seed)
            print(f"{label} = {value:g}: {time.perf_counter() - started:.0f} s")
    frame = pd.DataFrame(rows)
    atomic_write_text(args.out / "tornado.csv", frame.to_csv(index=False, float_format="%.6g"))
    collect_fronts(args.out, list(dict.fromkeys(frame["run"])))
    lines = [
        "# How the front moves with each placeholder",
        "",
        f"Produced by: `python -m benchmarks.electrode.tornado --out {args.out} --n {args.n} --seed {args.seed}`",
        "",
        "Each run: a Sobol dataset of the given size with one placeholder at its low or high value, the "
        "surrogate selected and fitted on it, the front over the surrogate (NSGA-II, 4000 evaluations, no "
        "re-simulation). Front position: median AM / SC / CD / loading of its points, AM's and loading's "
        "ranges; span: the predicted "
        "C/5 and 3C stack energies (Wh/kg), min and max over the front.",
        "",
        "| placeholder | low | high | where the range comes from |",
        "|---|---|---|---|",
        *(f"| `{p.name}` | {p.low:g} | {p.high:g} | {p.why} |" for p in PLACEHOLDERS),
        "",
    ]
    for domain in ("calibrated", "full"):
        part = frame[frame["domain"] == domain].drop(columns="domain")
        lines += [f"## Domain: {domain}", "", markdown_table(part), ""]
    atomic_write_text(args.out / "report.md", "\n".join(lines))
    print(f"wrote {args.out / 'report.md'} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
