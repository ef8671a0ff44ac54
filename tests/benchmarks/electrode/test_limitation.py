"""``benchmarks.electrode.limitation``: the map of what limits the 3C discharge across the
process box writes one labelled row per design and the figure."""

from __future__ import annotations

import pandas as pd

from benchmarks.electrode import limitation
from surrogates.p2d import LIMITATIONS


def test_the_map_labels_every_design_of_the_grid(tmp_path):
    limitation.main(["--out", str(tmp_path), "--am", "2", "--cd", "2", "--sc", "0.55", "--loading", "17.467", "40"])
    everything = pd.read_csv(tmp_path / "limitation.csv")
    assert len(everything) == 8 and set(everything["loading"]) == {17.467, 40.0}
    # the thickest, most calendered coating runs its electrolyte dry at 3C; none at the calibration loading does
    heavy = everything[(everything.loading == 40.0) & (everything.cd == 0.4) & (everything.am == 0.86)].iloc[0]
    assert heavy["limited_by"] == "electrolyte depletion" and heavy["electrolyte_min_fraction"] < 0.1
    frame = everything[everything.loading == 17.467]
    assert "electrolyte depletion" not in set(frame["limited_by"])
    assert len(frame) == 4 and set(frame["am"]) == {0.86, 0.96} and set(frame["cd"]) == {0.0, 0.4}
    assert frame["limited_by"].isin(LIMITATIONS).all() and (frame["status"] == "ok").all()
    # the uncalendered AM-rich corner keeps least of its energy at 3C, for lack of electronic conduction
    corner = frame[(frame.am == 0.96) & (frame.cd == 0.0)].iloc[0]
    assert corner["limited_by"] == "electronic conduction"
    assert corner["retention_3c"] == frame["retention_3c"].min()
    assert (tmp_path / "limitation.png").stat().st_size > 10_000
