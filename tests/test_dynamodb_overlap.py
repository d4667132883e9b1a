"""boto3 blocks, so the DynamoDB stores call it from a thread pool: requests waiting on
DynamoDB must overlap, not queue behind each other on the event loop.

The proof is a barrier rather than a clock: every DynamoDB GetItem waits, before it is sent,
until PARTIES of them are waiting at once. Were a call made on the event loop, the first one
would hold the loop at the barrier, no other request could reach it, and the barrier would
break after its timeout."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from app import create_app
from stores.dynamodb import backend
from tests import aws
from tests.conftest import TEST_BACKENDS, settings_for

pytestmark = [
    pytest.mark.usefixtures("cheap_password_hashing"),
    pytest.mark.skipif(
        "dynamodb" not in TEST_BACKENDS, reason="CONDUIT_TEST_BACKENDS leaves out dynamodb"
    ),
]

PARTIES = 8
BARRIER_TIMEOUT_SECONDS = 20


@pytest.fixture
def in_process_aws() -> Iterator[None]:
    with aws.in_process_aws():
        yield


@pytest.fixture
def meeting() -> Iterator[tuple[threading.Barrier, threading.Event]]:
    """A barrier every GetItem of the clients made meanwhile waits at, once the event is set."""
    barrier = threading.Barrier(PARTIES, timeout=BARRIER_TIMEOUT_SECONDS)
    started = threading.Event()

    def wait(**_: Any) -> None:
        if started.is_set():
            barrier.wait()

    events = backend._session().events
    events.register("before-call.dynamodb.GetItem", wait, unique_id=__name__)
    try:
        yield barrier, started
    finally:
        events.unregister("before-call.dynamodb.GetItem", unique_id=__name__)


@pytest.mark.usefixtures("in_process_aws")
def test_requests_waiting_on_dynamodb_overlap(
    meeting: tuple[threading.Barrier, threading.Event],
) -> None:
    barrier, started = meeting

    async def scenario() -> list[int]:
        app = create_app(settings_for(aws.fresh_table_urls(), "sqlite+aiosqlite:///unused.db"))
        transport = httpx2.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx2.AsyncClient(transport=transport, base_url="http://test") as http,
        ):
            user = {"username": "jake", "email": "jake@example.com", "password": "jakejake"}
            registered = await http.post("/api/users", json={"user": user})
            assert registered.status_code == 201, registered.text
            started.set()
            # Each profile read looks the name up with GetItem calls: PARTIES requests must all
            # be in the same GetItem at once for any of them to go on.
            answers = await asyncio.gather(
                *(http.get("/api/profiles/jake") for _ in range(PARTIES))
            )
        return [a.status_code for a in answers]

    assert asyncio.run(scenario()) == [200] * PARTIES
    assert not barrier.broken
