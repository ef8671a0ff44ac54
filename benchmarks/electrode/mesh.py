"""Mesh convergence of the P2D objectives: each design at several meshes against a finer one.

The designs are the first Sobol points of the shipped dataset's design plus the 16 corners
of the process box (thick/dense and poorly conducting extremes, where the mesh matters most;
the loading's corners are 10 and 40 mg/cm2).
For each mesh the script prints the largest relative deviation of the C/5 energy and of the
3C energy from the reference mesh, over all designs, over those that keep at least
``--retention`` of their C/5 energy at 3C and over the rest (the poorly conducting designs,
whose sharp 3C reaction front needs the finest cathode mesh). The meshes are studied without
the model's refinement; the row ``default`` is the shipped settings, refinement included. Run:

    python -m benchmarks.electrode.mesh --designs 24 \
        --meshes 30:10 10,5,20:5,8 10,5,60:5,40 default --reference 30,10,100:10,80

A mesh ``N,S,P:RN,RP`` has N, S and P points across the anode, separator and cathode and RN
and RP in each anode and cathode particle; ``X:R`` is X in every x-domain and R in both particles.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT = "default"


def mesh_settings(text: str):
    """P2D settings for a mesh ``N,S,P:RN,RP`` or ``X:R`` (refinement off), or the shipped ``default``."""
    from surrogates.p2d import P2DSettings

    if text == DEFAULT:
        return P2DSettings()
    x_text, _, r_text = text.partition(":")
    x = [int(v) for v in x_text.split(",")]
    r = [int(v) for v in (r_text or x_text).split(",")]
    if len(x) not in (1, 3) or len(r) not in (1, 2):
        raise ValueError(f"mesh {text!r}: expected N,S,P:RN,RP or X:R")
    negative, separator, positive = x * 3 if len(x) == 1 else x
    negative_particle, particle = r * 2 if len(r) == 1 else r
    return P2DSettings(
        negative_points=negative,
        separator_points=separator,
        positive_points=positive,
        negative_particle_points=negative_particle,
        particle_points=particle,
        refine_below_retention=0.0,
    )


def simulate_all(designs: np.ndarray, mesh: str) -> pd.DataFrame:
    from surrogates.manufacturing import ProcessParameters, manufacture
    from surrogates.p2d import P2DModel

    model = P2DModel(mesh_settings(mesh))
    rows = []
    for design in designs:
        process = ProcessParameters(*design)
        result = model.simulate(manufacture(process))
        rows.append(
            {
                "mesh": mesh,
                **process.as_dict(),
                "status": result.status,
                "energy": result.energy_wh_per_kg,
                "energy_3c": result.energy_3c_wh_per_kg,
                "retention": result.retention_3c,
                "refined": result.refined_mesh,
                "seconds": result.solve_seconds,
            }
        )
    return pd.DataFrame(rows)


def corners() -> np.ndarray:
    from surrogates.manufacturing import PROCESS_BOUNDS, PROCESS_NAMES

    return np.array(list(itertools.product(*(PROCESS_BOUNDS[n] for n in PROCESS_NAMES))))


def convergence_table(runs: pd.DataFrame, reference: str, retention: float) -> pd.DataFrame:
    fine = runs[runs["mesh"] == reference].reset_index(drop=True)
    rows = []
    for mesh, coarse in runs[runs["mesh"] != reference].groupby("mesh", sort=False):
        coarse = coarse.reset_index(drop=True)
        both = (coarse["status"] == "ok") & (fine["status"] == "ok")
        energy = (coarse["energy"] / fine["energy"] - 1).abs()[both]
        energy_3c = (coarse["energy_3c"] / fine["energy_3c"] - 1).abs()[both]
        absolute = (coarse["energy_3c"] - fine["energy_3c"]).abs()[both]
        useful = both & (fine["retention"] >= retention)
        poor = both & (fine["retention"] < retention)
        rows.append(
            {
                "mesh": mesh,
                "designs": int(both.sum()),
                "energy_max_rel": float(energy.max()),
                "energy_3c_max_rel": float(energy_3c.max()),
                "energy_3c_max_abs_wh_kg": float(absolute.max()),
                f"energy_3c_max_rel_retention_ge_{retention:g}": float(energy_3c[useful].max()),
                "designs_retention_ge": int(useful.sum()),
                f"energy_3c_max_rel_retention_lt_{retention:g}": float(energy_3c[poor].max())
                if poor.any()
                else float("nan"),
                "designs_refined": int(coarse["refined"].sum()),
                "seconds_per_design": float(coarse["seconds"].mean()),
            }
        )
    return pd.DataFrame(rows)


def plot(runs: pd.DataFrame, reference: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fine = runs[runs["mesh"] == reference].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    for mesh, coarse in runs[runs["mesh"] != reference].groupby("mesh", sort=False):
        coarse = coarse.reset_index(drop=True)
        error = 100 * (coarse["energy_3c"] / fine["energy_3c"] - 1).abs()
        label = "default (refined below 0.3 retention)" if mesh == DEFAULT else f"{mesh} (x:r points)"
        ax.scatter(fine["retention"], error, s=14, label=label, marker="*" if mesh == DEFAULT else "o")
    ax.axhline(1.0, color="black", lw=1, ls="--", label="1 %")
    ax.set_yscale("log")
    ax.set_xlabel("3C / C/5 energy retention (reference mesh)")
    ax.set_ylabel(f"|3C energy error| vs mesh {reference} [%]")
    ax.set_title("P2D mesh convergence (full cell)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    from surrogates.dataset import sobol_design

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", type=int, default=24, help="Sobol designs (the 16 box corners are added)")
    parser.add_argument(
        "--meshes",
        nargs="+",
        default=["30:10", "10,5,20:5,8", "10,5,60:5,40", DEFAULT],
        help="meshes N,S,P:RN,RP or X:R to test, and 'default' (the shipped settings, refinement included)",
    )
    parser.add_argument("--reference", default="30,10,100:10,80", help="the finer reference mesh")
    parser.add_argument("--retention", type=float, default=0.2, help="retention above which 1 %% is required")
    parser.add_argument("--out", default="docs/figures/electrode", help="folder for the figure and the JSON")
    args = parser.parse_args()
    from surrogates.manufacturing import PROCESS_NAMES

    designs = np.vstack([sobol_design(args.designs, seed=0)[list(PROCESS_NAMES)].to_numpy(), corners()])
    frames = []
    for mesh in [*args.meshes, args.reference]:
        started = time.perf_counter()
        frames.append(simulate_all(designs, mesh))
        print(f"mesh {mesh}: {len(designs)} designs in {time.perf_counter() - started:.1f} s", flush=True)
    runs = pd.concat(frames, ignore_index=True)
    table = convergence_table(runs, args.reference, args.retention)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot(runs, args.reference, out / "mesh_convergence.png")
    (out / "mesh_convergence.json").write_text(json.dumps(table.to_dict(orient="records"), indent=2) + "\n")
    print(f"wrote {out / 'mesh_convergence.png'} and {out / 'mesh_convergence.json'}")


if __name__ == "__main__":
    main()
