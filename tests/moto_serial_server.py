"""`python -m tests.moto_serial_server PORT`: moto's server, answering one request at a time.

moto applies a DynamoDB transaction one action after another and undoes a cancelled one by
putting back a copy of the whole table, so two requests in flight at once can interleave or
undo each other's writes; DynamoDB's transactions and conditional writes are atomic. Serving
one request at a time gives the tests DynamoDB's atomicity, while the app under test still
has as many requests in flight as it likes."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def one_at_a_time(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    return serve


def main(port: int) -> None:
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, one_at_a_time(app), threaded=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
