"""ASGI middleware around every request: request ids, round-trip counts, the access log, the
request body's size and time limits, and the deadline of a request's work."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, MutableMapping
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loaders import request_tasks
from logs import current_request_id
from stores.round_trips import start_counting

access_log = logging.getLogger("conduit.access")
deadline_log = logging.getLogger("conduit.deadline")
REQUEST_ID_HEADER = "x-request-id"
ROUND_TRIPS_HEADER = "x-store-round-trips"
# A client may name its request (to trace it across services) if the name is harmless in logs.
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")


def request_id_of(scope: MutableMapping[str, Any]) -> str:
    return str(scope.get("state", {}).get("request_id", "-"))


class RequestTracking:
    """Gives each request an id (echoed in `X-Request-ID`), counts its store round trips
    (`X-Store-Round-Trips`), and logs one access line with status and duration; and tells
    `finished` (the request metrics, when on) each request's status and seconds."""

    def __init__(
        self, app: ASGIApp, finished: Callable[[Scope, int, float], None] | None = None
    ) -> None:
        self.app = app
        self.finished = finished

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = sent if _CLIENT_REQUEST_ID.match(sent) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        current_request_id.set(request_id)
        if scope["type"] == "websocket":
            # A connection's operations log under its id; it has no status or duration.
            await self.app(scope, receive, send)
            return
        trips = start_counting()
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                headers.append((ROUND_TRIPS_HEADER.encode(), str(trips.count).encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            seconds = time.perf_counter() - started
            if self.finished is not None:
                self.finished(scope, status, seconds)
            # The path without its query string: a query string may carry what no log should.
            fields = {
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "round_trips": trips.count,
            }
            access_log.info(
                "%(method)s %(path)s %(status)s %(duration_ms).1fms trips=%(round_trips)d",
                fields,
                extra=fields,
            )


class BodyLimit:
    """Answers 413 to a request body over `max_bytes`, and 408 to one that has not arrived
    whole within `timeout_seconds`, before any handler parses it. Either answer closes the
    connection: the rest of the body is never read."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_seconds: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _refuse(send, 413, f"body is larger than {self.max_bytes} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout_seconds):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        break
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_bytes:
                        await _refuse(send, 413, f"body is larger than {self.max_bytes} bytes")
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            message_text = f"body did not arrive within {self.timeout_seconds:g} s"
            await _refuse(send, 408, message_text)
            return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, reason: str) -> None:
    body = json.dumps({"errors": {"request": [reason]}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Deadline:
    """Cancels a request's work after `seconds`, its DataLoaders' batches included, and answers
    with `timed_out()`, the API's own error body; once the response has started, it can only
    stop. SQLAlchemy discards a connection cancelled mid-call (invalidated, then closed; asyncpg
    stops the statement on the server too), so the pool stays whole."""

    def __init__(self, app: ASGIApp, seconds: float, timed_out: Callable[[], Response]) -> None:
        self.app = app
        self.seconds = seconds
        self.timed_out = timed_out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        with request_tasks.collected() as loader_tasks:
            try:
                async with asyncio.timeout(self.seconds) as deadline:
                    await self.app(scope, receive, send_noting_start)
                return
            except TimeoutError:
                if not deadline.expired():
                    raise  # the app's own, not the deadline's
                # The DataLoaders' batches run in tasks of their own: they stop here, with it.
                for task in loader_tasks:
                    task.cancel()
                await asyncio.gather(*loader_tasks, return_exceptions=True)
        deadline_log.warning(
            "%s %s stopped after %g s",
            scope["method"],
            scope["path"],
            self.seconds,
            extra={"request_id": request_id_of(scope)},
        )
        if not started:
            await self.timed_out()(scope, receive, send)
