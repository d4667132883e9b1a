"""Shared fixtures: an app on four separate SQLite files (one per domain, as in production, so
a cross-domain join cannot pass unnoticed), and small clients for REST and GraphQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from app import create_app
from config import DOMAINS, Settings

_names = count(1)


def separate_sqlite_files(directory: Path) -> Settings:
    overrides = {d: f"sqlite+aiosqlite:///{directory / d}.db" for d in DOMAINS}
    return Settings(
        database_url=f"sqlite+aiosqlite:///{directory}/unused.db", domain_url_overrides=overrides
    )


@dataclass
class Api:
    """A test client that speaks both REST and GraphQL to one running app."""

    http: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, username: str | None) -> dict[str, str]:
        return {} if username is None else {"Authorization": f"Token {self.tokens[username]}"}

    def register(
        self,
        username: str | None = None,
        password: str = "password123",  # noqa: S107 - sample data, not a secret
    ) -> str:
        """Register a user through REST and remember their token; returns the username."""
        name = username or f"user{next(_names)}"
        response = self.http.post(
            "/api/users",
            json={"user": {"username": name, "email": f"{name}@example.com", "password": password}},
        )
        assert response.status_code == 201, response.text
        self.tokens[name] = response.json()["user"]["token"]
        return name

    def publish(self, author: str, title: str = "A title", tags: list[str] | None = None) -> str:
        """Publish an article through REST; returns its slug."""
        response = self.http.post(
            "/api/articles",
            json={
                "article": {
                    "title": title,
                    "description": "About it",
                    "body": "The body",
                    "tagList": tags or [],
                }
            },
            headers=self.auth(author),
        )
        assert response.status_code == 201, response.text
        slug: str = response.json()["article"]["slug"]
        return slug

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, as_user: str | None = None
    ) -> dict[str, Any]:
        """POST a GraphQL operation; returns the whole response body (data and errors)."""
        headers = {} if as_user is None else {"Authorization": f"Bearer {self.tokens[as_user]}"}
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return separate_sqlite_files(tmp_path)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        yield Api(http)


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with minimal cost, for API tests that register many users (the real cost is
    ~0.1 s per hash); hashes stay real Argon2id, so verification still works end to end."""
    from argon2 import PasswordHasher

    from auth import passwords

    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
