"""Live comments: GraphQL subscriptions over graphql-transport-ws, with a real WebSocket client
against real servers. One server on the in-process broker for the protocol, its limits and its
errors; and two servers (a uvicorn worker process each, one apart from the other) on one Redis
channel, where a comment added and deleted through one reaches a subscriber on the other."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
import pytest
import redis
import redis.asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from auth.tokens import TokenService
from config import DEVELOPMENT_JWT_SECRET, LiveSettings, RateLimit
from events import ArticleDeleted, Commented, DomainEvent
from events.live import QUEUE_SIZE, Fanout, InProcessBroker, LiveBus, Overflowed, open_broker
from models.ids import parse_global_id
from tests import postgres
from tests.conftest import separate_sqlite_files
from tests.live import free_port, uvicorn_server
from tests.test_rate_limits import limited, serving

REDIS_URL = "redis://127.0.0.1:6379/0"
PROTOCOL = Subprotocol("graphql-transport-ws")
ADDED = """subscription($slug: String!) {
  commentAdded(articleSlug: $slug) { id body author { username } viewerCanDelete } }"""
DELETED = "subscription($slug: String!) { commentDeleted(articleSlug: $slug) { id } }"
SUBSCRIPTIONS_PER_CONNECTION = 2
CONNECTIONS_PER_ADDRESS = 3
# Signed as the servers' tokens are (the development secret), but refused all the same.
EXPIRED = TokenService(DEVELOPMENT_JWT_SECRET, -60).issue(1, 0)
NO_SUCH_USER = TokenService(DEVELOPMENT_JWT_SECRET, 3600).issue(10**9, 0)
# How long a test waits for any one message before it fails.
WAIT_SECONDS = 5.0
# How long a probe waits for its event before it tries again (see `until_live`).
PROBE_SECONDS = 0.2


def test_a_subscriber_that_falls_behind_is_dropped_and_no_one_else() -> None:
    """Delivery never waits: a subscriber that lets QUEUE_SIZE events wait unread is told so
    after reading them, while one that keeps up, and those of other articles, go on."""

    async def scenario() -> None:
        fanout = Fanout()
        with (
            fanout.subscribe(1) as slow,
            fanout.subscribe(1) as reading,
            fanout.subscribe(2) as elsewhere,
        ):
            events = [Commented(n, 1, 7) for n in range(QUEUE_SIZE + 2)]
            for event in events:
                fanout.deliver(event)
                assert await reading.next() == event
            for event in events[:QUEUE_SIZE]:
                assert await slow.next() == event
            with pytest.raises(Overflowed):
                await slow.next()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(elsewhere.next(), 0.01)

    asyncio.run(scenario())


def test_the_live_bus_hands_the_broker_comment_events_after_the_bus() -> None:
    published: list[DomainEvent] = []

    class Bus:
        async def publish(self, event: DomainEvent) -> None:
            published.append(event)

    async def scenario() -> None:
        broker = InProcessBroker()
        bus = LiveBus(Bus(), broker)
        with broker.subscribe(1) as subscriber:
            added = Commented(5, 1, 7)
            await bus.publish(ArticleDeleted(2))
            await bus.publish(added)
            assert await subscriber.next() == added
        assert [type(e) for e in published] == [ArticleDeleted, Commented]

    asyncio.run(scenario())


@pytest.mark.parametrize("scheme", ["redis", "postgresql"])
def test_an_unreachable_server_loses_live_events_but_fails_no_write(
    scheme: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        broker = open_broker(LiveSettings(f"{scheme}://127.0.0.1:{free_port()}/0", "nowhere"))
        await broker.start()
        await broker.publish(Commented(5, 1, 7))
        await broker.close()

    asyncio.run(scenario())
    lost = [r.getMessage() for r in caplog.records if r.name == "conduit.events.live"]
    assert lost, "losing the connection is logged"
    assert "live event Commented" in caplog.text
    assert "reached no subscriber" in caplog.text


class Client:
    """A user of one server, through REST."""

    def __init__(self, base_url: str, name: str) -> None:
        self.base_url = base_url
        self.name = name
        answer = httpx2.post(
            f"{base_url}/api/users",
            json={"user": {"username": name, "email": f"{name}@example.com", "password": "p" * 8}},
        )
        assert answer.status_code == 201, answer.text
        self.token: str = answer.json()["user"]["token"]

    def call(self, method: str, path: str, body: object = None) -> Any:
        answer = httpx2.request(
            method,
            f"{self.base_url}/api{path}",
            json=body,
            headers={"Authorization": f"Token {self.token}"},
        )
        assert answer.status_code in (200, 201, 204), answer.text
        return answer.json() if answer.content else None

    def publish(self) -> str:
        article = {"title": f"Live {uuid.uuid4().hex[:8]}", "description": "d", "body": "b"}
        slug: str = self.call("POST", "/articles", {"article": article})["article"]["slug"]
        return slug

    def comment(self, slug: str, body: str) -> str:
        """Through GraphQL; the new comment's id."""
        answer = httpx2.post(
            f"{self.base_url}/graphql",
            json={
                "query": "mutation($slug: String!, $body: String!) "
                "{ addComment(slug: $slug, body: $body) { id } }",
                "variables": {"slug": slug, "body": body},
            },
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert "errors" not in answer.json(), answer.text
        comment_id: str = answer.json()["data"]["addComment"]["id"]
        return comment_id

    def delete_comment(self, slug: str, comment_id: str) -> None:
        """Through REST, which names a comment by its number rather than its global id."""
        found = parse_global_id(comment_id)
        assert found is not None, comment_id
        self.call("DELETE", f"/articles/{slug}/comments/{found.number}")


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/graphql"


async def receive(ws: ClientConnection, seconds: float = WAIT_SECONDS) -> dict[str, Any]:
    frame = await asyncio.wait_for(ws.recv(), seconds)
    assert isinstance(frame, str), "the protocol's messages go in text frames"
    message: dict[str, Any] = json.loads(frame)
    return message


async def open_session(base_url: str, payload: object = None) -> ClientConnection:
    """A connection, acknowledged after connection_init with `payload`."""
    ws = await connect(ws_url(base_url), subprotocols=[PROTOCOL])
    init: dict[str, Any] = {"type": "connection_init"}
    if payload is not None:
        init["payload"] = payload
    await ws.send(json.dumps(init))
    assert await receive(ws) == {"type": "connection_ack"}
    return ws


async def subscribe(ws: ClientConnection, op_id: str, query: str, slug: str) -> None:
    payload = {"query": query, "variables": {"slug": slug}}
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))


async def event_where(
    ws: ClientConnection, op_id: str, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The data of the first `next` of `op_id` that is `wanted` (those of probes are not)."""
    while True:
        message = await receive(ws)
        assert (message["type"], message["id"]) == ("next", op_id), message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        if wanted(data):
            return data


async def until_live(ws: ClientConnection, act: Callable[[], Awaitable[None]]) -> None:
    """`act` again until the connection hears of it: a subscription starts listening a moment
    after its subscribe message, and graphql-transport-ws does not say when."""
    for _ in range(int(WAIT_SECONDS / PROBE_SECONDS)):
        await act()
        try:
            await receive(ws, PROBE_SECONDS)
            return
        except TimeoutError:
            continue
    pytest.fail("the subscription never heard of a probe")


async def closed_with(ws: ClientConnection) -> tuple[int, str]:
    """The close code and reason the server ended the connection with (after any messages
    it sent first)."""
    with pytest.raises(ConnectionClosed) as closed:  # noqa: PT012 - a loop, the raise ends it
        while True:
            await receive(ws)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def in_thread(call: Callable[[], object]) -> Callable[[], Awaitable[None]]:
    """A blocking HTTP call that leaves the event loop free to read the WebSocket."""

    async def run() -> None:
        await asyncio.to_thread(call)

    return run


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server, one worker, the in-process broker and small limits."""
    directory = tmp_path_factory.mktemp("live")
    urls = separate_sqlite_files(directory / "db").domain_urls()
    env = {f"CONDUIT_{d.upper()}_URL": url for d, url in urls.items()}
    env |= {
        "CONDUIT_LOG_LEVEL": "WARNING",
        "CONDUIT_REQUEST_TIMEOUT_SECONDS": "1",
        "CONDUIT_LIVE_SUBSCRIPTIONS_PER_CONNECTION": str(SUBSCRIPTIONS_PER_CONNECTION),
        "CONDUIT_LIVE_CONNECTIONS_PER_ADDRESS": str(CONNECTIONS_PER_ADDRESS),
    }
    with uvicorn_server(env, workers=1, log=directory / "server.log") as base_url:
        yield base_url


def test_connections_past_the_limit_per_address_are_closed_with_1013(server: str) -> None:
    async def scenario() -> tuple[int, str]:
        held = [await open_session(server) for _ in range(CONNECTIONS_PER_ADDRESS)]
        try:
            ws = await connect(ws_url(server), subprotocols=[PROTOCOL])
            return await closed_with(ws)
        finally:
            for ws in held:
                await ws.close()

    reason = f"At most {CONNECTIONS_PER_ADDRESS} connections per client address"
    assert asyncio.run(scenario()) == (1013, reason)


def test_a_comment_added_and_deleted_reaches_subscribers_past_the_request_deadline(
    server: str,
) -> None:
    """Anonymous and signed-in subscribers alike; each viewer sees `viewerCanDelete` as its
    own. The connections outlive the 1 s request deadline."""
    author = Client(server, f"a{uuid.uuid4().hex[:8]}")
    slug = author.publish()

    async def scenario() -> None:
        anonymous = await open_session(server)
        signed_in = await open_session(server, {"Authorization": f"Bearer {author.token}"})
        await subscribe(anonymous, "1", ADDED, slug)
        await subscribe(signed_in, "1", ADDED, slug)
        await until_live(anonymous, in_thread(lambda: author.comment(slug, "probe")))
        await until_live(signed_in, in_thread(lambda: author.comment(slug, "probe")))
        await subscribe(signed_in, "2", DELETED, slug)
        await asyncio.sleep(1.5)  # past the request deadline
        comment_id = await asyncio.to_thread(author.comment, slug, "Hello, live")
        for ws, can_delete in ((anonymous, False), (signed_in, True)):
            data = await event_where(ws, "1", lambda d: d["commentAdded"]["body"] != "probe")
            assert data == {
                "commentAdded": {
                    "id": comment_id,
                    "body": "Hello, live",
                    "author": {"username": author.name},
                    "viewerCanDelete": can_delete,
                }
            }
        await asyncio.to_thread(author.delete_comment, slug, comment_id)
        data = await event_where(signed_in, "2", lambda d: d["commentDeleted"]["id"] == comment_id)
        assert data == {"commentDeleted": {"id": comment_id}}
        await anonymous.close()
        await signed_in.close()

    asyncio.run(scenario())


def test_a_page_of_any_origin_may_connect_by_default(server: str) -> None:
    """CONDUIT_CORS_ORIGINS (default *) names the pages that may; no cookie is ever read, the
    token travels in connection_init."""

    async def scenario() -> None:
        origin = Origin("https://frontend.example")
        async with connect(ws_url(server), subprotocols=[PROTOCOL], origin=origin) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert await receive(ws) == {"type": "connection_ack"}

    asyncio.run(scenario())


def test_deleting_the_article_completes_its_subscriptions(server: str) -> None:
    author = Client(server, f"a{uuid.uuid4().hex[:8]}")
    slug = author.publish()

    async def scenario() -> dict[str, Any]:
        ws = await open_session(server)
        await subscribe(ws, "1", ADDED, slug)
        await until_live(ws, in_thread(lambda: author.comment(slug, "probe")))
        await asyncio.to_thread(author.call, "DELETE", f"/articles/{slug}")
        while (message := await receive(ws))["type"] == "next":
            continue  # a probe's
        await ws.close()
        return message

    assert asyncio.run(scenario()) == {"id": "1", "type": "complete"}


def test_an_unknown_article_is_a_not_found_error(server: str) -> None:
    async def scenario() -> list[dict[str, Any]]:
        ws = await open_session(server)
        await subscribe(ws, "1", ADDED, "no-such-article")
        first, last = await receive(ws), await receive(ws)
        assert last == {"id": "1", "type": "complete"}
        await ws.close()
        errors: list[dict[str, Any]] = first["payload"]["errors"]
        return errors

    [error] = asyncio.run(scenario())
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error == {
        "message": "article not found",
        "extensions": {"code": "NOT_FOUND", "fields": {"article": ["not found"]}},
    }


@pytest.mark.parametrize(
    "query",
    [
        'subscription { commentAdded(articleSlug: "a") { nope } }',
        "subscription { ...A } fragment A on Subscription { ...A }",
        "subscription { "
        + " ".join(f'a{i}: commentAdded(articleSlug: "a") {{ id }}' for i in range(31))
        + " }",
    ],
    ids=["unknown field", "fragment spreading itself", "too many aliases"],
)
def test_an_invalid_subscription_gets_an_error_and_the_connection_stays(
    server: str, query: str
) -> None:
    """Costed and validated as over HTTP, before anything runs."""

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        ws = await open_session(server)
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        refused = await receive(ws)
        await ws.send(json.dumps({"type": "ping"}))
        pong = await receive(ws)
        await ws.close()
        return refused, pong

    refused, pong = asyncio.run(scenario())
    assert (refused["id"], refused["type"]) == ("1", "error")
    assert {e["extensions"]["code"] for e in refused["payload"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert pong == {"type": "pong"}


@pytest.mark.parametrize(
    "query",
    [
        "{ tags }",
        'mutation { register(input: {username: "ws", email: "ws@example.com", '
        'password: "password123"}) { token } }',
    ],
    ids=["query", "mutation"],
)
def test_a_query_or_mutation_over_websocket_is_refused_and_never_runs(
    server: str, query: str
) -> None:
    """Only subscriptions go over the socket: the request deadline holds over HTTP alone."""

    async def scenario() -> list[dict[str, Any]]:
        ws = await open_session(server)
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        messages = [await receive(ws)]
        while messages[-1]["type"] not in ("error", "complete"):
            messages.append(await receive(ws))
        await ws.close()
        return messages

    messages = asyncio.run(scenario())
    assert all("data" not in m.get("payload", {}) or m["payload"]["data"] is None for m in messages)
    assert any(m["type"] == "error" or m["payload"].get("errors") for m in messages), messages
    login = httpx2.post(
        f"{server}/graphql",
        json={
            "query": 'mutation { login(input: {email: "ws@example.com", '
            'password: "password123"}) { token } }'
        },
    )
    assert login.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_subscriptions_past_the_limit_per_connection_are_refused(server: str) -> None:
    slug = Client(server, f"a{uuid.uuid4().hex[:8]}").publish()

    async def scenario() -> dict[str, Any]:
        ws = await open_session(server)
        for op_id in range(SUBSCRIPTIONS_PER_CONNECTION + 1):
            await subscribe(ws, str(op_id), ADDED, slug)
        refused = await receive(ws)
        await ws.close()
        return refused

    refused = asyncio.run(scenario())
    assert refused["id"] == str(SUBSCRIPTIONS_PER_CONNECTION)
    assert refused["type"] == "error"
    [error] = refused["payload"]
    assert error["extensions"] == {"code": "TOO_MANY_SUBSCRIPTIONS", "limit": 2}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"Authorization": "Bearer not-a-token"}, 4403),
        ({"token": "not-a-token"}, 4403),
        ({"authorization": f"Token {EXPIRED}"}, 4403),
        ({"token": NO_SUCH_USER}, 4403),
        ({"token": 42}, 4400),
        ({"Authorization": ["Bearer", "x"]}, 4400),
    ],
    ids=["not a token", "not a token, bare", "expired", "no such user", "a number", "a list"],
)
def test_a_bad_token_closes_the_connection(server: str, payload: object, code: int) -> None:
    async def scenario() -> int:
        ws = await connect(ws_url(server), subprotocols=[PROTOCOL])
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        closed, _ = await closed_with(ws)
        return closed

    assert asyncio.run(scenario()) == code


@pytest.mark.parametrize(
    ("messages", "code"),
    [
        (["not json"], 4400),
        ([{"type": "no-such-type"}], 4400),
        ([{"type": "subscribe", "id": "1", "payload": {"query": "subscription { x }"}}], 4401),
        ([{"type": "connection_init"}, {"type": "connection_init"}], 4429),
        ([{"type": "connection_init"}, {"type": "subscribe"}], 4400),
    ],
)
def test_malformed_messages_close_the_connection(
    server: str, messages: list[object], code: int
) -> None:
    async def scenario() -> int:
        ws = await connect(ws_url(server), subprotocols=[PROTOCOL])
        for message in messages:
            await ws.send(message if isinstance(message, str) else json.dumps(message))
        closed, _ = await closed_with(ws)
        return closed

    assert asyncio.run(scenario()) == code


def test_each_operation_over_a_connection_pays_from_the_request_budget(tmp_path: Path) -> None:
    """In process (Starlette's test client): the connection itself costs nothing, each
    subscribe a point, and one past the budget is refused with RATE_LIMITED."""
    settings = limited(tmp_path, requests_per_client=RateLimit(2, 3600))
    subscription = {"query": 'subscription { commentDeleted(articleSlug: "none") { id } }'}
    with serving(settings) as api, api.http.websocket_connect("/graphql", [PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json() == {"type": "connection_ack"}
        for op_id in ("1", "2"):
            ws.send_json({"id": op_id, "type": "subscribe", "payload": subscription})
            [error] = ws.receive_json()["payload"]["errors"]
            assert error["extensions"]["code"] == "NOT_FOUND"
            assert ws.receive_json() == {"id": op_id, "type": "complete"}
        ws.send_json({"id": "3", "type": "subscribe", "payload": subscription})
        refused = ws.receive_json()
    assert (refused["id"], refused["type"]) == ("3", "error")
    [error] = refused["payload"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["limit"] == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_subscription_over_http_is_a_bad_request(tmp_path: Path, method: str) -> None:
    """Over HTTP an operation has one answer, and a subscription none to give."""
    query = 'subscription { commentAdded(articleSlug: "any") { id } }'
    with serving(limited(tmp_path)) as api:
        if method == "GET":
            answer = api.http.get("/graphql", params={"query": query})
        else:
            answer = api.http.post("/graphql", json={"query": query})
    assert answer.status_code == 400
    assert answer.json() == {
        "errors": [
            {
                "message": f"subscriptions are not allowed when using {method}",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }


@pytest.fixture(params=["redis", "postgresql"])
def live_url(request: pytest.FixtureRequest) -> str:
    """A shared channel's server, reachable (the test fails otherwise, as CI has both)."""
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        try:
            client.ping()
        except redis.RedisError as error:
            pytest.fail(f"Redis is unreachable at {REDIS_URL}: {error}")
        finally:
            client.close()
        return REDIS_URL
    if not postgres.is_available():
        pytest.fail(f"PostgreSQL is unreachable at {postgres.ADMIN_DSN}")
    return postgres.ADMIN_DSN


async def cut_listener(url: str, channel: str) -> None:
    """Close the broker's listening connection from the server's side, as a restart would."""
    if url.startswith("redis"):
        client = redis.asyncio.Redis.from_url(url)
        try:
            [listener] = [c for c in await client.client_list() if c["name"] == f"live:{channel}"]
            await client.client_kill_filter(_id=listener["id"])
        finally:
            await client.aclose()
        return
    connection = await asyncpg.connect(url)
    try:
        killed = await connection.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = $1",
            f'LISTEN "{channel}"',
        )
        assert killed == 1
    finally:
        await connection.close()


@pytest.mark.slow  # needs Redis and PostgreSQL: left out of `python3 dev.py test --fast`
def test_a_broker_listens_again_after_losing_its_connection(
    live_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel = f"test-live-{uuid.uuid4().hex}"

    async def scenario() -> None:
        broker = open_broker(LiveSettings(live_url, channel))
        await broker.start()
        try:
            with broker.subscribe(1) as subscriber:
                await cut_listener(live_url, channel)
                event = Commented(5, 1, 7)
                for _ in range(int(WAIT_SECONDS / PROBE_SECONDS)):
                    await broker.publish(event)
                    try:
                        heard = await asyncio.wait_for(subscriber.next(), PROBE_SECONDS)
                        break
                    except TimeoutError:
                        continue
                else:
                    pytest.fail("the broker never listened again")
                assert heard == event
        finally:
            await broker.close()

    asyncio.run(scenario())
    lost = [r.getMessage() for r in caplog.records if r.name == "conduit.events.live"]
    assert lost, "losing the connection is logged"


@pytest.mark.slow  # needs Redis and PostgreSQL: left out of `python3 dev.py test --fast`
def test_a_comment_through_one_worker_reaches_a_subscriber_on_another(
    tmp_path: Path, live_url: str
) -> None:
    """Two servers of one worker each, on the same databases and live channel (of this test
    alone): which process serves which connection is then certain, as it is not among one
    server's workers."""
    urls = separate_sqlite_files(tmp_path / "db").domain_urls()
    env = {f"CONDUIT_{d.upper()}_URL": url for d, url in urls.items()}
    env |= {
        "CONDUIT_LOG_LEVEL": "WARNING",
        "CONDUIT_LIVE_URL": live_url,
        "CONDUIT_LIVE_CHANNEL": f"test-live-{uuid.uuid4().hex}",
    }
    log = tmp_path / "server.log"
    with uvicorn_server(env, 1, log) as worker_a, uvicorn_server(env, 1, log) as worker_b:
        on_a = Client(worker_a, f"a{uuid.uuid4().hex[:8]}")
        slug = on_a.publish()

        async def scenario() -> None:
            added = await open_session(worker_b)
            deleted = await open_session(worker_b, {"token": on_a.token})
            await subscribe(added, "1", ADDED, slug)
            await subscribe(deleted, "1", DELETED, slug)
            await until_live(added, in_thread(lambda: on_a.comment(slug, "probe")))

            async def add_and_delete() -> None:
                probe = await asyncio.to_thread(on_a.comment, slug, "probe")
                await asyncio.to_thread(on_a.delete_comment, slug, probe)

            await until_live(deleted, add_and_delete)
            comment_id = await asyncio.to_thread(on_a.comment, slug, "From A")
            data = await event_where(added, "1", lambda d: d["commentAdded"]["body"] == "From A")
            assert data["commentAdded"] == {
                "id": comment_id,
                "body": "From A",
                "author": {"username": on_a.name},
                "viewerCanDelete": False,
            }
            await asyncio.to_thread(on_a.delete_comment, slug, comment_id)
            data = await event_where(
                deleted, "1", lambda d: d["commentDeleted"]["id"] == comment_id
            )
            assert data == {"commentDeleted": {"id": comment_id}}
            await added.close()
            await deleted.close()

        asyncio.run(scenario())
