"""Faults: a database that stops, stops answering, crashes, or drops a connection mid-write.
Clients get a quick 503 (REST) or SERVICE_UNAVAILABLE (GraphQL), never a hang or a 500; the
same server recovers by itself once the database is back; a write that was acknowledged
survives, and a write that failed leaves nothing half-done. PostgreSQL runs in a cluster of
the test's own, so the tests may stop and start it."""

from __future__ import annotations

import asyncio
import http.server
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx2
import pytest
from botocore.config import Config
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.testclient import TestClient

from app import create_app
from config import Settings
from rest.http import RETRY_AFTER_SECONDS
from stores.dynamodb._common import DynamoTable, key, to_item
from stores.errors import StoreUnavailable
from stores.sql import articles as sql_articles
from stores.sql import engine as sql_engine
from stores.sql._common import is_unavailable
from tests import aws
from tests.conftest import Api, error_codes, separate_sqlite_files
from tests.live import Cluster, read_value, throwaway_cluster

# slow: left out of `python3 dev.py test --fast`
pytestmark = [pytest.mark.usefixtures("cheap_password_hashing"), pytest.mark.slow]

UNAVAILABLE = {"errors": {"server": ["service unavailable, try again shortly"]}}
# The one timing bound: a dead database must answer in seconds (the connect timeout is 3 s),
# not hang; generous so that a slow machine does not fail it.
ANSWER_WITHIN_SECONDS = 10
ARTICLES = "{ articles(first: 5) { totalCount nodes { slug } } }"
LIKE = "mutation Like($slug: String!) { likeArticle(slug: $slug) { favoritesCount } }"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with throwaway_cluster() as started:
        yield started


@pytest.fixture
def api(cluster: Cluster) -> Iterator[Api]:
    """The app in this process (overriding conftest's, on SQLite), every domain in the
    cluster's `postgres` database."""
    if not cluster.is_running:
        cluster.start()  # a test before this one failed while its database was down
    app = create_app(Settings(database_url=cluster.url))
    with TestClient(app, raise_server_exceptions=False) as http:
        yield Api(http)


def timed(
    api: Api, method: str, path: str, as_user: str | None, body: Any = None
) -> httpx2.Response:
    """The request's response, checked to come within the bound."""
    started = time.monotonic()
    response = api.http.request(method, path, json=body, headers=api.auth(as_user))
    assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
    return response


def assert_unavailable(response: httpx2.Response) -> None:
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)


def assert_graphql_unavailable(body: dict[str, Any]) -> None:
    assert error_codes(body) == ["SERVICE_UNAVAILABLE"]
    assert body["errors"][0]["message"] == "Service unavailable, try again shortly"


def test_a_stopped_database_answers_503_at_once_and_the_same_server_recovers(
    api: Api, cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    author = api.register()
    slug = api.publish(author, tags=["kept"])
    new_article = {"article": {"title": "While down", "description": "d", "body": "b"}}
    new_user = {"user": {"username": "late", "email": "late@example.com", "password": "x" * 8}}

    cluster.stop()

    assert_unavailable(timed(api, "GET", "/api/articles", author))
    assert_unavailable(timed(api, "GET", f"/api/articles/{slug}", author))
    assert_unavailable(timed(api, "POST", "/api/articles", author, new_article))
    assert_unavailable(timed(api, "POST", f"/api/articles/{slug}/favorite", author))
    assert_unavailable(timed(api, "POST", "/api/users", None, new_user))
    assert_graphql_unavailable(api.graphql(ARTICLES))
    assert_graphql_unavailable(api.graphql(LIKE, {"slug": slug}, as_user=author))
    ready = api.http.get("/ready")
    assert (ready.status_code, ready.json()["status"]) == (503, "unavailable")
    # An outage is logged, one warning per request, with no traceback and no error record.
    assert any("store unavailable" in r.getMessage() for r in caplog.records)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []

    cluster.start()

    assert api.http.get("/ready").status_code == 200
    found = api.http.get(f"/api/articles/{slug}")
    assert (found.status_code, found.json()["article"]["tagList"]) == (200, ["kept"]), found.text
    assert api.graphql(LIKE, {"slug": slug}, as_user=author)["data"]["likeArticle"] == {
        "favoritesCount": 1
    }
    assert api.http.post("/api/users", json=new_user).status_code == 201


def test_an_unresponsive_database_answers_503_within_the_connect_timeout(
    api: Api, cluster: Cluster
) -> None:
    author = api.register()
    slug = api.publish(author)
    cluster.stop()

    # Something that accepts connections on the database's port and never answers: a hung
    # server, or a network that drops packets.
    with socket.socket() as silent:
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent.bind(("127.0.0.1", cluster.port))
        silent.listen(64)
        assert_unavailable(timed(api, "GET", f"/api/articles/{slug}", author))
        assert api.http.get("/ready").status_code == 503

    cluster.start()

    found = api.http.get(f"/api/articles/{slug}")
    assert found.status_code == 200, found.text


def test_an_acknowledged_write_survives_a_database_crash(api: Api, cluster: Cluster) -> None:
    author = api.register()
    slug = api.publish(author, title="Durable", tags=["durable", "kept"])
    assert api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(author)).is_success

    # No shutdown checkpoint: the restart recovers from the write-ahead log alone.
    cluster.stop("immediate")
    cluster.start()

    found = api.http.get(f"/api/articles/{slug}")
    assert found.status_code == 200, found.text
    article = found.json()["article"]
    assert (article["title"], article["tagList"], article["favoritesCount"]) == (
        "Durable",
        ["durable", "kept"],
        1,
    )


def test_an_article_write_cut_off_midway_leaves_neither_article_nor_tags(
    api: Api, cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    author = api.register()
    write_tags = sql_articles._write_tags

    async def cut_off(conn: AsyncConnection, *args: Any) -> None:
        # The article's row is written but not committed: now its connection dies.
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await read_value(cluster.url, "SELECT pg_terminate_backend(:pid)", pid=pid)
        await write_tags(conn, *args)

    monkeypatch.setattr(sql_articles, "_write_tags", cut_off)
    body = {"article": {"title": "Cut off", "description": "d", "body": "b", "tagList": ["cut"]}}

    assert_unavailable(timed(api, "POST", "/api/articles", author, body))

    count_articles = "SELECT count(*) FROM articles WHERE title = :title"
    assert asyncio.run(read_value(cluster.url, count_articles, title="Cut off")) == 0
    count_tags = "SELECT count(*) FROM article_tags WHERE tag = :tag"
    assert asyncio.run(read_value(cluster.url, count_tags, tag="cut")) == 0
    monkeypatch.undo()
    # The server does not keep the dropped connection: the same write now goes through.
    created = api.http.post("/api/articles", json=body, headers=api.auth(author))
    assert (created.status_code, created.json()["article"]["tagList"]) == (201, ["cut"])


def test_a_locked_sqlite_database_answers_503_and_reads_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_engine, "SQLITE_BUSY_TIMEOUT", 0.2)
    with TestClient(
        create_app(separate_sqlite_files(tmp_path)), raise_server_exceptions=False
    ) as http:
        api = Api(http)
        author = api.register()
        slug = api.publish(author)
        # Another process holds the articles database's write lock for longer than the wait.
        holder = sqlite3.connect(tmp_path / "articles.db")
        try:
            holder.execute("BEGIN IMMEDIATE")
            body = {"article": {"title": "Locked out", "description": "d", "body": "b"}}
            assert_unavailable(timed(api, "POST", "/api/articles", author, body))
            assert api.http.get(f"/api/articles/{slug}").status_code == 200
        finally:
            holder.rollback()
            holder.close()
        api.publish(author, title="Locked out")


class _Driver(Exception):
    """A driver's error with a SQLSTATE, as asyncpg's (adapted by SQLAlchemy) carry one."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _dbapi(kind: type[exc.DBAPIError], orig: Exception, invalidated: bool = False) -> Exception:
    return kind("SELECT 1", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (ConnectionRefusedError(111, "Connect call failed"), True),
        (TimeoutError(), True),  # asyncpg's connect timeout
        (exc.TimeoutError("QueuePool limit reached"), True),
        (_dbapi(exc.OperationalError, sqlite3.OperationalError("database is locked")), True),
        (_dbapi(exc.DBAPIError, _Driver("08003"), invalidated=True), True),
        (_dbapi(exc.DBAPIError, _Driver("57P01")), True),  # terminated by an administrator
        (_dbapi(exc.DBAPIError, _Driver("57P03")), True),  # the database is starting up
        (_dbapi(exc.DBAPIError, _Driver("53300")), True),  # too many connections
        (_dbapi(exc.IntegrityError, _Driver("23505")), False),  # a unique value is taken
        (_dbapi(exc.ProgrammingError, _Driver("42P01")), False),  # no such table: a bug
        (_dbapi(exc.DBAPIError, _Driver("57014")), False),  # a statement cancelled
        (_Driver("08006"), True),  # raw from asyncpg: a read sent past SQLAlchemy
        (_Driver("57P01"), True),
        (_Driver("23505"), False),
        (ValueError("not a database error"), False),
    ],
)
def test_which_errors_mean_the_database_is_unavailable(error: Exception, unavailable: bool) -> None:
    assert is_unavailable(error) is unavailable


class _FailingDynamoDB(http.server.BaseHTTPRequestHandler):
    """An endpoint that answers every request HTTP 500 with no AWS error code, as moto does
    under concurrent transactions."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test's output is the assertion."""


def test_a_dynamodb_answer_500_without_an_error_code_is_unavailable() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FailingDynamoDB)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{server.server_port}",
        region_name=aws.REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    table = DynamoTable(client, "conduit-articles", ThreadPoolExecutor(1))
    try:
        with pytest.raises(StoreUnavailable, match="DynamoDB get_item: 500"):
            asyncio.run(table.call("get_item", TableName=table.name, Key=to_item(key("A", "B"))))
    finally:
        server.shutdown()
