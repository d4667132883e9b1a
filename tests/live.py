"""Real processes for the tests that need them: the app served by uvicorn, and a throwaway
PostgreSQL cluster a test may stop and start (both released on exit, even on failure); and a
way to read their databases behind the server's back."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
# Where initdb and pg_ctl live (Debian's layout by default).
PG_BIN = Path(os.environ.get("CONDUIT_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
STARTUP_SECONDS = 30


async def read_value(url: str, sql: str, **params: Any) -> Any:
    """The one value `sql` selects from the database at `url`, on a connection of its own."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar_one()
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def uvicorn_server(
    env: Mapping[str, str], workers: int, log: Path, module: str = "server"
) -> Iterator[str]:
    """The app served as in production (`python -m server`: uvicorn and its options) with
    `workers` processes and the given `CONDUIT_*` environment (nothing else of the caller's
    `CONDUIT_*` leaks in); yields its base URL once /ready answers 200. Its output goes to
    `log` (appended). `module` is a stand-in for `server` taking the same options."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONDUIT_")}
    environment.update(env)
    command = [sys.executable, "-m", module, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    with log.open("ab") as output:
        # A session of its own, so that stopping it reaches every worker it started.
        server = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command,
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_ready(server, base_url, log)
        yield base_url
    finally:
        _stop(server)


def _wait_until_ready(server: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx2.get(f"{base_url}/ready", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    pytest.fail(f"the server was not ready within {STARTUP_SECONDS} s:\n{log.read_text()}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@dataclass
class Cluster:
    """A PostgreSQL cluster of one test run, on 127.0.0.1:`port`, trust authentication."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its `postgres` database."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def is_running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._pg_ctl("start", "-w", "-o", options, "-l", str(self.directory / "server.log"))

    def stop(self, mode: str = "fast") -> None:
        """`fast`: a clean shutdown that cuts off every session; `immediate`: a crash (no
        checkpoint: the next start recovers from the write-ahead log)."""
        self._pg_ctl("stop", "-w", "-m", mode)

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        data = str(self.directory / "data")
        return _as_postgres([str(PG_BIN / "pg_ctl"), "-D", data, *args], check)


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A new cluster in a temporary directory, started; stopped and deleted on exit. Skips
    the test where PostgreSQL's server programs are not installed."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL server programs in {PG_BIN} (set CONDUIT_TEST_PG_BIN)")
    directory = Path(tempfile.mkdtemp(prefix="conduit-pg-"))
    cluster = Cluster(directory, free_port())
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres")  # initdb refuses to run as root
        initdb = [str(PG_BIN / "initdb"), "-D", str(directory / "data"), "-U", "postgres"]
        _as_postgres([*initdb, "-A", "trust", "-E", "UTF8", "--no-sync"], check=True)
        cluster.start()
        yield cluster
    finally:
        if cluster.is_running:
            cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


def _as_postgres(command: list[str], check: bool) -> subprocess.CompletedProcess[bytes]:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run(  # noqa: S603 - PostgreSQL's own programs, fixed arguments
        [*prefix, *command], capture_output=True, check=False
    )
    if check and done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace")
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{output}")
    return done
