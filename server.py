"""How uvicorn serves the app, the same wherever it is started (`dev.py serve`, the Dockerfile,
the tests' and the benchmarks' servers):

    python -m server [uvicorn options]      e.g. --host 0.0.0.0 --port 8000 --workers 4

runs `uvicorn app:app` with the options below and then the given ones. Its HTTP protocol is
uvicorn's httptools one with the limits uvicorn lacks: a client must send its request head
(request line and headers) within CONDUIT_HEADER_TIMEOUT_SECONDS, in at most
CONDUIT_MAX_HEADER_BYTES bytes and CONDUIT_MAX_HEADERS header fields, or it is answered 408 or
431 and its connection closed. (httptools itself takes headers of any size and number, and
uvicorn reads a request head for as long as the client takes.) The body's limits are the
app's, in middleware.BodyLimit.

Before uvicorn starts, this process checks the configuration and the stores as the app's start
will use them, and brings development databases to their latest migration
(stores.startup.prepare): a mistake there is one line naming the variable and the fix, and exit
status 2, instead of a traceback from every worker."""

from __future__ import annotations

import asyncio
import os
import sys
from functools import cache
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from config import HttpLimits

PROTOCOL = "server:LimitedHttpToolsProtocol"
UVICORN_OPTIONS = ("--http", PROTOCOL)


@cache
def _limits() -> HttpLimits:
    """Read once per worker process, on its first connection."""
    return HttpLimits.from_env()


class _HeadRefused(Exception):
    """Stops httptools mid-head; the refusal has been written already."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = _limits()
        self.head_deadline: asyncio.TimerHandle | None = None
        self.awaiting_head = True
        self.head_bytes = 0
        self.header_count = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.awaiting_head:
            self.head_bytes += len(data)
        super().data_received(data)
        # Checked after parsing: a head that ends within this read is whole, and fine.
        if self.awaiting_head and self.head_bytes > self.limits.max_header_bytes:
            self._refuse(431, f"request head larger than {self.limits.max_header_bytes} bytes")

    def send_400_response(self, msg: str) -> None:
        if not self.transport.is_closing():  # else refused already, with a better reason
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_count = 0
        if self.head_deadline is None:
            self._arm_head_deadline()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        if self.header_count > self.limits.max_headers:
            self._refuse(431, f"more than {self.limits.max_headers} header fields")
            raise _HeadRefused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm_head_deadline()
        self.awaiting_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.awaiting_head = True
        self.head_bytes = 0

    def _arm_head_deadline(self) -> None:
        seconds = self.limits.header_timeout_seconds
        self.head_deadline = self.loop.call_later(
            seconds, self._refuse, 408, f"request head not received within {seconds:g} s"
        )

    def _disarm_head_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def _refuse(self, status: int, reason: str) -> None:
        """Answers `status` with `reason` and closes the connection: the rest of what the
        client sends is never read."""
        self._disarm_head_deadline()
        if self.transport.is_closing():
            return
        self.logger.info("%s to %s: %s", status, self.client, reason)
        body = reason.encode("ascii")
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def check_start() -> None:
    """Exit 2 with one line on stderr unless the app can start with this environment."""
    import logs
    from config import ConfigError, Settings
    from stores import startup

    try:
        settings = Settings.from_env()
        startup.check_urls(settings)  # before logging, which parses the URLs for their secrets
        logs.configure(settings)
        asyncio.run(startup.prepare(settings))
    except ConfigError as error:
        # The same line as app.py's: this is the operator's mistake, not a bug.
        print(f"conduit: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str]) -> None:
    check_start()
    command = [sys.executable, "-m", "uvicorn", "app:app", *UVICORN_OPTIONS, *argv]
    # Become uvicorn, so that signals (Ctrl-C, SIGTERM from `docker stop`) reach it directly.
    os.execv(sys.executable, command)  # noqa: S606 - this interpreter, uvicorn's own module


if __name__ == "__main__":
    main(sys.argv[1:])
