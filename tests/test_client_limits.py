"""Slow and oversized clients, over real sockets to the server as production runs it
(`python -m server`: uvicorn with server.py's protocol). A request head must arrive within
CONDUIT_HEADER_TIMEOUT_SECONDS (408, then the connection is closed), within
CONDUIT_MAX_HEADER_BYTES and CONDUIT_MAX_HEADERS (431, closed); a body within
CONDUIT_BODY_TIMEOUT_SECONDS (408, closed). Everyone else is served as before."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from tests.live import uvicorn_server

pytestmark = pytest.mark.slow  # left out of `python3 dev.py test --fast`

HEADER_TIMEOUT = 1
BODY_TIMEOUT = 1
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERS = 100
# How long a test waits for the server to act: far above its timeouts, so that only a server
# that never closes the connection fails, however busy the machine.
PATIENCE_SECONDS = 20


@dataclass(frozen=True)
class Server:
    url: str
    host: str
    port: int
    log: Path

    def connect(self) -> socket.socket:
        connection = socket.create_connection((self.host, self.port))
        connection.settimeout(PATIENCE_SECONDS)
        return connection


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("limits")
    env = {
        "CONDUIT_DATABASE_URL": f"sqlite+aiosqlite:///{directory}/conduit.db",
        "CONDUIT_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "CONDUIT_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
    }
    log = directory / "server.log"
    with uvicorn_server(env, workers=1, log=log) as url:
        host, port = url.removeprefix("http://").split(":")
        yield Server(url, host, int(port), log)


def everything_until_closed(connection: socket.socket) -> bytes:
    """What the server sends until it closes the connection (a reset counts as closed)."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def head(*headers: bytes) -> bytes:
    return b"GET /health HTTP/1.1\r\nHost: t\r\n" + b"".join(h + b"\r\n" for h in headers)


def test_a_half_sent_head_is_answered_408_and_closed(server: Server) -> None:
    with server.connect() as connection:
        connection.sendall(head(b"Accept: */*"))  # and never the blank line that ends it

        response = everything_until_closed(connection)

    assert status_of(response) == 408
    assert response.endswith(b"request head not received within 1 s")


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    with server.connect() as connection:
        response = everything_until_closed(connection)
    assert status_of(response) == 408


def test_a_head_sent_a_byte_at_a_time_past_the_timeout_is_closed(server: Server) -> None:
    """Slowloris: each byte comes well within any idle timeout, the whole head never does."""
    request = head(b"Accept: */*") + b"\r\n"
    with server.connect() as connection:
        closed = False
        for byte in request:
            try:
                connection.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.1)
        response = everything_until_closed(connection)
    assert closed or status_of(response) == 408
    assert b"200 OK" not in response


def test_a_1_mib_header_is_refused_431(server: Server) -> None:
    with server.connect() as connection:
        # Refused while still sending: the answer may then be lost with the connection.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(head(b"Authorization: Token " + b"a" * (1 << 20)) + b"\r\n")
        response = everything_until_closed(connection)

    assert response == b"" or status_of(response) == 431
    # The server says why, whether or not the client could still read it.
    assert f"request head larger than {MAX_HEADER_BYTES} bytes" in _log_when_written(server)


def test_too_many_headers_are_refused_431(server: Server) -> None:
    many = [b"X-Filler-%d: 1" % i for i in range(MAX_HEADERS + 1)]
    with server.connect() as connection:
        connection.sendall(head(*many) + b"\r\n")
        response = everything_until_closed(connection)

    assert status_of(response) == 431
    assert response.endswith(f"more than {MAX_HEADERS} header fields".encode())


def test_a_head_within_the_limits_is_served(server: Server) -> None:
    """100 headers (httpx's 5 and ours), one of them 15 KiB: just within both limits."""
    headers = {f"x-filler-{i}": "1" for i in range(MAX_HEADERS - 6)}
    headers["x-large"] = "a" * (15 * 1024)
    response = httpx2.get(f"{server.url}/health", headers=headers)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_a_stalled_body_is_answered_408_and_closed(server: Server) -> None:
    body_start = b'{"user": {"username": "slow", ' + b" " * 100_000
    with server.connect() as connection:
        connection.sendall(
            b"POST /api/users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\n\r\n" + body_start
        )
        response = everything_until_closed(connection)

    assert status_of(response) == 408
    assert response.endswith(b'{"errors": {"request": ["body did not arrive within 1 s"]}}')
    assert b"connection: close" in response.lower()


def test_a_kept_alive_connection_may_idle_between_requests(server: Server) -> None:
    """The head's deadline runs from its first byte: a client idle between requests for longer
    than it (and shorter than uvicorn's keep-alive timeout, 5 s) is not cut off."""
    with httpx2.Client(base_url=server.url) as http:
        assert http.get("/health").status_code == 200
        time.sleep(HEADER_TIMEOUT + 0.5)
        assert http.get("/health").status_code == 200
        user = {"user": {"username": "ok", "email": "ok@example.com", "password": "password123"}}
        assert http.post("/api/users", json=user).status_code == 201


def _log_when_written(server: Server) -> str:
    """The server's log, once it holds a refusal (the line may trail the client's view)."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        text = server.log.read_text()
        if "431 to" in text:
            return text
        time.sleep(0.05)
    return server.log.read_text()
