"""``hpo tune``: tuning a built-in task or a user's objective, its outputs and its errors, Ctrl-C
and resume, transfer from stored studies."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hpo.cli import main

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{parent}'] * 9)}]\n" for parent, name in zip("abcdefgh", "bcdefghi")
)

HPO = [sys.executable, "-m", "hpo"]


def run_cli(args, cwd, **kwargs):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(HPO + args, cwd=cwd, capture_output=True, text=True, env=env, **kwargs)


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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    option=st.sampled_from(["--n-trials", "--seed", "--timeout-per-trial"]),
    value=st.text(min_size=1, max_size=6).filter(lambda v: not v.startswith("-") or v[1:2].isdigit()),
)
def test_random_cli_numbers_give_clean_errors(tmp_path, capsys, option, value):
    args = [
        "tune",
        "sphere-4d",
        option,
        value,
        "--no-progress",
        "--n-trials",
        "2",
        "--storage",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        "--out",
        str(tmp_path / "out"),
    ]
    if option == "--n-trials":
        try:
            assume(int(value) <= 5)  # a valid large budget would just run long
        except ValueError:
            pass
        args = args[:-6] + args[-4:]  # only the random --n-trials
    try:
        code = main(args)
    except SystemExit as exit_info:  # argparse rejects the value
        code = exit_info.code
    captured = capsys.readouterr()
    assert code in (0, 2)
    assert "Traceback" not in captured.err
    if code == 2:
        assert option in captured.err or "error:" in captured.err


@pytest.mark.parametrize("name", ["", "no-such-task", "svc digits", "../etc"])
def test_unknown_task_names(name, capsys):
    assert main(["tune", name, "--no-progress"]) == 2
    assert "allowed: svc-digits" in capsys.readouterr().err or name == ""


def test_cli_refuses_a_bad_space_file_with_exit_2_and_one_line(tmp_path, capsys):
    space = tmp_path / "bomb.yaml"
    space.write_text(ALIAS_BOMB)
    objective = tmp_path / "objective_for_security_test.py"
    objective.write_text("def f(params):\n    return 0.0\n")
    code = main(
        ["tune", "--objective", f"{objective}:f", "--space", str(space), "--n-trials", "1", "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "bomb.yaml" in err and "aliases" in err


def test_cli_results_folder_of_an_escaping_study_name_stays_under_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["tune", "sphere-4d", "--n-trials", "2", "--study-name", "../../x", "--no-progress"])
    assert code == 0
    assert not (tmp_path.parent.parent / "x").exists()
    assert len(list((tmp_path / "results").glob("*x*/history.csv"))) == 1


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


def test_tune_pauses_pruned_trials_and_resumes_them_from_their_checkpoints(tmp_path):
    write_objective(
        tmp_path,
        """
        import json
        import optuna

        def objective(p, trial):
            state = trial.checkpoint / "state.json"
            start = json.loads(state.read_text())["step"] if trial.resumed else 0
            for step in range(start + 1, 5):
                state.write_text(json.dumps({"step": step}))
                trial.report(abs(p["x"]) + p["n"] / step, step)
                if trial.should_prune():
                    raise optuna.TrialPruned()
            return abs(p["x"]) + p["n"] / 4
    """,
    )
    options = ["--space", "space.json", "--n-trials", "12", "--pruner", "median", "--no-progress"]
    result = run_cli(
        ["tune", "--objective", "my_objective:objective", *options, "--checkpoint-dir", "ck", "--resumes", "2"],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name="objective-tpe-seed0", storage=f"sqlite:///{tmp_path / 'results' / 'hpo.db'}")
    resumed = [t for t in study.trials if "hpo:resumed_from" in t.user_attrs]
    assert len(study.trials) == 12 + len(resumed) and 1 <= len(resumed) <= 2
    assert all(t.user_attrs["hpo:start_step"] >= 1 for t in resumed)
    refused = run_cli(["tune", "--objective", "my_objective:objective", *options, "--resumes", "2"], cwd=tmp_path)
    assert refused.returncode == 2 and "give checkpoint_dir too" in refused.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["tune", "nope"], "task 'nope' is unknown"),
        (["tune", "sphere-4d", "--optimizer", "zzz"], "optimizer 'zzz' is unknown"),
        (["tune", "sphere-4d", "--n-trials", "-3"], "argument --n-trials: '-3' is not an integer in [1, 100000]"),
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


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_keeps_finished_trials_and_rerun_resumes(tmp_path, stop):
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
    process.send_signal(stop)  # SIGTERM (a kill, a container stopping) ends it as Ctrl-C does
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


def test_passwords_in_storage_urls_are_never_printed(tmp_path):
    result = run_cli(
        ["tune", "sphere-4d", "--storage", "postgresql://bob:hunter2@127.0.0.1:1/db", "--no-progress"], cwd=tmp_path
    )
    assert result.returncode == 2
    assert "hunter2" not in result.stderr + result.stdout
    assert "bob:***@" in result.stderr


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


def test_a_multi_objective_run_whose_trials_all_fail_exits_1_as_a_single_objective_one_does(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # where the objective's module is
    (tmp_path / "two.py").write_text("def f(p):\n    raise ValueError('broken')\n")
    (tmp_path / "s.yaml").write_text("x: {type: float, low: 0, high: 1}\n")
    common = ["--objective", "two:f", "--space", str(tmp_path / "s.yaml"), "--n-trials", "3", "--no-progress"]
    multi = ["--directions", "minimize", "minimize", "--optimizer", "nsga2"]
    for extra, name in ((multi, "multi"), ([], "single")):
        out = tmp_path / name
        assert main(["tune", *common, *extra, "--out", str(out), "--study-name", name]) == 1
        assert "no trial completed: see the 'user_attrs_error' column of history.csv" in capsys.readouterr().out


def test_rerun_with_a_narrowed_space_and_a_changed_objective_is_refused_then_allowed(tmp_path):
    (tmp_path / "obj.py").write_text("def objective(p):\n    return p['C'] * p['degree'] + (p['kernel'] == 'rbf')\n")
    (tmp_path / "space.yaml").write_text(
        "C: {type: float, low: 1.0e-3, high: 1.0e+3, log: true}\n"
        "degree: {type: int, low: 2, high: 5}\n"
        "kernel: {type: categorical, choices: [rbf, poly]}\n"
    )
    args = ["tune", "--objective", "obj:objective", "--space", "space.yaml", "--no-progress"]
    assert run_cli(args + ["--n-trials", "6"], cwd=tmp_path).returncode == 0
    history = tmp_path / "results" / "objective-tpe-seed0" / "history.csv"
    first = history.read_bytes()

    (tmp_path / "obj.py").write_text("def objective(p):\n    return -p['C'] * p['degree']\n")
    (tmp_path / "space.yaml").write_text(
        "C: {type: float, low: 100, high: 1000, log: true}\ndegree: {type: int, low: 2, high: 5}\n"
    )
    refused = run_cli(args + ["--n-trials", "8"], cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("hpo: error: study 'objective-tpe-seed0' holds another search:")
    for line in (
        "  parameter 'C': float in [0.001, 1000.0] log -> float in [100.0, 1000.0] log",
        "  parameter 'kernel' removed (was one of ['rbf', 'poly'])",
        "  objective: the code of obj:objective changed",
    ):
        assert line in refused.stderr.splitlines()
    assert "--study-name NEW" in refused.stderr and "--allow-changed-space" in refused.stderr
    assert history.read_bytes() == first  # nothing ran, nothing was rewritten

    allowed = run_cli(args + ["--n-trials", "8", "--allow-changed-space"], cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.startswith("resuming study 'objective-tpe-seed0': 6 finished, running 2 more\n")
    trials = pd.read_csv(history)
    assert len(trials) == 8 and trials["params_C"][6:].between(100, 1000).all()


def test_a_refused_run_creates_no_study_and_no_folder(tmp_path, capsys):
    import optuna

    storage = f"sqlite:///{tmp_path / 'results' / 'hpo.db'}"
    out = tmp_path / "results" / "refused"
    args = ["tune", "sphere-4d", "--optimizer", "nsga2", "--storage", storage, "--out", str(out), "--no-progress"]
    assert main(args) == 2
    assert "'nsga2' is multi-objective only" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()  # neither the output folder nor the storage's
    (tmp_path / "results").mkdir()
    optuna.create_study(study_name="other", storage=storage)  # beside a study
    assert main(args) == 2
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["hpo.db"]
    assert optuna.get_all_study_names(storage=storage) == ["other"]


def test_cli_transfer_from_names_in_the_storage(source_studies, tmp_path):
    (tmp_path / "obj.py").write_text("def f(p):\n    return (p['x'] - 0.5) ** 2 + (p['y'] - 0.5) ** 2\n")
    (tmp_path / "space.yaml").write_text("x: {type: float, low: -1, high: 1}\ny: {type: float, low: -1, high: 1}\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hpo",
            "tune",
            "--objective",
            "obj:f",
            "--space",
            "space.yaml",
            "--n-trials",
            "8",
            "--storage",
            source_studies,
            "--transfer-from",
            "source0",
            "source1",
            "--study-name",
            "target",
            "--no-progress",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    trials = optuna.load_study(study_name="target", storage=source_studies).trials
    seen = [
        t.params for i in range(2) for t in optuna.load_study(study_name=f"source{i}", storage=source_studies).trials
    ]
    assert len(trials) == 8 and all(t.params in seen for t in trials[:5])
