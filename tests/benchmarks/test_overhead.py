"""``benchmarks.overhead``: the seconds-per-suggestion table and its files."""

from __future__ import annotations

import csv

import pytest

from benchmarks import overhead


def test_the_overhead_table_has_every_mark_optimizer_and_repeat(tmp_path, capsys):
    overhead.main(
        [
            "--dims",
            "2",
            "--marks",
            "3",
            "6",
            "--window",
            "2",
            "--repeats",
            "2",
            "--optimizers",
            "tpe",
            "gp-search",
            "--out",
            str(tmp_path),
        ]
    )
    rows = list(csv.DictReader((tmp_path / "overhead.csv").open()))
    assert {(r["mark"], r["optimizer"], r["repeat"]) for r in rows} == {
        (m, o, r) for m in ("3", "6") for o in ("tpe", "gp-search") for r in ("0", "1")
    }
    assert all(float(r["seconds"]) > 0 for r in rows)
    report = (tmp_path / "report.md").read_text()
    assert "Produced by: `python -m benchmarks.overhead --dims 2" in report
    assert report.count("| 3 |") == 1 and report.count("| 6 |") == 1 and "x) |" in report
    assert "2 dimensions" in capsys.readouterr().out


def test_bad_options_are_refused():
    with pytest.raises(SystemExit):
        overhead.main(["--marks", "0"])
