"""``hpo electrode``: one-line errors naming the parameter, JSON output, the front from the
shipped dataset, datasets that are refused before any work."""

import json

import numpy as np
import pytest

from hpo.cli import main
from surrogates.manufacturing import CALIBRATION_LOADING


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
        (["design", "--maximize", "energy"], "--min-energy-3c"),
        (["design", "--min-energy", "230", "--min-energy-3c", "150"], "--min-energy-3c"),
        (["simulate", "--am", "0.9", "--sc", "0.5", "--cd", "0.1", "--loading", "45"], "loading"),
        (["design", "--min-energy", "abc"], "--min-energy"),
        (["design", "--min-energy", "300", "--points", "1"], "--points"),
        (["design", "--min-energy", "230", "--margin", "-0.1"], "--margin"),
        (["design", "--min-energy", "230", "--domain", "everywhere"], "--domain"),
        (["pareto", "--out", "o", "--domain", "hull"], "--domain"),
        (["pareto", "--out", "o", "--band", "some"], "--band"),
        (["simulate", "--am", "0.9", "--sc", "0.5", "--cd", "0.1", "--coefficient", "min_porosity"], "--coefficient"),
        (
            ["simulate", "--am", "0.9", "--sc", "0.5", "--cd", "0.1", "--coefficient", "min_porosity=big"],
            "--coefficient min_porosity",
        ),
        (["pareto", "--out", "o", "--band", "8"], "--band"),
        (["pareto", "--out", "o", "--fix", "loading"], "--fix"),
        (["pareto", "--out", "o", "--fix", "loading=thick"], "--fix loading"),
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
    assert record["process"] == {"am": 0.93, "sc": 0.6, "cd": 0.2, "loading": CALIBRATION_LOADING}
    assert record["properties"]["porosity"] < record["properties"]["dry_porosity"]
    assert 150 <= record["p2d"]["specific_capacity_mah_g"] <= 170
    assert set(record["domain"]) == {"extrapolated", "domain_violation"}


def test_coefficient_override_changes_the_design(capsys):
    base = ["simulate", "--am", "0.93", "--sc", "0.6", "--cd", "0.2", "--json", "--points", "6"]
    _, out, _ = run_cli(base, capsys)
    _, out_dense, _ = run_cli(base + ["--coefficient", "dry_porosity_ref=0.45"], capsys)
    assert json.loads(out_dense)["properties"]["porosity"] < json.loads(out)["properties"]["porosity"]


def test_pareto_from_shipped_dataset(capsys, tmp_path):
    code, out, _ = run_cli(
        ["pareto", "--out", str(tmp_path), "--evaluations", "400", "--validate", "2", "--points", "8", "--band", "20"],
        capsys,
    )
    assert code == 0
    assert "relative error" in out and "(0 outside the calibration data)" in out and "20 bootstrap members" in out
    assert "does not percolate" in out
    assert (tmp_path / "front.csv").exists()


@pytest.mark.parametrize("column, cell", [("energy_wh_per_kg", "nan"), ("am", "abc"), ("energy_3c_wh_per_kg", "inf")])
def test_fit_refuses_a_dataset_cell_that_is_not_a_finite_number(shipped, tmp_path, capsys, column, cell):
    frame = shipped.astype({column: object})
    row = int(np.flatnonzero(frame["status"] == "ok")[3])
    frame.loc[row, column] = cell
    path = tmp_path / "designs.csv"
    frame.to_csv(path, index=False)
    code = main(["electrode", "fit", "--data", str(path), "--folds", "2"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"line {row + 2}: {column} is {cell}" in err.replace("'", "") and "finite number" in err


@pytest.mark.parametrize(
    "sidecar, fragment",
    [
        (b'{"config": {"p2d": {"positive_points": 1000000000}}}', "p2d.positive_points = 1000000000"),
        (b'{"config": {"p2d": {"rtol": "tight"}}}', "p2d.rtol = 'tight'"),
        (b'{"config": {"stack": {"np_ratio": NaN}}}', "stack.np_ratio = nan"),
        (b'{"config": [1]}', "'config' must be a mapping"),
        (b"[]", "expected a JSON object"),
        (b'{"config": "\xff"}', "not valid JSON"),
    ],
)
def test_a_bad_dataset_sidecar_gives_one_line_error_before_any_work(shipped, tmp_path, capsys, sidecar, fragment):
    data = tmp_path / "designs.csv"
    shipped.head(40).to_csv(data, index=False)
    data.with_suffix(".json").write_bytes(sidecar)
    code = main(["electrode", "pareto", "--data", str(data), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and fragment in err[-1] and "designs.json" in err[-1], err
    assert not (tmp_path / "out").exists()
