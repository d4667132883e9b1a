"""The floor under a page: the exact statements the stores send for it, captured from the store
layer as it serves the page (stores/round_trips.py), then sent with asyncpg directly
(prepared, as asyncpg caches them) over as many connections as the load uses. What a request
costs the server beyond the floor's CPU per request is the price of everything between the
socket and the SQL: HTTP, routing, resolvers, loaders, SQLAlchemy, rendering.

    python -m bench.run --only list        # prints floor CPU and the ratio beside each page

Capturing runs the app in this process, on the benchmark's database and with the server's
settings, and keeps the statements of the page's second request (the first may warm caches)."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
import uvloop

from app import create_app
from config import Settings
from stores.round_trips import watching_statements

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: tuple[Any, ...]


def capture(env: Mapping[str, str], request: Mapping[str, Any]) -> list[Statement]:
    """The statements the stores send to answer `request` once, in the order they are sent."""
    app = create_app(Settings.from_env(env))

    async def serve_twice() -> list[Statement]:
        async with app.router.lifespan_context(app):
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
                await _send(http, request)
                with watching_statements() as sent:
                    await _send(http, request)
                return [Statement(s.sql, s.parameters) for s in sent]

    return asyncio.run(serve_twice())


async def _send(http: httpx2.AsyncClient, request: Mapping[str, Any]) -> None:
    response = await http.request(
        request["method"], request["path"], json=request.get("json"), headers=request["headers"]
    )
    response.raise_for_status()


def measure(dsn: str, statements: list[Statement], connections: int, seconds: float) -> float:
    """CPU milliseconds per request of a client that sends `statements` one after another per
    request, `connections` requests at once, for `seconds` (after a second of warm-up); run in
    a process of its own, on uvloop as the server is, so that nothing else counts."""
    with tempfile.NamedTemporaryFile(suffix=".pickle") as held:
        pickle.dump(statements, held)
        held.flush()
        command = [sys.executable, "-m", "bench.floor", dsn, str(connections), str(seconds)]
        done = subprocess.run(
            [*command, held.name],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    return float(done.stdout)


def main(argv: list[str]) -> int:
    """Run by measure(): DSN CONNECTIONS SECONDS STATEMENTS_FILE; prints CPU ms per request."""
    dsn, connections, seconds, held = argv[0], int(argv[1]), float(argv[2]), Path(argv[3])
    statements = pickle.loads(held.read_bytes())  # noqa: S301 - written by measure() above
    print(f"{uvloop.run(_load(dsn, statements, connections, seconds)):.3f}")
    return 0


async def _load(dsn: str, statements: list[Statement], connections: int, seconds: float) -> float:
    pool = [await asyncpg.connect(dsn) for _ in range(connections)]
    try:
        await _run(pool, statements, time.perf_counter() + 1.0)
        cpu = time.process_time()
        requests = await _run(pool, statements, time.perf_counter() + seconds)
        return (time.process_time() - cpu) * 1000 / max(requests, 1)
    finally:
        for conn in pool:
            await conn.close()


async def _run(pool: list[asyncpg.Connection], statements: list[Statement], until: float) -> int:
    async def one_connection(conn: asyncpg.Connection) -> int:
        done = 0
        while time.perf_counter() < until:
            for statement in statements:
                await conn.fetch(statement.sql, *statement.parameters)
            done += 1
        return done

    return sum(await asyncio.gather(*(one_connection(c) for c in pool)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
