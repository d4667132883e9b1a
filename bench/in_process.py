"""The app's own CPU per request, without HTTP: each page of bench/scenarios.py sent straight to
the ASGI app in this process (production settings, the access log on), on
uvloop, 16 requests at a time, on a freshly seeded PostgreSQL database; ROUNDS rounds of N
requests per page, and the least and the median CPU milliseconds per request of a round. On a
machine shared with other work the least is the steadiest figure: other work only adds to it.

    python bench/in_process.py --pages list-REST,tags-REST --requests 480
    python bench/in_process.py --root /path/to/another/checkout   # that version's app

Run as a script (not with -m) so that --root decides which copy of the app is imported."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 16


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/in_process.py", description=__doc__)
    parser.add_argument("--pages", help="page-API pairs, e.g. list-REST,list-GraphQL (all)")
    parser.add_argument("--requests", type=int, default=480, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.root.resolve()))
    on_seeded_database(args.articles, lambda settings: _measure(settings, args))
    return 0


def on_seeded_database(articles: int, measure: Callable[[Any], Coroutine[Any, Any, None]]) -> None:
    """`measure(settings)` on uvloop, with the server's settings (bench.run.server_env) on a
    fresh PostgreSQL database seeded with `articles`, the log written to /dev/null."""
    import uvloop

    import logs
    from bench.run import seed, server_env
    from config import Settings
    from tests.postgres import fresh_databases

    with fresh_databases(1, prefix="conduit_bench") as [database]:
        seed(database, articles)
        settings = Settings.from_env(server_env(database))
        with open("/dev/null", "w") as nowhere:
            logs.configure(settings, nowhere)
            uvloop.run(measure(settings))


async def _measure(settings: Any, args: argparse.Namespace) -> None:
    import httpx2

    from app import create_app
    from bench.run import target_of
    from bench.scenarios import scenarios

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
            target = await target_of(http)
        for scenario in scenarios(target):
            name = f"{scenario.page}-{scenario.api}"
            if args.pages and name not in args.pages.split(","):
                continue
            for _ in range(100):  # warm: statement caches, the pool's connections
                await send_request(app, scenario.request)
            each = args.requests // CONCURRENCY
            spent = []
            for _ in range(args.rounds):
                started = time.process_time()
                await asyncio.gather(
                    *(_send_many(app, scenario.request, each) for _ in range(CONCURRENCY))
                )
                spent.append((time.process_time() - started) * 1000 / (each * CONCURRENCY))
            spent.sort()
            print(
                f"{scenario.page:<9} {scenario.api:<8} least {spent[0]:.3f} "
                f"median {spent[len(spent) // 2]:.3f} ms CPU per request",
                flush=True,
            )


async def _send_many(app: Any, request: dict[str, Any], times: int) -> None:
    for _ in range(times):
        await send_request(app, request)


async def send_request(app: Any, request: dict[str, Any]) -> None:
    path, _, query = request["path"].partition("?")
    headers = [(k.lower().encode(), v.encode()) for k, v in request["headers"].items()]
    body = b""
    if "json" in request:
        body = json.dumps(request["json"]).encode()
        headers += [(b"content-type", b"application/json")]
        headers += [(b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request["method"],
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = sent[0]["status"]
    if status != 200:
        raise RuntimeError(f"{request['method']} {request['path']} answered {status}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
