"""Several worker processes on one PostgreSQL study: exact budget, SIGKILL recovery."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import optuna
import pytest

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


def _optimizers_without_sources():
    from hpo.optimizers import get_optimizer, optimizers

    return sorted(name for name in optimizers() if get_optimizer(name).transfer_factory is None)


# the transfer samplers' resume (weights cached in the study) is tested in test_transfer_sampler.py
@pytest.mark.parametrize("optimizer", _optimizers_without_sources())
def test_every_optimizer_resumes_from_the_storage_alone(tmp_path, optimizer):
    """A fresh sampler object joins a half-run study: its state comes from the storage."""
    import hpo
    from hpo.optimizers import get_optimizer
    from hpo.trials import work

    entry = get_optimizer(optimizer)
    directions = ["minimize"] if entry.single_objective else ["minimize", "minimize"]
    space = {"x": {"type": "float", "low": -1, "high": 1}, "n": {"type": "int", "low": 0, "high": 4}}

    def objective(p):
        value = (p["x"] - 0.2) ** 2 + p["n"]
        return value if len(directions) == 1 else (value, (p["x"] + 0.2) ** 2)

    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    study = hpo.tune(
        objective,
        space,
        optimizer=optimizer,
        directions=directions,
        seed=0,
        n_trials=24,
        storage=storage,
        study_name="s",
        create_only=True,
    ).study
    first = work(study, objective, hpo.as_space(space), max_trials=12)
    rejoined = optuna.load_study(
        study_name="s", storage=storage, sampler=hpo.make_sampler(optimizer, 1, len(directions))
    )
    second = work(rejoined, objective, hpo.as_space(space))
    trials = rejoined.get_trials()
    assert (first, second) == (12, 12)
    assert [t.state.name for t in trials] == ["COMPLETE"] * 24
    assert all(-1 <= t.params["x"] <= 1 and t.params["n"] in range(5) for t in trials)


def test_postgres_spelling_of_the_scheme_opens_the_same_storage(postgres_url):
    from hpo.storage import open_storage

    assert postgres_url.startswith("postgresql://")
    storage = open_storage("postgres" + postgres_url[len("postgresql") :])
    optuna.create_study(study_name="spelled-postgres", storage=storage)
    assert "spelled-postgres" in optuna.get_all_study_names(storage=postgres_url)
