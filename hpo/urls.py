"""Storage URLs shown to people: the one place that hides their secrets.

``redact_url`` takes a URL apart instead of matching a pattern over it, and when a URL is
ambiguous (a password with an unencoded ``@``, ``/`` or ``?``) it hides too much rather than
too little: the user information runs to the *last* ``@`` (as ``urllib.parse`` reads a
network location), so a password can never end up on the host side.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

HIDDEN = "***"

# Query parameters that drivers accept as secrets (libpq, psycopg, PyMySQL, redis-py, ...).
SECRET_QUERY_KEYS = frozenset(
    {"password", "passwd", "pwd", "pass", "sslpassword", "secret", "token", "access_token", "api_key", "apikey"}
)


def redact_url(url: str) -> str:
    """``url`` with the password of its user information and the values of secret query
    parameters (``?password=...``) replaced by ``***``; everything else as given.

    >>> redact_url("postgresql://ann:s3/cr@t@db.example:5432/hpo?password=x&sslmode=require")
    'postgresql://ann:***@db.example:5432/hpo?password=***&sslmode=require'
    """
    scheme, separator, rest = url.partition("://")
    if not separator or not scheme or any(c in scheme for c in "/?#@"):
        return url  # a path or a name, not a URL with an authority
    userinfo, at, location = rest.rpartition("@")
    if at and "/" not in userinfo.split(":", 1)[0]:  # "sqlite:///dir/a@b.db" has no user information
        user, colon, _password = userinfo.partition(":")
        rest = f"{user}{colon and ':' + HIDDEN}@{location}"
    before_query, question, query = rest.partition("?")
    if question:
        rest = f"{before_query}?{_redact_query(query)}"
    return f"{scheme}://{rest}"


def _redact_query(query: str) -> str:
    query, hash_mark, fragment = query.partition("#")
    parts = []
    for part in query.split("&"):
        key, equals, _value = part.partition("=")
        secret = equals and unquote(key).strip().lower() in SECRET_QUERY_KEYS
        parts.append(f"{key}={HIDDEN}" if secret else part)
    return "&".join(parts) + hash_mark + fragment


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def redact_text(text: str) -> str:
    """``text`` with every URL in it (a scheme, ``://``, then everything up to the next
    whitespace, quotes included, so that a password holding a quote is hidden whole) passed
    through ``redact_url``: for messages that echo what a user typed, as argparse's do.

    >>> redact_text("unrecognized arguments: 'postgresql://ann:s3cr@db/hpo' x")
    "unrecognized arguments: 'postgresql://ann:***@db/hpo' x"
    """
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
