"""``hpo.storage``: storage URLs, PostgreSQL's spellings, in-memory SQLite refused."""

import optuna
import pytest

from hpo import UserError


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"]
)
def test_in_memory_sqlite_is_refused_since_the_study_would_be_lost(url):
    from hpo.storage import open_storage

    with pytest.raises(UserError, match="in-memory SQLite database"):
        open_storage(url)


def test_postgres_spelling_of_the_scheme_is_understood():
    from hpo.errors import UserError
    from hpo.storage import open_storage

    with pytest.raises(UserError) as refused:  # nothing listens on port 1: the driver is reached
        open_storage("postgres://bob:hunter2@127.0.0.1:1/db")
    assert "Can't load plugin" not in str(refused.value)
    assert "'postgresql://bob:***@127.0.0.1:1/db': cannot open it" in str(refused.value)


def test_postgres_spelling_of_the_scheme_opens_the_same_storage(postgres_url):
    from hpo.storage import open_storage

    assert postgres_url.startswith("postgresql://")
    storage = open_storage("postgres" + postgres_url[len("postgresql") :])
    optuna.create_study(study_name="spelled-postgres", storage=storage)
    assert "spelled-postgres" in optuna.get_all_study_names(storage=postgres_url)


def test_a_stale_trial_is_failed_and_retried_up_to_max_retry(tmp_path):
    import time
    import warnings

    from hpo.storage import open_storage

    url = f"sqlite:///{tmp_path / 'study.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # no deprecated Optuna names
        storage = open_storage(url, heartbeat_interval=1, grace_period=1, max_retry=1)
    study = optuna.create_study(storage=storage, study_name="s")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # heartbeats outside Study.optimize
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    storage.record_heartbeat(trial._trial_id)
    time.sleep(2.5)  # past the grace period: the trial's worker counts as dead
    optuna.storages.fail_stale_trials(study)
    states = [t.state.name for t in study.trials]
    assert states == ["FAIL", "WAITING"]
    assert study.trials[1].params == study.trials[0].params  # the retry: same parameters
