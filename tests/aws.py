"""AWS for tests, without an AWS account: moto in-process (`mock_aws`) for store tests, and a
`moto_server` process on 127.0.0.1 for the API suites, which reach it the way they would reach
AWS, through AWS_ENDPOINT_URL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any
from unittest import mock

import httpx2
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from config import DOMAINS

REGION = "us-east-1"
# Fake credentials: botocore signs every request, and moto accepts any key.
FAKE_AWS = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
STARTUP_SECONDS = 30
PROJECT = Path(__file__).resolve().parents[1]
_tables = count(1)


def fresh_table_urls() -> dict[str, str]:
    """A `dynamodb://` URL per domain, naming tables no test used before (the stores create
    them on start, as in development)."""
    n = next(_tables)
    return {d: f"dynamodb://conduit-test{n}-{d}" for d in DOMAINS}


@contextmanager
def in_process_aws() -> Iterator[None]:
    """moto's in-process AWS, with fake credentials and no endpoint override (which would
    send the calls past the mock). The stores call boto3 from a thread pool, so calls may be
    in flight at once: moto then answers them one at a time, for the reason given in
    tests/moto_serial_server.py."""
    lock = threading.Lock()
    answer = BotocoreStubber.__call__

    def one_at_a_time(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return answer(self, *args, **kwargs)

    with (
        mock.patch.dict(os.environ, FAKE_AWS),
        mock.patch.object(BotocoreStubber, "__call__", one_at_a_time),
    ):
        endpoint = os.environ.pop("AWS_ENDPOINT_URL", None)
        try:
            with mock_aws():
                yield
        finally:
            if endpoint is not None:
                os.environ["AWS_ENDPOINT_URL"] = endpoint


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free port of 127.0.0.1, answering one request at a time (see
    tests/moto_serial_server.py); yields its endpoint URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "tests.moto_serial_server", str(port)],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(endpoint, process)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(endpoint: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited at start with code {process.returncode}")
        try:
            httpx2.get(f"{endpoint}/moto-api/", timeout=1)
            return
        except httpx2.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"moto_server did not answer at {endpoint} in {STARTUP_SECONDS} s")
