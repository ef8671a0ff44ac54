"""A worker runs only the code its operator names: a study whose stored record was changed to name
other code is refused before any trial runs."""

import optuna
import pytest

from hpo.cli import main
from hpo.study_record import RECORD_ATTR


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
