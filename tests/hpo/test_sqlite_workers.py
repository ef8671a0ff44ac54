"""Several worker processes on one SQLite study: the waiting-trial pop is atomic, so they run
exactly the budget with no trial run twice and no traceback."""

import subprocess

import optuna
import pytest

from tests.hpo.test_distributed import create_study, start_worker


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
    from tests.hpo.test_distributed import HPO, hpo_env

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
