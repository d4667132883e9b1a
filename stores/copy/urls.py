"""Store URLs as the copy command shows and compares them: never with a password, and the
same database however its URL is spelled."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from stores.dynamodb.urls import is_dynamodb_url


def shown(url: str) -> str:
    if is_dynamodb_url(url):
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def place(url: str) -> tuple[str, ...]:
    """What a URL points at: a DynamoDB table, a SQLite file, or a database on a server."""
    if is_dynamodb_url(url):
        return ("dynamodb", url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return ("sqlite", str(Path(parsed.database or "").resolve()))
    return (
        parsed.get_backend_name(),
        parsed.host or "",
        str(parsed.port or ""),
        parsed.database or "",
    )


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file a URL names when there is none (opening it would create an empty one)."""
    if is_dynamodb_url(url):
        return None
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(parsed.database)
    return None if path.exists() else path
