"""A request's deadline: past CONDUIT_REQUEST_TIMEOUT_SECONDS it is answered 503 (REST:
RealWorld's error body; GraphQL: one error coded TIMEOUT), its store work is cancelled mid-call,
the connection it held goes back to the pool (or is discarded), and the next requests run as
before. On SQLite and PostgreSQL, where the store's call holds a pooled connection."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.testclient import TestClient

from app import create_app
from config import Settings
from stores.sql.articles import SqlArticleStore
from tests.conftest import TEST_BACKENDS, Api, error_codes
from tests.live import read_value

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

DEADLINE_SECONDS = 0.5
# Far past the deadline: a call that took this long would fail the test by its duration alone.
SLOW_SECONDS = 30
TIMED_OUT = {"errors": {"request": ["took longer than 0.5 s and was stopped"]}}
ARTICLE_TAGS = "{ articles(first: 5) { nodes { tagList } } }"
SLEEPING_QUERIES = (
    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep%' "
    "AND pid <> pg_backend_pid()"
)


@pytest.fixture(scope="module", params=[b for b in TEST_BACKENDS if b != "dynamodb"])
def backend(request: pytest.FixtureRequest) -> str:
    """The SQL backends only: the deadline's promise here is about pooled SQL connections."""
    name: str = request.param
    return name


@dataclasses.dataclass
class SlowStore:
    """Article store methods made slow inside a write transaction: on PostgreSQL the database
    itself sleeps (pg_sleep), on SQLite the call sleeps while holding the connection and its
    write lock. Records the engines it used, whose pools the test then inspects."""

    monkeypatch: pytest.MonkeyPatch
    engines: list[AsyncEngine] = dataclasses.field(default_factory=list)
    finished: int = 0

    def make_slow(self, method: str) -> None:
        async def slow(store: SqlArticleStore, *args: Any) -> Any:
            engine = store._engine  # the store's own engine: the one whose pool must stay whole
            self.engines.append(engine)
            async with engine.begin() as conn:
                await conn.execute(text('UPDATE article_counts SET "count" = "count"'))
                if engine.dialect.name == "postgresql":
                    await conn.execute(text(f"SELECT pg_sleep({SLOW_SECONDS})"))
                else:
                    await asyncio.sleep(SLOW_SECONDS)
            self.finished += 1  # not stopped: the deadline waited for it instead
            return [] if method == "all_tags" else {}

        self.monkeypatch.setattr(SqlArticleStore, method, slow)

    def assert_stopped_with_pools_whole(self) -> None:
        assert self.engines, "the slow store call never ran"
        assert self.finished == 0
        for engine in self.engines:
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> SlowStore:
    return SlowStore(monkeypatch)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    short = dataclasses.replace(settings, request_timeout_seconds=DEADLINE_SECONDS)
    with TestClient(create_app(short), raise_server_exceptions=False) as http:
        yield Api(http)


def assert_nothing_sleeps_in(settings: Settings) -> None:
    """The cancelled statement was cancelled in PostgreSQL too, not left running there."""
    url = settings.domain_urls()["articles"]
    if url.startswith("postgresql"):
        assert asyncio.run(read_value(url, SLEEPING_QUERIES)) == 0


def test_a_rest_request_past_its_deadline_is_answered_503_and_its_connection_returned(
    api: Api, settings: Settings, slow: SlowStore
) -> None:
    author = api.register()
    slow.make_slow("all_tags")

    response = api.http.get("/api/tags")

    assert (response.status_code, response.json()) == (503, TIMED_OUT)
    slow.assert_stopped_with_pools_whole()
    assert_nothing_sleeps_in(settings)
    slow.monkeypatch.undo()
    assert api.http.get("/api/tags").json() == {"tags": []}
    # A write after it: the cancelled transaction holds no lock.
    api.publish(author, tags=["after"])
    assert api.http.get("/api/tags").json() == {"tags": ["after"]}
    slow.assert_stopped_with_pools_whole()


def test_a_graphql_operation_past_its_deadline_is_answered_with_a_timeout_error(
    api: Api, settings: Settings, slow: SlowStore
) -> None:
    slow.make_slow("all_tags")

    response = api.http.post("/graphql", json={"query": "{ tags }"})

    assert response.status_code == 503
    body: dict[str, Any] = response.json()
    assert error_codes(body) == ["TIMEOUT"]
    assert body["errors"][0]["message"] == "The request took longer than 0.5 s and was stopped"
    assert "data" not in body
    slow.assert_stopped_with_pools_whole()
    assert_nothing_sleeps_in(settings)
    slow.monkeypatch.undo()
    assert api.graphql("{ tags }")["data"] == {"tags": []}


def test_a_dataloader_batch_past_the_deadline_is_stopped_with_its_request(
    api: Api, settings: Settings, slow: SlowStore
) -> None:
    """aiodataloader runs a batch in a task of its own, which would otherwise go on holding its
    connection after the answer."""
    api.publish(api.register(), tags=["t"])
    slow.make_slow("tags_of")

    body = api.http.post("/graphql", json={"query": ARTICLE_TAGS}).json()

    assert error_codes(body) == ["TIMEOUT"]
    slow.assert_stopped_with_pools_whole()
    assert_nothing_sleeps_in(settings)
    slow.monkeypatch.undo()
    assert api.graphql(ARTICLE_TAGS)["data"]["articles"]["nodes"] == [{"tagList": ["t"]}]


def test_many_requests_past_their_deadline_leave_the_pool_whole(
    api: Api, settings: Settings, slow: SlowStore
) -> None:
    """More at once than the pool holds (10): each waits its turn for a connection, or times
    out waiting; none keeps one."""
    slow.make_slow("all_tags")
    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(lambda _: api.http.get("/api/tags").status_code, range(12)))

    assert statuses == [503] * 12
    slow.assert_stopped_with_pools_whole()
    assert_nothing_sleeps_in(settings)
    slow.monkeypatch.undo()
    assert api.http.get("/api/tags").status_code == 200


def test_a_request_within_its_deadline_is_untouched(api: Api) -> None:
    author = api.register()
    api.publish(author, tags=["quick"])
    assert api.http.get("/api/tags").json() == {"tags": ["quick"]}
    assert api.graphql("{ tags }")["data"] == {"tags": ["quick"]}


# A connection lost by its task is given back by the garbage collector, with this warning.
@pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")
def test_the_siblings_of_a_failed_field_give_their_connections_back(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-null field that fails (the feed, asked anonymously) makes graphql-core cancel its
    siblings in flight; a sibling cancelled while checking out its connection kept it."""
    engines: list[AsyncEngine] = []
    all_tags = SqlArticleStore.all_tags

    async def noting_the_engine(store: SqlArticleStore) -> list[str]:
        engines.append(store._engine)
        return await all_tags(store)

    monkeypatch.setattr(SqlArticleStore, "all_tags", noting_the_engine)
    for _ in range(5):
        body = api.graphql("{ feed { totalCount } tags }")
        assert error_codes(body) == ["UNAUTHENTICATED"]
    assert engines
    assert {engine.pool.checkedout() for engine in engines} == {0}  # type: ignore[attr-defined]
