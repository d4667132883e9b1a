"""`python -m tests.moto_serial_server PORT`: moto's server, answering one request at a time,
as DynamoDB would where moto falls short of it.

moto applies a DynamoDB transaction one action after another and undoes a cancelled one by
putting back a copy of the whole table, so two requests in flight at once can interleave or
undo each other's writes; DynamoDB's transactions and conditional writes are atomic. Serving
one request at a time gives the tests DynamoDB's atomicity, while the app under test still
has as many requests in flight as it likes.

That copy, taken once per action, includes every stream record the table ever had (moto keeps
them all), so a run's later transactions took seconds: past botocore's read timeout, whose
retry moto then applied a second time, ignoring the ClientRequestToken by which DynamoDB
applies a transaction once. No test reads a stream from this server, so it keeps no records,
and it answers a TransactWriteItems whose token it has seen as it did the first time."""

from __future__ import annotations

import io
import json
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.dynamodb.models.table import StreamShard
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[str, list[tuple[str, str]], list[bytes]]
TRANSACT_WRITE_ITEMS = "DynamoDB_20120810.TransactWriteItems"


def one_at_a_time(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()
    answered: dict[str, Answer] = {}

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            token = _transaction_token(environ)
            if token in answered:
                status, headers, body = answered[token]
                start_response(status, headers)
                return body
            started: list[Any] = []

            def remember(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
                started[:] = [status, headers]
                return start_response(status, headers, *exc)

            body = list(app(environ, remember))
            if token is not None:
                answered[token] = (started[0], started[1], body)
            return body

    return serve


def _transaction_token(environ: dict[str, Any]) -> str | None:
    """The ClientRequestToken of a TransactWriteItems request, its body put back to be read."""
    if environ.get("HTTP_X_AMZ_TARGET") != TRANSACT_WRITE_ITEMS:
        return None
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    token = json.loads(body or b"{}").get("ClientRequestToken")
    return token if isinstance(token, str) else None


def _keep_no_stream_records(shard: StreamShard, old: Any, new: Any) -> None:
    """In place of StreamShard.add."""


def main(port: int) -> None:
    StreamShard.add = _keep_no_stream_records  # type: ignore[method-assign,assignment]
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, one_at_a_time(app), threaded=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
