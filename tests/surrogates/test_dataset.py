"""``surrogates.dataset``: the Sobol dataset is seeded, resumable, keeps failures with their
reason, reads only finite numbers and never writes through a planted link."""

import csv
import dataclasses
import io
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpo.errors import UserError
from surrogates.dataset import (
    SHIPPED_DATASET,
    SimulationConfig,
    generate_dataset,
    ok_rows,
    read_dataset,
    sobol_design,
)
from surrogates.manufacturing import PROCESS_BOUNDS, PROCESS_NAMES
from surrogates.p2d import OBJECTIVE_COLUMNS, P2DSettings

SMALL = SimulationConfig(p2d=P2DSettings(positive_points=6))

TIMING_COLUMNS = ["solve_seconds"]


class InterruptAfter:
    """A map that delivers ``k`` results and then is interrupted, like Ctrl-C."""

    def __init__(self, k):
        self.k = k

    def __call__(self, function, tasks):
        for index, task in enumerate(tasks):
            if index == self.k:
                raise KeyboardInterrupt
            yield function(task)


cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30),
    st.text(max_size=5),
    st.sampled_from(["", "nan", "inf", "-Infinity", "1e400", "0x1", "1,5"]),
)


def test_sobol_design_is_seeded_and_in_bounds():
    first, again, other = sobol_design(16, seed=3), sobol_design(16, seed=3), sobol_design(16, seed=4)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first[list(PROCESS_NAMES)], other[list(PROCESS_NAMES)])
    assert list(first["design_id"]) == list(range(16))
    for name in PROCESS_NAMES:
        low, high = PROCESS_BOUNDS[name]
        assert first[name].between(low, high).all()
    pd.testing.assert_frame_equal(sobol_design(10, seed=3), first.iloc[:10])


def test_interrupted_run_resumes_to_the_same_dataset(tmp_path):
    reference = generate_dataset(tmp_path / "reference.csv", 6, seed=1, config=SMALL, progress=False)
    path = tmp_path / "resumed.csv"
    with pytest.raises(KeyboardInterrupt):
        generate_dataset(path, 6, seed=1, config=SMALL, map_fn=InterruptAfter(2), progress=False)
    assert len(read_dataset(path)) == 2
    # A writer killed mid-line leaves a partial line: it must be dropped, not parsed.
    with open(path, "a") as handle:
        handle.write("5,0.9,0.5")
    resumed = generate_dataset(path, 6, seed=1, config=SMALL, progress=False)
    assert len(pd.read_csv(path)) == 6  # no duplicates on disk
    pd.testing.assert_frame_equal(resumed.drop(columns=TIMING_COLUMNS), reference.drop(columns=TIMING_COLUMNS))
    # Running again finds nothing to do.
    again = generate_dataset(path, 6, seed=1, config=SMALL, map_fn=InterruptAfter(0), progress=False)
    assert len(again) == 6


def test_failed_designs_are_kept_with_reason_and_never_used(tmp_path):
    failing = dataclasses.replace(SMALL, p2d=dataclasses.replace(SMALL.p2d, time_margin=0.1))
    frame = generate_dataset(tmp_path / "failing.csv", 3, config=failing, progress=False)
    assert (frame["status"] == "solver_failure").all()
    assert frame["reason"].str.contains("ended with").all()
    assert frame["energy_wh_per_kg"].isna().all()
    assert ok_rows(frame).empty


def test_resume_with_other_settings_is_refused(tmp_path):
    path = tmp_path / "d.csv"
    generate_dataset(path, 2, seed=0, config=SMALL, progress=False)
    with pytest.raises(UserError, match="seed"):
        generate_dataset(path, 2, seed=1, config=SMALL, progress=False)


def test_resuming_a_file_with_other_columns_is_refused_before_any_line_is_appended(tmp_path):
    path = tmp_path / "d.csv"
    generate_dataset(path, 2, seed=0, config=SMALL, progress=False)
    text = path.read_text()
    header, *rows = text.splitlines()
    dropped = ",".join(c for c in header.split(",") if c != "limited_by")  # as an older version wrote it
    path.write_text("\n".join([dropped, *rows[:1]]) + "\n")
    with pytest.raises(UserError, match="has other columns than this version writes.*lacks limited_by"):
        generate_dataset(path, 2, seed=0, config=SMALL, progress=False)
    assert path.read_text().count("\n") == 2  # nothing appended


def test_a_dataset_with_a_former_column_name_reads_with_a_deprecation_warning(shipped, tmp_path):
    path = tmp_path / "designs.csv"
    shipped.head(30).rename(columns={"energy_3c_wh_per_kg": "power_wh_per_kg"}).to_csv(path, index=False)
    with pytest.warns(DeprecationWarning, match="'power_wh_per_kg' is deprecated.*'energy_3c_wh_per_kg'"):
        frame = read_dataset(path)
    assert "power_wh_per_kg" not in frame
    assert frame["energy_3c_wh_per_kg"].tolist() == shipped.head(30)["energy_3c_wh_per_kg"].tolist()


def test_shipped_dataset_is_complete():
    frame = read_dataset(SHIPPED_DATASET)
    assert len(frame) >= 1024 and frame["design_id"].is_unique
    good = ok_rows(frame)
    assert len(good) >= 0.95 * len(frame)
    assert (good["energy_wh_per_kg"] > good["energy_3c_wh_per_kg"]).all()
    # NMC111 at C/5; only the heaviest, poorly conducting coatings deliver less at C/5.
    assert good["specific_capacity_mah_g"].le(170).all()
    assert good.loc[good["loading"] <= 20, "specific_capacity_mah_g"].between(150, 170).all()
    # Every row says whether it lies in the calibration data; both kinds are present.
    assert set(frame["extrapolated"]) == {True, False}
    assert (frame["extrapolated"] == (frame["domain_violation"] > 1e-6)).all()
    sidecar = SHIPPED_DATASET.with_suffix(".json").read_text()
    assert "hpo electrode dataset --n 1024" in sidecar


@pytest.mark.slow
def test_process_pool_gives_the_same_rows_as_in_process(tmp_path):
    from surrogates.dataset import cluster_map

    serial = generate_dataset(tmp_path / "serial.csv", 4, seed=2, config=SMALL, progress=False)
    parallel = generate_dataset(tmp_path / "pool.csv", 4, seed=2, config=SMALL, map_fn=cluster_map(2), progress=False)
    parallel = parallel.sort_values("design_id").reset_index(drop=True)  # rows arrive as they finish
    pd.testing.assert_frame_equal(serial.drop(columns=TIMING_COLUMNS), parallel.drop(columns=TIMING_COLUMNS))


def test_unexpected_simulation_error_is_recorded_not_fatal(tmp_path, monkeypatch):
    import surrogates.dataset as dataset

    class Exploding:
        def simulate(self, props):
            raise RuntimeError("casadi went away")

    monkeypatch.setattr(dataset, "_model_for", lambda config: Exploding())
    frame = generate_dataset(tmp_path / "e.csv", 3, config=SMALL, progress=False)
    assert (frame["status"] == "error").all()
    assert frame["reason"].str.contains("RuntimeError: casadi went away").all()
    assert ok_rows(frame).empty


def test_sidecar_round_trips_the_simulation_settings(tmp_path):
    from surrogates.dataset import load_config

    scenario = dataclasses.replace(SMALL, manufacturing=SMALL.manufacturing.with_overrides(dry_porosity_sc_slope=0.2))
    generate_dataset(tmp_path / "s.csv", 1, config=scenario, progress=False)
    assert load_config(tmp_path / "s.csv") == scenario
    assert load_config(SHIPPED_DATASET) == SimulationConfig()  # shipped data: default settings


def test_a_sidecar_with_one_mesh_for_every_domain_reads_as_that_mesh_without_refinement():
    old = SimulationConfig().as_dict()
    mesh = ("positive_points", "separator_points", "negative_points", "negative_particle_points")
    old["p2d"] = {key: value for key, value in old["p2d"].items() if key not in mesh}
    old["p2d"].update(points_per_domain=20, particle_points=12)
    p2d = SimulationConfig.from_dict(old).p2d
    assert (p2d.negative_points, p2d.separator_points, p2d.positive_points) == (20, 20, 20)
    assert (p2d.negative_particle_points, p2d.particle_points) == (12, 12)
    assert p2d.refine_below_retention == 0.0
    old["p2d"]["points_per_domain"] = 1000
    with pytest.raises(UserError, match="positive_points = 1000"):
        SimulationConfig.from_dict(old)


def test_a_failed_design_may_have_empty_objectives(shipped, tmp_path):
    frame = shipped.head(30).copy()
    frame.loc[0, "status"] = "solver_failure"
    frame.loc[0, list(OBJECTIVE_COLUMNS)] = math.nan
    path = tmp_path / "designs.csv"
    frame.to_csv(path, index=False)
    assert len(ok_rows(read_dataset(path))) == 29


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


def test_dataset_generation_refuses_to_append_through_a_symlink(tmp_path):
    victim = tmp_path / "victim.csv"
    victim.write_text("keep me\n")
    link = tmp_path / "designs.csv"
    link.symlink_to(victim)
    with pytest.raises(UserError, match="symbolic link"):
        generate_dataset(link, 2, progress=False)
    assert victim.read_text() == "keep me\n"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"am": "1e300"}, "line 3: am is 1e+300; a finite number in [0.86, 0.96] is needed there"),
        ({"cd": "-0.5"}, "line 3: cd is -0.5; a finite number in [0.0, 0.4] is needed there"),
        ({"design_id": "-1e23"}, "line 3: design_id is -1e+23; an integer in [0, 9007199254740992] is needed there"),
        ({"design_id": "1"}, "design_id 1 appears on lines 2, 3; each design has one line"),
    ],
)
def test_out_of_range_process_values_huge_ids_and_repeated_ids_are_refused(tmp_path, edit, message):
    frame = pd.read_csv(SHIPPED_DATASET, nrows=4, converters={"reason": str})
    for column, value in edit.items():
        frame[column] = frame[column].astype(object)
        frame.loc[1, column] = value
    path = tmp_path / "designs.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(UserError) as caught:
        read_dataset(path)
    assert message in str(caught.value) and str(path) in str(caught.value)
