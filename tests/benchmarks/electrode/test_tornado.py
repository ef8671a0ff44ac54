"""``benchmarks.electrode.tornado``: a placeholder's value reaches the settings that hold it,
and one run summarizes its fronts in both domains."""

from __future__ import annotations

from benchmarks.electrode import tornado


def test_each_placeholder_is_set_where_it_lives_and_nothing_else_changes():
    base = tornado.config_for(None, None)
    for placeholder in tornado.PLACEHOLDERS:
        assert placeholder.low < getattr(getattr(base, placeholder.part), placeholder.name) < placeholder.high
        config = tornado.config_for(placeholder, placeholder.high)
        assert getattr(getattr(config, placeholder.part), placeholder.name) == placeholder.high
        changed = [part for part in ("manufacturing", "p2d", "stack") if getattr(config, part) != getattr(base, part)]
        assert changed == [placeholder.part]


def test_one_run_summarizes_its_calibrated_and_full_fronts(tmp_path):
    rows = tornado.run_one(tmp_path, "baseline", tornado.config_for(None, None), n=16, seed=0)
    assert [row["domain"] for row in rows] == ["calibrated", "full"]
    for row in rows:
        assert row["points"] > 0 and row["energy_min"] <= row["energy_max"]
        assert row["energy_3c_min"] <= row["energy_3c_max"] and 0.86 <= row["am_median"] <= 0.96
    assert (tmp_path / "datasets" / "baseline.csv").exists()
