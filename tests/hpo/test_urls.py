"""``hpo.urls``: passwords in storage URLs are hidden."""

import pytest

from hpo.urls import redact_url

# -- storage URLs shown to people ----------------------------------------------------------------
SECRET = "Zq9"  # part of every password below; must never be shown


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql://ann:Zq9/x@db.example:5432/hpo", "postgresql://ann:***@db.example:5432/hpo"),
        ("postgresql://ann:Zq9@x@db.example/hpo", "postgresql://ann:***@db.example/hpo"),
        ("mysql+pymysql://ann:Zq9:x:y@db.example/hpo", "mysql+pymysql://ann:***@db.example/hpo"),
        ("postgresql://ann:Zq9%2Fx%40y%25@db.example/hpo", "postgresql://ann:***@db.example/hpo"),
        ("postgresql://ann:Zq9?x#y@db.example/hpo", "postgresql://ann:***@db.example/hpo"),
        ("postgres://:Zq9@db.example/hpo", "postgres://:***@db.example/hpo"),
        ("redis://:Zq9@cache:6379/0", "redis://:***@cache:6379/0"),
        (
            "postgresql://db.example/hpo?user=ann&password=Zq9%2F@x&sslmode=require",
            "postgresql://db.example/hpo?user=ann&password=***&sslmode=require",
        ),
        ("postgresql://ann@db.example/hpo?PassWord=Zq9", "postgresql://ann@db.example/hpo?PassWord=***"),
        (
            "postgresql://ann:Zq9@db.example/hpo?sslpassword=Zq9#f",
            "postgresql://ann:***@db.example/hpo?sslpassword=***#f",
        ),
    ],
)
def test_redact_url_hides_passwords_with_any_character_and_in_the_query(url, shown):
    assert redact_url(url) == shown
    assert SECRET not in redact_url(url)


@pytest.mark.parametrize(
    "url",
    ["sqlite:///study.db", "sqlite:////tmp/a@b/study.db", "sqlite:///x.db?timeout=5", "postgresql://ann@db/hpo", "x"],
)
def test_redact_url_leaves_urls_without_a_password_as_they_are(url):
    assert redact_url(url) == url
