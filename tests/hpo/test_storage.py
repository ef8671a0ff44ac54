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
