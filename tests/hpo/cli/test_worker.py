"""``hpo worker``: joining a created study, and running only the code its operator names."""

import os
import subprocess
import sys

import optuna
import pytest

from hpo.cli import main
from hpo.study_record import RECORD_ATTR

HPO = [sys.executable, "-m", "hpo"]


def run_cli(args, cwd, **kwargs):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(HPO + args, cwd=cwd, capture_output=True, text=True, env=env, **kwargs)


@pytest.fixture
def shared_study(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    argv = ["tune", "sphere-4d", "--optimizer", "random", "--n-trials", "3", "--storage", url]
    assert main([*argv, "--study-name", "s", "--create-only", "--no-progress"]) == 0
    return url


def _plant(url, **changes):
    study = optuna.load_study(study_name="s", storage=url)
    study.set_user_attr(RECORD_ATTR, {**study.user_attrs[RECORD_ATTR], **changes})


def _finished(url):
    return [t for t in optuna.load_study(study_name="s", storage=url).trials if t.state.is_finished()]


def test_worker_errors_name_the_culprit(tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = run_cli(["worker", "sphere-4d", "--storage", storage, "--study", "nope"], cwd=tmp_path)
    assert result.returncode == 2 and "study 'nope' not found" in result.stderr
    assert "Traceback" not in result.stderr
    import optuna

    optuna.create_study(study_name="plain", storage=storage)
    result = run_cli(["worker", "sphere-4d", "--storage", storage, "--study", "plain"], cwd=tmp_path)
    assert result.returncode == 2 and "not created by 'hpo tune'" in result.stderr


def test_worker_joins_a_created_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    created = run_cli(
        ["tune", "sphere-4d", "--n-trials", "12", "--storage", storage, "--study-name", "shared", "--create-only"],
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    assert "hpo worker --storage" in created.stdout
    first = run_cli(["worker", "sphere-4d", "--storage", storage, "--study", "shared", "--n-trials", "5"], cwd=tmp_path)
    assert first.returncode == 0 and "worker ran 5 trials" in first.stdout
    second = run_cli(["worker", "sphere-4d", "--storage", storage, "--study", "shared"], cwd=tmp_path)
    assert "worker ran 7 trials" in second.stdout and "12 complete" in second.stdout


@pytest.mark.parametrize(
    "planted",
    [
        {"worker_objective": "subprocess:run"},
        {"worker_objective": "svc-digits"},
    ],
)
def test_worker_refuses_a_study_whose_record_names_other_code(shared_study, tmp_path, capsys, planted):
    _plant(shared_study, **planted)
    code = main(["worker", "sphere-4d", "--storage", shared_study, "--study", "s"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "task 'sphere-4d'" in err, err
    assert _finished(shared_study) == []


def test_worker_runs_the_study_when_its_operator_names_the_same_task(shared_study, capsys):
    assert main(["worker", "sphere-4d", "--storage", shared_study, "--study", "s"]) == 0
    assert len(_finished(shared_study)) == 3


def test_worker_must_name_what_it_runs(shared_study, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["worker", "--storage", shared_study, "--study", "s"])
    assert exit_info.value.code == 2
