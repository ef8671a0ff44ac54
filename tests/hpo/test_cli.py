"""The hpo command line: help, tune on tasks and user objectives, errors, Ctrl-C resume."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from hpo.cli import main

HPO = [sys.executable, "-m", "hpo"]


def run_cli(args, cwd, **kwargs):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(HPO + args, cwd=cwd, capture_output=True, text=True, env=env, **kwargs)


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for command in ("tune", "tasks", "optimizers", "electrode", "dynamics"):
        assert command in text


def test_every_subcommand_documents_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["tune", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--objective",
        "--space",
        "--optimizer",
        "--n-trials",
        "--seed",
        "--storage",
        "--study-name",
        "--out",
        "--direction",
        "--directions",
    ):
        assert option in text


def test_tune_builtin_task_writes_history_and_plot(tmp_path, capsys):
    code = main(
        [
            "tune",
            "sphere-4d",
            "--n-trials",
            "15",
            "--no-progress",
            "--storage",
            f"sqlite:///{tmp_path / 'db.sqlite'}",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "best value: " in out and "(CV)" not in out
    history = pd.read_csv(tmp_path / "out" / "history.csv")
    assert len(history) == 15 and "params_x0" in history
    png = (tmp_path / "out" / "convergence.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def write_objective(folder: Path, body: str) -> None:
    (folder / "my_objective.py").write_text(textwrap.dedent(body))
    (folder / "space.json").write_text(
        json.dumps(
            {
                "x": {"type": "float", "low": -2, "high": 2},
                "n": {"type": "int", "low": 1, "high": 5},
                "kind": {"type": "categorical", "choices": ["a", "b"]},
            }
        )
    )


def test_tune_user_objective_maximize(tmp_path):
    write_objective(
        tmp_path,
        """
        def objective(p):
            return -(p["x"] - 1) ** 2 - p["n"] + (p["kind"] == "b")
    """,
    )
    result = run_cli(
        [
            "tune",
            "--objective",
            "my_objective:objective",
            "--space",
            "space.json",
            "--direction",
            "maximize",
            "--n-trials",
            "20",
            "--no-progress",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "best value: " in result.stdout
    assert (tmp_path / "results" / "objective-tpe-seed0" / "history.csv").exists()
    assert (tmp_path / "results" / "hpo.db").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["tune", "nope"], "task 'nope' is unknown"),
        (["tune", "sphere-4d", "--optimizer", "zzz"], "optimizer 'zzz' is unknown"),
        (["tune", "sphere-4d", "--n-trials", "-3"], "argument --n-trials: '-3' is not a positive integer"),
        (
            ["tune", "--objective", "nomodule_xyz:f", "--space", "space.json"],
            "--objective 'nomodule_xyz:f': cannot import",
        ),
        (["tune", "--objective", "my_objective:missing", "--space", "space.json"], "has no function 'missing'"),
        (
            ["tune", "--objective", "my_objective:objective", "--space", "nofile.yaml"],
            "search space file 'nofile.yaml'",
        ),
        (["tune", "--objective", "my_objective:objective"], "--space: required"),
        (["tune", "sphere-4d", "--storage", "bogus://x", "--no-progress"], "storage 'bogus://x': cannot open it"),
        (["tune", "sphere-4d", "--out", "/proc/forbidden", "--no-progress"], "--out '/proc/forbidden'"),
    ],
)
def test_bad_input_gives_one_line_error(tmp_path, args, message):
    write_objective(tmp_path, "def objective(p):\n    return p['x']\n")
    result = run_cli(args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # argparse adds a usage line


def test_ctrl_c_keeps_finished_trials_and_rerun_resumes(tmp_path):
    write_objective(
        tmp_path,
        """
        import time
        def objective(p):
            time.sleep(0.15)
            return (p["x"] - 1) ** 2 + p["n"]
    """,
    )
    args = [
        "tune",
        "--objective",
        "my_objective:objective",
        "--space",
        "space.json",
        "--n-trials",
        "30",
        "--no-progress",
        "--study-name",
        "s",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    # A shell starting the suite in the background ignores SIGINT, and children inherit that:
    # give the CLI the default handling a user's terminal gives it.
    process = subprocess.Popen(
        HPO + args,
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    db = tmp_path / "results" / "hpo.db"

    def finished():
        if not db.exists():
            return 0
        try:
            with sqlite3.connect(db) as con:
                return con.execute("select count(*) from trials where state='COMPLETE'").fetchone()[0]
        except sqlite3.OperationalError:  # tables not created yet
            return 0

    deadline = time.monotonic() + 120
    while finished() < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted; finished work is kept" in stderr
    kept = finished()
    assert 5 <= kept < 30

    result = run_cli(args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    history = pd.read_csv(tmp_path / "results" / "s" / "history.csv")
    assert len(history) == 30
    assert (history["state"] == "COMPLETE").sum() >= 29  # at most the interrupted trial failed


def test_full_disk_while_saving_gives_one_line_error(tmp_path, capsys, monkeypatch):
    import errno

    def no_space(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "history.csv"))

    monkeypatch.setattr(pd.DataFrame, "to_csv", no_space)
    code = main(
        [
            "tune",
            "sphere-4d",
            "--n-trials",
            "3",
            "--no-progress",
            "--storage",
            f"sqlite:///{tmp_path / 'db.sqlite'}",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("hpo: error: No space left on device") and "history.csv" in err
    assert "Traceback" not in err
    # the trials themselves are safe in the storage
    import optuna

    study = optuna.load_study(study_name="sphere-4d-tpe-seed0", storage=f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert len(study.trials) == 3


def test_worker_errors_name_the_culprit(tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = run_cli(["worker", "--storage", storage, "--study", "nope"], cwd=tmp_path)
    assert result.returncode == 2 and "study 'nope' not found" in result.stderr
    assert "Traceback" not in result.stderr
    import optuna

    optuna.create_study(study_name="plain", storage=storage)
    result = run_cli(["worker", "--storage", storage, "--study", "plain"], cwd=tmp_path)
    assert result.returncode == 2 and "not created by 'hpo tune'" in result.stderr


def test_passwords_in_storage_urls_are_never_printed(tmp_path):
    result = run_cli(
        ["tune", "sphere-4d", "--storage", "postgresql://bob:hunter2@127.0.0.1:1/db", "--no-progress"], cwd=tmp_path
    )
    assert result.returncode == 2
    assert "hunter2" not in result.stderr + result.stdout
    assert "bob:***@" in result.stderr


def test_worker_joins_a_created_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    created = run_cli(
        ["tune", "sphere-4d", "--n-trials", "12", "--storage", storage, "--study-name", "shared", "--create-only"],
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    assert "hpo worker --storage" in created.stdout
    first = run_cli(["worker", "--storage", storage, "--study", "shared", "--n-trials", "5"], cwd=tmp_path)
    assert first.returncode == 0 and "worker ran 5 trials" in first.stdout
    second = run_cli(["worker", "--storage", storage, "--study", "shared"], cwd=tmp_path)
    assert "worker ran 7 trials" in second.stdout and "12 complete" in second.stdout


def test_tune_multi_objective_writes_the_pareto_plot(tmp_path):
    (tmp_path / "two.py").write_text("def f(p):\n    return p['x'], (1 - p['x']) ** 2 + p['y']\n")
    (tmp_path / "s.yaml").write_text("x: {type: float, low: 0, high: 1}\ny: {type: float, low: 0, high: 1}\n")
    result = run_cli(
        [
            "tune",
            "--objective",
            "two:f",
            "--space",
            "s.yaml",
            "--directions",
            "minimize",
            "minimize",
            "--optimizer",
            "nsga2",
            "--n-trials",
            "20",
            "--no-progress",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Pareto front:" in result.stdout
    out = tmp_path / "results" / "f-nsga2-seed0"
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    assert len(pd.read_csv(out / "history.csv")) == 20
