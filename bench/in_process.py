"""The app's own CPU per request, without HTTP: each page of bench/scenarios.py sent straight to
the ASGI app in this process (production settings, the access log on), on
uvloop, 16 requests at a time, on a freshly seeded PostgreSQL database; ROUNDS rounds of N
requests per page, and the least and the median CPU milliseconds per request of a round, and the
store round trips per request (`X-Store-Round-Trips`). On a machine shared with other work the
least is the steadiest figure: other work only adds to it.

    python bench/in_process.py --pages list-REST,tags-REST --requests 480
    python bench/in_process.py --root /path/to/another/checkout   # that version's app
    python bench/in_process.py --backend dynamodb --articles 1000  # against moto_server

--backend sqlite seeds one SQLite file (in a temporary directory) for every domain;
--backend dynamodb seeds four DynamoDB tables in a `moto_server` on 127.0.0.1
(tests/aws.py, answering one request at a time as the tests' does). moto runs in its own
process, so the CPU this process counts is the app's, botocore's and its thread pool's, never
moto's: it is the app's CPU per request *against moto*, whose answers are local and slower
than DynamoDB's but whose work is not counted.

Run as a script (not with -m) so that --root decides which copy of the app is imported."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 16


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/in_process.py", description=__doc__)
    parser.add_argument("--pages", help="page-API pairs, e.g. list-REST,list-GraphQL (all)")
    parser.add_argument("--requests", type=int, default=480, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--backend", choices=BACKENDS, default="postgresql")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.root.resolve()))
    started = time.perf_counter()
    on_seeded_database(
        args.articles, lambda settings: _measure(settings, args, started), args.backend
    )
    return 0


BACKENDS = ("postgresql", "sqlite", "dynamodb")


def on_seeded_database(
    articles: int,
    measure: Callable[[Any], Coroutine[Any, Any, None]],
    backend: str = "postgresql",
) -> None:
    """`measure(settings)` on uvloop, with the server's settings (bench.run.server_env) on a
    fresh database (`backend`) seeded with `articles`, the log written to /dev/null."""
    with _seeded_env(articles, backend) as env:
        _run_on(env, measure)


def _run_on(env: dict[str, str], measure: Callable[[Any], Coroutine[Any, Any, None]]) -> None:
    import uvloop

    import logs
    from config import Settings

    settings = Settings.from_env(env)
    # Importing `app` (bench.run imports it) configured logging to stderr already, from the
    # environment: the log goes to /dev/null instead, in the settings' format.
    root = logging.getLogger()
    for written in root.handlers[:]:
        root.removeHandler(written)
    with open("/dev/null", "w") as nowhere:
        logs.configure(settings, nowhere)
        uvloop.run(measure(settings))


@contextmanager
def _seeded_env(articles: int, backend: str) -> Iterator[dict[str, str]]:
    """The server's environment on a freshly seeded database of `backend`."""
    from bench.run import seed, server_env

    if backend == "postgresql":
        from tests.postgres import fresh_databases

        with fresh_databases(1, prefix="conduit_bench") as [database]:
            seed(database, articles)
            yield server_env(database)
        return
    from bench.run import production_env

    with tempfile.TemporaryDirectory(prefix="conduit-bench-") as directory:
        sqlite = f"sqlite+aiosqlite:///{directory}/conduit.db"
        if backend == "sqlite":
            env = production_env({"CONDUIT_DATABASE_URL": sqlite})
            _seed(env, articles)
            yield env
            return
        from tests import aws

        with aws.moto_server() as endpoint:
            databases = {f"CONDUIT_{d.upper()}_URL": u for d, u in aws.fresh_table_urls().items()}
            databases["CONDUIT_DATABASE_URL"] = sqlite  # names no domain's data
            env = production_env({**databases, **aws.FAKE_AWS, "AWS_ENDPOINT_URL": endpoint})
            # This process's boto3 clients read the endpoint and credentials from os.environ.
            with mock.patch.dict(os.environ, {**aws.FAKE_AWS, "AWS_ENDPOINT_URL": endpoint}):
                _seed(env, articles)
                yield env


def _seed(env: dict[str, str], articles: int) -> None:
    """`python -m seed` as bench.run.seed runs it, on the databases `env` names."""
    from bench.run import PASSWORD

    command = [sys.executable, "-m", "seed", "--articles", str(articles)]
    command += ["--users", str(max(articles // 10, 2)), "--seed", "1", "--password", PASSWORD]
    started = time.perf_counter()
    # This interpreter, fixed arguments.
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    print(f"seeded {articles} articles in {time.perf_counter() - started:.1f} s", flush=True)


async def _measure(settings: Any, args: argparse.Namespace, began: float) -> None:
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
            spent, trips = [], []
            for _ in range(args.rounds):
                started = time.process_time()
                wall = time.perf_counter()
                counted = await asyncio.gather(
                    *(_send_many(app, scenario.request, each) for _ in range(CONCURRENCY))
                )
                spent.append((time.process_time() - started) * 1000 / (each * CONCURRENCY))
                wall = (time.perf_counter() - wall) * 1000 / (each * CONCURRENCY)
                trips += [t for c in counted for t in c]
            spent.sort()
            print(
                f"{scenario.page:<9} {scenario.api:<8} least {spent[0]:.3f} "
                f"median {spent[len(spent) // 2]:.3f} ms CPU per request, "
                f"round trips {min(trips)}-{max(trips)} (mean {sum(trips) / len(trips):.2f}), "
                f"last round {wall:.3f} ms wall per request ({args.backend}; "
                f"load average {os.getloadavg()[0]:.1f}, {time.perf_counter() - began:.0f} s)",
                flush=True,
            )


async def _send_many(app: Any, request: dict[str, Any], times: int) -> list[int]:
    return [await send_request(app, request) for _ in range(times)]


async def send_request(app: Any, request: dict[str, Any]) -> int:
    """Send `request` to `app`; the store round trips it took (`X-Store-Round-Trips`)."""
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
    if "json" in request and b'"errors"' in b"".join(m.get("body", b"") for m in sent[1:]):
        raise RuntimeError(f"{request['method']} {request['path']} answered errors")
    headers = dict(sent[0]["headers"])
    return int(headers.get(b"x-store-round-trips", b"-1"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
