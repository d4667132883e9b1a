"""The outbox against a crash: a server killed right after deleting an article commits, before
its request delivers ArticleDeleted, leaves the event in the articles outbox; the server
started again relays it, and the article's comments and likes go, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.conftest import TEST_BACKENDS, sqlite_urls
from tests.live import read_value, uvicorn_server
from tests.postgres import DatabaseSets

pytestmark = pytest.mark.slow  # left out of `python3 dev.py test --fast`

LEASE_SECONDS = 1
RELAY_WAIT_SECONDS = 20


@pytest.fixture(params=[b for b in ("sqlite", "postgresql") if b in TEST_BACKENDS])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield sqlite_urls(tmp_path)
        return
    sets: DatabaseSets = request.getfixturevalue("postgres")
    lent = sets.borrow()
    try:
        yield lent.urls()
    finally:
        sets.give_back(lent)


def count(url: str, sql: str, **params: Any) -> int:
    return int(asyncio.run(read_value(url, sql, **params)))


def sign_up(http: httpx2.Client, name: str) -> dict[str, str]:
    user = {"username": name, "email": f"{name}@example.com", "password": "password123"}
    response = http.post("/api/users", json={"user": user})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Token {response.json()['user']['token']}"}


def test_an_event_whose_server_died_after_the_commit_is_relayed_when_it_restarts(
    urls: dict[str, str], tmp_path: Path
) -> None:
    env = {f"CONDUIT_{d.upper()}_URL": url for d, url in urls.items()}
    env |= {"CONDUIT_JWT_SECRET": "outbox-crash-test-secret-" * 2, "CONDUIT_RATE_LIMITS": "off"}
    env["CONDUIT_OUTBOX_LEASE_SECONDS"] = str(LEASE_SECONDS)
    log = tmp_path / "server.log"

    with uvicorn_server(env, 1, log) as base_url, httpx2.Client(base_url=base_url) as http:
        ann, bob = sign_up(http, "ann"), sign_up(http, "bob")
        article = {"title": "Doomed", "description": "d", "body": "b"}
        created = http.post("/api/articles", json={"article": article}, headers=ann)
        slug = created.json()["article"]["slug"]
        comment = {"comment": {"body": "Nice"}}
        for _ in range(2):
            added = http.post(f"/api/articles/{slug}/comments", json=comment, headers=bob)
            assert added.status_code == 201
        assert http.post(f"/api/articles/{slug}/favorite", headers=bob).status_code == 200
    article_id = count(urls["articles"], "SELECT id FROM articles WHERE slug = :slug", slug=slug)
    comments = "SELECT count(*) FROM comments WHERE article_id = :id"
    likes = "SELECT count(*) FROM likes WHERE article_id = :id"

    with (
        uvicorn_server(env, 1, log, module="tests.crash_after_commit") as base_url,
        httpx2.Client(base_url=base_url) as http,
        pytest.raises(httpx2.TransportError),
    ):
        http.delete(f"/api/articles/{slug}", headers=ann)
    # The deletion committed with its event; nothing delivered it.
    assert count(urls["articles"], "SELECT count(*) FROM articles") == 0
    assert count(urls["articles"], "SELECT count(*) FROM articles_outbox") == 1
    assert count(urls["comments"], comments, id=article_id) == 2
    assert count(urls["likes"], likes, id=article_id) == 1

    with uvicorn_server(env, 1, log):
        deadline = time.monotonic() + RELAY_WAIT_SECONDS
        while count(urls["comments"], comments, id=article_id) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert count(urls["comments"], comments, id=article_id) == 0
        assert count(urls["likes"], likes, id=article_id) == 0
        assert count(urls["articles"], "SELECT count(*) FROM articles_outbox") == 0
