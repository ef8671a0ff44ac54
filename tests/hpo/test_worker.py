"""``hpo.worker``: several processes share one study and run exactly its budget, a killed worker
loses nothing, workers and reruns keep conditional spaces."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import optuna
import pytest

import hpo
from hpo.errors import UserError

HPO = [sys.executable, "-m", "hpo"]


def hpo_env(**extra):
    return dict(os.environ, OMP_NUM_THREADS="1", **extra)


def create_study(storage, name, *args, cwd=None, env=None):
    result = subprocess.run(
        HPO + ["tune", *args, "--storage", storage, "--study-name", name, "--create-only"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or hpo_env(),
    )
    assert result.returncode == 0, result.stderr


def start_worker(storage, name, cwd=None, env=None, what=("sphere-4d",)):
    """``what``: the study's task, or ``("--objective", REF)``: a worker runs only what it is told."""
    return subprocess.Popen(
        HPO + ["worker", *what, "--storage", storage, "--study", name],
        cwd=cwd,
        env=env or hpo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _conditional_objective_2(params):
    return float(params.get("degree", 0))


@pytest.mark.parametrize("optimizer", ["tpe", "sac-hmr"])
def test_four_workers_run_exactly_the_budget(postgres_url, optimizer):
    name = f"four-workers-{optimizer}"
    create_study(postgres_url, name, "sphere-4d", "--n-trials", "100", "--optimizer", optimizer)
    workers = [start_worker(postgres_url, name) for _ in range(4)]
    outputs = [w.communicate(timeout=600) for w in workers]
    assert [w.returncode for w in workers] == [0] * 4, outputs
    ran = [int(out.split("worker ran ")[1].split()[0]) for out, _ in outputs]
    assert sum(ran) == 100 and sum(r > 0 for r in ran) >= 2  # the work was shared

    study = optuna.load_study(study_name=name, storage=postgres_url)
    trials = study.get_trials()
    assert len(trials) == 100
    assert sorted(t.number for t in trials) == list(range(100))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    for trial in trials:
        assert set(trial.params) == {"x0", "x1", "x2", "x3"}
        assert all(-1.0 <= value <= 1.0 for value in trial.params.values())
    # distinct worker seeds: no duplicated suggestions
    assert len({tuple(t.params.values()) for t in trials}) == 100


def test_a_killed_worker_loses_nothing(postgres_url, tmp_path):
    # While the file "hold" exists, objectives wait (and say so): the victim is killed
    # inside a trial for sure, not between two (a fixed sleep lost that race on a busy CI)
    (tmp_path / "slow_objective.py").write_text(
        textwrap.dedent("""
        import os, time
        from pathlib import Path
        def objective(p):
            time.sleep(0.3)
            while Path("hold").exists():
                Path(f"held-{os.getpid()}").touch()
                time.sleep(0.05)
            return (p["x"] - 0.5) ** 2
    """)
    )
    (tmp_path / "space.yaml").write_text("x: {type: float, low: 0, high: 1}\n")
    env = hpo_env(HPO_HEARTBEAT_INTERVAL="1", HPO_GRACE_PERIOD="3")
    name = "killed-worker"
    create_study(
        postgres_url,
        name,
        "--objective",
        "slow_objective:objective",
        "--space",
        "space.yaml",
        "--n-trials",
        "40",
        cwd=tmp_path,
        env=env,
    )
    what = ("--objective", "slow_objective:objective")
    workers = [start_worker(postgres_url, name, cwd=tmp_path, env=env, what=what) for _ in range(3)]
    victim = workers[0]
    study = optuna.load_study(study_name=name, storage=postgres_url)
    deadline = time.monotonic() + 120
    while len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    (tmp_path / "hold").touch()
    while not (tmp_path / f"held-{victim.pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (tmp_path / f"held-{victim.pid}").exists(), "the victim never started a trial"
    complete_before = {t.number: t.params for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))}
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    (tmp_path / "hold").unlink()
    for worker in workers[1:]:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err

    trials = study.get_trials()
    states = [t.state.name for t in trials]
    assert len(trials) == 40
    assert states.count("FAIL") == 1 and states.count("COMPLETE") == 39
    assert "RUNNING" not in states and "WAITING" not in states
    after = {t.number: t.params for t in trials if t.state.name == "COMPLETE"}
    assert complete_before.items() <= after.items()  # nothing completed was lost


@pytest.mark.parametrize("run", range(2))
def test_four_workers_on_one_sqlite_study_run_exactly_the_budget(tmp_path, run):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    name = f"sqlite-workers-{run}"
    create_study(url, name, "sphere-4d", "--n-trials", "60", "--optimizer", "random", "--seed", str(run))
    workers = [start_worker(url, name) for _ in range(4)]
    try:
        outputs = [w.communicate(timeout=600) for w in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert [w.returncode for w in workers] == [0] * 4, outputs
    assert not [err for _, err in outputs if "Traceback" in err]
    ran = [int(out.split("worker ran ")[1].split()[0]) for out, _ in outputs]
    assert sum(ran) == 60
    trials = optuna.load_study(study_name=name, storage=url).get_trials()
    assert sorted(t.number for t in trials) == list(range(60))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)


def test_two_tune_processes_on_a_fresh_sqlite_file_share_one_budget(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    command = [
        "tune",
        "sphere-4d",
        "--optimizer",
        "random",
        "--n-trials",
        "30",
        "--storage",
        url,
        "--study-name",
        "pair",
        "--no-progress",
    ]

    processes = [
        subprocess.Popen(
            HPO + command + ["--out", str(tmp_path / f"out{i}")],
            env=hpo_env(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(2)
    ]
    try:
        outputs = [p.communicate(timeout=600) for p in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert [p.returncode for p in processes] == [0, 0], outputs
    trials = optuna.load_study(study_name="pair", storage=url).get_trials()
    assert len(trials) == 30 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)


def test_workers_and_reruns_keep_the_conditions(tmp_path):
    from hpo.space import load_space
    from hpo.worker import run_worker

    path = tmp_path / "space.yaml"
    path.write_text(
        "kernel: {type: categorical, choices: [linear, poly]}\n"
        "degree: {type: int, low: 1, high: 4, when: {kernel: poly}}\n"
    )
    space = load_space(path)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    hpo.tune(
        len,
        space,
        optimizer="random",
        n_trials=12,
        seed=0,
        storage=url,
        study_name="conditional",
        create_only=True,
        worker_objective="builtins:len",
    )
    # len(params): 1 or 2, the number of active parameters
    study, ran = run_worker(url, "conditional", objective="builtins:len", seed=0)
    assert ran == 12 and all(t.value == len(t.params) for t in study.trials)
    for trial in study.trials:
        assert ("degree" in trial.params) == (trial.params["kernel"] == "poly")
    path.write_text(
        "kernel: {type: categorical, choices: [linear, poly]}\n"
        "degree: {type: int, low: 1, high: 4, when: {kernel: linear}}\n"
    )
    hpo.tune(_conditional_objective_2, space, optimizer="random", n_trials=3, storage=url, study_name="rerun")
    changed = load_space(path)
    with pytest.raises(UserError, match=r"parameter 'degree': active when \{'kernel': \['poly'\]\}"):
        hpo.tune(_conditional_objective_2, changed, optimizer="random", n_trials=4, storage=url, study_name="rerun")
