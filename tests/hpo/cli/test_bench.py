"""``hpo bench``: packing, checking that runs are reproduced, bad input, and a replicate on other seeds."""

from __future__ import annotations

import dataclasses

import optuna
import pytest

from benchmarks.runner import ARCHIVE, read_records, run_jobs
from tests.benchmarks.helpers import Interrupt, bench, quadratic_jobs, quadratic_task, register_problem


def test_pack_command(tmp_path, monkeypatch, capsys):
    run_jobs(quadratic_jobs(monkeypatch, Interrupt(None))[:2], tmp_path, workers=0, progress=False)
    assert bench(monkeypatch, "pack", str(tmp_path)) == 0
    assert f"packed 2 runs into {tmp_path / ARCHIVE}" in capsys.readouterr().out
    assert bench(monkeypatch, "pack", str(tmp_path / "nope")) == 2
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--suite", "nope", "--out", "X"], "suite 'nope' is unknown; allowed: smoke, standard"),
        (["--problems", "bbob-f99-d2", "--out", "X"], "matches no problem; allowed: bbob-fFF-dD"),
        (["--optimizers", "nope", "--out", "X"], "optimizer 'nope' is unknown; allowed: random"),
        (["--suite", "smoke"], "--out: required"),
        (["report"], "report: give the results folder"),
        (["pack"], "pack: give the results folder"),
    ],
)
def test_bad_input_is_a_one_line_error_listing_the_allowed_values(monkeypatch, capsys, tmp_path, argv, message):
    monkeypatch.chdir(tmp_path)
    assert bench(monkeypatch, *argv) == 2
    error = capsys.readouterr().err
    assert message in error
    assert len(error.strip().splitlines()) == 1
    assert not (tmp_path / "X").exists()


def test_a_replicate_on_other_seeds_runs_those_seeds_and_says_so_in_the_report(tmp_path, monkeypatch, capsys):
    out = tmp_path / "replicate"
    argv = ("--problems", "bbob-f01-d2", "--optimizers", "tpe", "--seeds", "2", "--first-seed", "7")
    assert bench(monkeypatch, *argv, "--n-trials", "4", "--workers", "0", "--no-progress", "--out", str(out)) == 0
    ran = {(r["optimizer"], r["seed"]) for r in read_records(out)}
    assert ran == {(optimizer, seed) for optimizer in ("random", "tpe") for seed in (7, 8)}
    assert "--seeds 2 --first-seed 7" in (out / "report.md").read_text()
    with pytest.raises(SystemExit):
        bench(monkeypatch, "--first-seed", "-1", "--out", str(tmp_path / "refused"))
    assert "--first-seed: '-1' is not a non-negative integer" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()


def test_check_finds_the_runs_a_changed_problem_no_longer_reproduces_and_drop_reruns_them(
    tmp_path, monkeypatch, capsys
):
    jobs = [job for job in quadratic_jobs(monkeypatch, Interrupt(None)) if job.seed < 2]  # random, tpe; 2 seeds
    run_jobs(jobs, tmp_path, workers=0, progress=False)
    assert bench(monkeypatch, "pack", str(tmp_path)) == 0
    assert bench(monkeypatch, "check", str(tmp_path)) == 0
    assert "every finished run" in capsys.readouterr().out

    from benchmarks import problems

    def build(seed):  # the problem changed for seed 1 only, as a rebuilt surrogate does
        shift = 1.0 if seed == 1 else 0.0
        return quadratic_task("test-quadratic", lambda params: Interrupt(None)(params) + shift)

    register_problem(monkeypatch, "test-quadratic", build)
    point = {"x": 0.0, "y": 0.0}
    assert problems.make_problem("test-quadratic", 1).objective(point) == Interrupt(None)(point) + 1.0
    assert bench(monkeypatch, "check", str(tmp_path)) == 1
    out = capsys.readouterr().out
    stale = {(r["optimizer"], r["seed"]) for r in read_records(tmp_path) if r["seed"] == 1}
    assert len(stale) == 2 and "test-quadratic random: 1 runs not reproduced" in out
    assert "test-quadratic tpe: 1 runs not reproduced" in out and "2 runs not reproduced" in out
    assert bench(monkeypatch, "check", str(tmp_path), "--drop") == 0
    assert "dropped 2 runs" in capsys.readouterr().out
    assert {(r["optimizer"], r["seed"]) for r in read_records(tmp_path)} == {(o, 0) for o, _ in stale}
    run_jobs(jobs, tmp_path, workers=0, progress=False)  # the command again: only the dropped runs
    assert len(read_records(tmp_path)) == 4
    assert bench(monkeypatch, "check", str(tmp_path)) == 0

    def widened(seed):  # a third parameter, as the electrode surrogate's areal loading was
        task = quadratic_task("test-quadratic", Interrupt(None))
        return dataclasses.replace(task, space={**task.space, "z": optuna.distributions.FloatDistribution(0, 1)})

    register_problem(monkeypatch, "test-quadratic", widened)
    assert bench(monkeypatch, "check", str(tmp_path)) == 1
    assert "test-quadratic random: 2 runs not reproduced" in capsys.readouterr().out
    assert bench(monkeypatch, "--suite", "smoke", "--out", str(tmp_path / "x"), "--drop") == 2
    assert "--drop: only with 'hpo bench check DIR'" in capsys.readouterr().err


def test_sigterm_stops_the_benchmark_and_its_workers_at_once(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    # two long jobs (3000 TPE trials each) in a pool of two workers; a kill reaches only the
    # parent, which must stop its workers instead of waiting for their jobs or leaving them
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from hpo.cli import main; sys.exit(main(sys.argv[1:]))", "bench"]
        + ["--suite", "smoke", "--problems", "bbob-f01-d2", "--optimizers", "tpe", "--seeds", "2"]
        + ["--n-trials", "3000", "--out", str(tmp_path / "out"), "--workers", "2", "--no-progress"],
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        stderr=subprocess.PIPE,
        text=True,
    )
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + 60
    workers = []
    try:
        while len(workers) < 2 and time.monotonic() < deadline:  # the pool's workers are up
            time.sleep(0.2)
            workers = [p for p in parent.children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]
        time.sleep(2)  # inside their jobs
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 130
        assert stderr.strip().splitlines()[-1] == "hpo: interrupted; finished work is kept"
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert len(workers) == 2 and not alive
    finally:
        process.kill()
        for worker in workers:
            if worker.is_running():
                worker.kill()


def test_a_rerun_of_part_of_a_benchmark_keeps_its_recorded_command(tmp_path, monkeypatch):
    import json

    out = tmp_path / "part"
    common = ("--optimizers", "tpe", "--seeds", "1", "--n-trials", "3", "--workers", "0", "--no-progress")
    full = ("--problems", "bbob-f01-d2", "bbob-f02-d2", *common, "--out", str(out))
    assert bench(monkeypatch, *full) == 0
    recorded = json.loads((out / "bench.json").read_text())
    assert recorded["problems"] == ["bbob-f01-d2", "bbob-f02-d2"]
    # the rerun of one problem (as after 'hpo bench check --drop') leaves the folder's command whole
    assert bench(monkeypatch, "--problems", "bbob-f01-d2", *common, "--out", str(out)) == 0
    assert json.loads((out / "bench.json").read_text()) == recorded
    assert "bbob-f02-d2" in (out / "report.md").read_text()
    # a run that adds a problem is a new benchmark of the folder: its command is recorded
    assert bench(monkeypatch, "--problems", "bbob-f01-d2", "bbob-f03-d2", *common, "--out", str(out)) == 0
    assert json.loads((out / "bench.json").read_text())["problems"] == ["bbob-f01-d2", "bbob-f03-d2"]
