"""``hpo electrode``: one-line errors naming the parameter, JSON output, pareto from shipped data."""

import json

import pytest

from hpo.cli import main


def run_cli(argv, capsys):
    try:
        code = main(["electrode", *argv])
    except SystemExit as exit_info:  # argparse's own error path
        code = exit_info.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "argv, parameter",
    [
        (["simulate", "--am", "0.99", "--sc", "0.5", "--cd", "0.1"], "am"),
        (["simulate", "--am", "0.9", "--sc", "half", "--cd", "0.1"], "sc"),
        (["simulate", "--am", "0.9", "--sc", "0.5", "--cd", "0.45"], "cd"),
        (["simulate", "--am", "0.9", "--sc", "0.5", "--cd", "0.1", "--points", "2"], "--points"),
        (["dataset", "--n", "0", "--out", "x.csv"], "--n"),
        (["dataset", "--n", "ten", "--out", "x.csv"], "--n"),
        (["dataset", "--workers", "-1", "--out", "x.csv"], "--workers"),
        (["fit", "--folds", "1"], "--folds"),
        (["fit", "--data", "/nonexistent/designs.csv"], "--data"),
        (["pareto", "--out", "o", "--data", "/nonexistent/designs.csv"], "--data"),
        (["pareto", "--out", "o", "--evaluations", "many"], "--evaluations"),
        (["pareto", "--out", "o", "--algorithm", "cmaes"], "--algorithm"),
        (["pareto", "--out", "o", "--validate", "-3"], "--validate"),
        (["design", "--min-energy", "-5"], "--min-energy"),
        (["design", "--maximize", "speed", "--min-energy", "300"], "--maximize"),
        (["design", "--maximize", "energy"], "--min-power"),
        (["design", "--min-energy", "abc"], "--min-energy"),
        (["design", "--min-energy", "300", "--points", "1"], "--points"),
        (["design", "--min-energy", "230", "--margin", "-0.1"], "--margin"),
        (["design", "--min-energy", "230", "--domain", "everywhere"], "--domain"),
        (["pareto", "--out", "o", "--domain", "hull"], "--domain"),
        (["pareto", "--out", "o", "--band", "some"], "--band"),
        (["simulate", "--am", "0.9", "--sc", "0.5", "--cd", "0.1", "--coefficient", "areal_loading"], "--coefficient"),
        (
            ["simulate", "--am", "0.9", "--sc", "0.5", "--cd", "0.1", "--coefficient", "areal_loading=big"],
            "--coefficient areal_loading",
        ),
        (["dataset", "--out", "x.csv", "--coefficient", "no_such=1"], "no_such"),
    ],
)
def test_bad_input_gives_one_line_error_naming_the_parameter(argv, parameter, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hpo") and "error: " in lines[0]
    assert parameter in lines[0]


@pytest.mark.parametrize("content", ["", "just,some\ncolumns,here\n", "\x00\xff\xfe garbage"])
def test_malformed_dataset_file_gives_one_line_error(content, capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(content.encode("latin-1"))
    code, _, err = run_cli(["fit", "--data", str(path)], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "dataset file" in lines[0]


def test_simulate_json_prints_one_object(capsys):
    code, out, _ = run_cli(
        ["simulate", "--am", "0.93", "--sc", "0.6", "--cd", "0.2", "--json", "--points", "8"], capsys
    )
    assert code == 0
    record = json.loads(out)
    assert record["p2d"]["status"] == "ok"
    assert 200 < record["p2d"]["energy_wh_per_kg"] < 450
    assert record["process"] == {"am": 0.93, "sc": 0.6, "cd": 0.2}
    assert record["properties"]["porosity"] < record["properties"]["dry_porosity"]
    assert 150 <= record["p2d"]["specific_capacity_mah_g"] <= 170
    assert set(record["domain"]) == {"extrapolated", "domain_violation"}


def test_coefficient_override_changes_the_design(capsys):
    base = ["simulate", "--am", "0.93", "--sc", "0.6", "--cd", "0.2", "--json", "--points", "6"]
    _, out, _ = run_cli(base, capsys)
    _, out_thin, _ = run_cli(base + ["--coefficient", "areal_loading=0.10"], capsys)
    assert json.loads(out_thin)["properties"]["loading"] < json.loads(out)["properties"]["loading"]


def test_pareto_from_shipped_dataset(capsys, tmp_path):
    code, out, _ = run_cli(
        ["pareto", "--out", str(tmp_path), "--evaluations", "400", "--validate", "2", "--points", "8", "--band", "2"],
        capsys,
    )
    assert code == 0
    assert "relative error" in out and "(0 outside the calibration data)" in out and "bootstrap" in out
    assert (tmp_path / "front.csv").exists()
