"""``hpo demo``: the three jobs run end to end and write the files they list."""

import pytest

from hpo.cli import main


@pytest.mark.slow
def test_the_demo_runs_the_three_jobs_and_writes_their_files(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n-trials", "4", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    for step in ("[1/3] tuning done", "[2/3] Pareto front done", "[3/3] benchmark done"):
        assert step in printed
    files = [line.strip() for line in printed.split("files:", 1)[1].splitlines() if line.strip()]
    expected = ["tuning/convergence.png", "tuning/studies.db"]
    expected += [f"electrode/{part}{name}" for part in ("fixed-loading/", "") for name in ("front.png", "front.csv")]
    assert [str(out / name) for name in expected] + [str(out / "bench" / "report.md")] == files
    assert all((out / name).stat().st_size > 0 for name in expected)
    assert printed.count("re-simulated 3 front points with P2D (0 failed)") == 2
    # each front's summary says how much of its trade-off the calibration data resolve
    assert printed.count("resolved (band under 1/3 of the span in both)") >= 2
