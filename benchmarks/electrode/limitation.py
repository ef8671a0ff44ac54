"""What limits the 3C discharge across the process box: a grid of designs simulated with P2D,
each labelled by ``surrogates.p2d.limitation``.

For each areal loading of ``--loading`` and slurry solid content of ``--sc``, a grid of
``--am`` x ``--cd`` points spanning the box is manufactured and simulated on the shipped
settings; ``limitation.csv`` holds each design's thickness, porosity, C/5 and 3C energy, 3C
retention, the label and the numbers it is read from, and ``limitation.png`` maps the 3C
retention with the label of each point, one panel per loading (row) and solid content
(column). Designs outside the calibration data are marked (``extrapolated``).

    python -m benchmarks.electrode.limitation --out benchmarks/results/electrode-limitation
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hpo.io import atomic_write, atomic_write_text

MARKERS = {
    "electrolyte depletion": ("v", "tab:red"),
    "ionic transport": ("<", "tab:orange"),
    "electronic conduction": ("s", "tab:purple"),
    "solid diffusion": ("D", "tab:brown"),
    "neither": ("o", "tab:green"),
}


def grid(am: int, cd: int, *, sc: Sequence[float], loading: Sequence[float]) -> list[tuple[float, ...]]:
    """``am`` x ``cd`` points spanning the box at each solid content and loading."""
    from surrogates.manufacturing import PROCESS_BOUNDS

    ams = np.linspace(*PROCESS_BOUNDS["am"], am)
    cds = np.linspace(*PROCESS_BOUNDS["cd"], cd)
    return [(float(a), float(s), float(c), float(m)) for m in loading for s in sc for a in ams for c in cds]


def simulate_grid(designs: Sequence[tuple[float, ...]], settings=None) -> pd.DataFrame:
    from surrogates.dataset import domain_columns
    from surrogates.manufacturing import ProcessParameters, manufacture
    from surrogates.p2d import P2DModel, P2DSettings

    model = P2DModel(settings or P2DSettings())
    rows = []
    for design in designs:
        process = ProcessParameters(*design)
        props = manufacture(process)
        result = model.simulate(props)
        rows.append(
            dict(
                **process.as_dict(),
                thickness_um=props.thickness * 1e6,
                porosity=props.porosity,
                status=result.status,
                energy_wh_per_kg=result.energy_wh_per_kg,
                energy_3c_wh_per_kg=result.energy_3c_wh_per_kg,
                retention_3c=result.retention_3c,
                limited_by=result.limited_by,
                electrolyte_min_fraction=result.electrolyte_min_fraction,
                utilization_spread=result.utilization_spread,
                particle_surface_excess=result.particle_surface_excess,
                extrapolated=domain_columns(tuple(design), props)["extrapolated"],
            )
        )
    return pd.DataFrame(rows)


def plot(frame: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = sorted(frame["sc"].unique())
    loadings = sorted(frame["loading"].unique())
    fig, axes = plt.subplots(
        len(loadings),
        len(levels),
        figsize=(4.2 * len(levels), 3.6 * len(loadings) + 1.0),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    panels = [(ax, sc, loading) for row, loading in zip(axes, loadings) for ax, sc in zip(row, levels)]
    for ax, sc, loading in panels:
        part = frame[(frame["sc"] == sc) & (frame["loading"] == loading)]
        scatter = ax.scatter(part["am"], part["cd"], c=part["retention_3c"], cmap="viridis", vmin=0, vmax=1, s=260)
        for label, (marker, color) in MARKERS.items():
            chosen = part[part["limited_by"] == label]
            ax.scatter(chosen["am"], chosen["cd"], marker=marker, color=color, s=40, label=label)
        outside = part[part["extrapolated"]]
        ax.scatter(outside["am"], outside["cd"], marker="x", color="white", s=25, linewidths=0.8)
        ax.set_title(f"SC {sc:.2f}, {loading:g} mg/cm2", fontsize="medium")
    for ax in axes[-1]:
        ax.set_xlabel("active-material fraction AM")
    for row in axes:
        row[0].set_ylabel("calendering degree CD")
    bottom = 0.9 / (3.6 * len(loadings) + 1.0)
    fig.subplots_adjust(bottom=bottom + 0.04, top=0.94, left=0.06, right=0.89, wspace=0.12, hspace=0.25)
    fig.colorbar(scatter, cax=fig.add_axes([0.91, bottom + 0.04, 0.012, 0.9 - bottom]), label="3C energy / C/5 energy")
    seen = {}
    for ax, _, _ in panels:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    fig.legend(seen.values(), seen.keys(), loc="lower center", ncol=len(seen), frameon=False, fontsize="small")
    fig.suptitle("What stops the 3C discharge (marker) and how much energy it keeps (colour); x: extrapolated")
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    from hpo.threads import limit_threads
    from surrogates.manufacturing import CALIBRATION_LOADING

    limit_threads()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for limitation.csv and limitation.png")
    parser.add_argument("--am", type=int, default=6, help="active-material fractions across the box")
    parser.add_argument("--cd", type=int, default=5, help="calendering degrees across the box")
    parser.add_argument("--sc", type=float, nargs="+", default=[0.45, 0.55, 0.65], help="slurry solid contents")
    parser.add_argument(
        "--loading",
        type=float,
        nargs="+",
        default=[10.0, CALIBRATION_LOADING, 25.0, 40.0],
        help="areal loadings, mg/cm2 (default 10, the calibration data's mean 17.467, 25 and 40)",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    frame = simulate_grid(grid(args.am, args.cd, sc=args.sc, loading=args.loading))
    atomic_write_text(args.out / "limitation.csv", frame.to_csv(index=False, float_format="%.6g"))
    plot(frame, args.out / "limitation.png")
    print(f"{len(frame)} designs in {time.perf_counter() - started:.0f} s")
    print(frame.groupby("loading")["limited_by"].value_counts().unstack(fill_value=0).to_string())


if __name__ == "__main__":
    main()
