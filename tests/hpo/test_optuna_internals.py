"""Each private Optuna use of the trial loop (``hpo.optuna_internals``), through its behaviour:
an Optuna release that changes one fails here."""

import optuna
import pytest

from hpo import optuna_internals as internals
from hpo.storage import open_storage


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path):
    if request.param == "memory":
        return optuna.storages.InMemoryStorage()
    return open_storage(f"sqlite:///{tmp_path / 'study.db'}")


def test_ids_and_storage_address_the_study_and_its_trials(storage):
    study = optuna.create_study(storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    stored = internals.storage_of(study)
    assert stored.get_study_name_from_id(internals.study_id(study)) == study.study_name
    for frozen in study.trials:
        assert stored.get_trial(internals.trial_id(frozen)).number == frozen.number


def test_the_rdb_backend_is_found_behind_optuna_s_cache(storage):
    wrapped = internals.storage_of(optuna.create_study(storage=storage))
    backend = internals.rdb_backend(wrapped)
    if isinstance(storage, optuna.storages.InMemoryStorage):
        assert backend is None
    else:  # a study wraps an RDB storage in Optuna's cache
        assert backend is storage and wrapped is not storage


def test_forgetting_the_cache_shows_trials_added_by_another_handle(storage):
    study = optuna.create_study(storage=storage, study_name="s")
    other = optuna.load_study(study_name="s", storage=storage)
    assert study._get_trials(deepcopy=False, use_cache=True) == []  # cached now
    other.enqueue_trial({"x": 0.5})
    internals.forget_cached_trials(study)
    assert len(study._get_trials(deepcopy=False, use_cache=True)) == 1


def test_stop_is_allowed_in_the_loop_and_seen_until_cleared():
    study = optuna.create_study()
    with pytest.raises(RuntimeError):
        study.stop()  # outside a loop, as Optuna says
    with internals.optimize_loop(study):
        study.stop()
    assert internals.stop_requested(study)
    with pytest.raises(RuntimeError):
        study.stop()  # the loop's mark is this block's only
    internals.clear_stop(study)
    assert not internals.stop_requested(study)


def test_a_waiting_trial_is_claimed_once(storage):
    study = optuna.create_study(storage=storage)
    study.enqueue_trial({})
    waiting = study.get_trials(states=(optuna.trial.TrialState.WAITING,))[0]
    assert internals.claim_waiting(storage, internals.trial_id(waiting))
    assert not internals.claim_waiting(storage, internals.trial_id(waiting))
    claimed = storage.get_trial(internals.trial_id(waiting))
    assert claimed.state == optuna.trial.TrialState.RUNNING and claimed.datetime_start is not None


def test_heartbeats_run_on_rdb_storages(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    assert internals.is_heartbeat_enabled(storage)
    assert not internals.is_heartbeat_enabled(optuna.storages.InMemoryStorage())
    study = optuna.create_study(storage=storage)
    with internals.optimize_loop(study):  # else Optuna warns that heartbeats belong to a loop
        trial = study.ask()
    thread = internals.get_heartbeat_thread(internals.trial_id(trial), storage)
    thread.start()
    thread.join()
    backend = internals.rdb_backend(storage)
    assert backend._get_stale_trial_ids(internals.study_id(study)) == []  # it beat: not stale
