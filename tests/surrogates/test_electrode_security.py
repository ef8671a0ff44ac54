"""Electrode files from someone else: a dataset cell that is not a finite number is refused with
its line (never learned from or scored), and outputs replace a planted symbolic link instead of
writing through it."""

import csv
import io
import math
import os
import stat

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpo import UserError
from hpo.cli import main
from surrogates.dataset import SHIPPED_DATASET, generate_dataset, ok_rows, read_dataset
from surrogates.manufacturing import PROCESS_NAMES
from surrogates.p2d import OBJECTIVE_COLUMNS


@pytest.fixture(scope="module")
def shipped():
    return read_dataset(SHIPPED_DATASET)


@pytest.mark.parametrize("column, cell", [("energy_wh_per_kg", "nan"), ("am", "abc"), ("power_wh_per_kg", "inf")])
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


def test_a_failed_design_may_have_empty_objectives(shipped, tmp_path):
    frame = shipped.head(30).copy()
    frame.loc[0, "status"] = "solver_failure"
    frame.loc[0, list(OBJECTIVE_COLUMNS)] = math.nan
    path = tmp_path / "designs.csv"
    frame.to_csv(path, index=False)
    assert len(ok_rows(read_dataset(path))) == 29


cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30),
    st.text(max_size=5),
    st.sampled_from(["", "nan", "inf", "-Infinity", "1e400", "0x1", "1,5"]),
)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(cells, cells, cells, cells, cells, cells, st.sampled_from(["ok", "error", "", "ok "])),
        min_size=1,
        max_size=6,
    )
)
def test_fuzzed_dataset_cells_read_as_finite_numbers_or_give_one_line_errors(tmp_path, rows):
    columns = ["design_id", *PROCESS_NAMES, *OBJECTIVE_COLUMNS, "status"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    path = tmp_path / "designs.csv"
    path.write_text(buffer.getvalue())
    try:
        frame = read_dataset(path)
    except UserError as err:
        assert "\n" not in str(err) and str(path) in str(err), str(err)
        return
    assert np.isfinite(frame[list(PROCESS_NAMES)].to_numpy(float)).all()
    assert np.isfinite(ok_rows(frame)[list(OBJECTIVE_COLUMNS)].to_numpy(float)).all()


class LinearSurrogate:
    """Stands in for the fitted regressors: the writes are under test, not the fit."""

    def predict(self, x):
        x = np.atleast_2d(x)
        return np.column_stack([300 * x[:, 0], 300 * (1 - x[:, 0]) + x[:, 2]])


def test_pareto_replaces_planted_symlinks_and_does_not_copy_their_mode(shipped, tmp_path):
    from surrogates.pareto import run_pareto

    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    os.chmod(victim, 0o777)
    for name in ("front.csv", "validation.csv", "front.png"):
        (out / name).symlink_to(victim)
    run_pareto(shipped, out, evaluations=100, validate=0, band_members=0, population=20, surrogate=LinearSurrogate())
    assert victim.read_text() == "keep me\n"
    for name in ("front.csv", "validation.csv", "front.png"):
        written = os.lstat(out / name)
        assert stat.S_ISREG(written.st_mode) and not written.st_mode & 0o111, name
    assert len(pd.read_csv(out / "front.csv")) > 0


def test_dataset_generation_refuses_to_append_through_a_symlink(tmp_path):
    victim = tmp_path / "victim.csv"
    victim.write_text("keep me\n")
    link = tmp_path / "designs.csv"
    link.symlink_to(victim)
    with pytest.raises(UserError, match="symbolic link"):
        generate_dataset(link, 2, progress=False)
    assert victim.read_text() == "keep me\n"


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
