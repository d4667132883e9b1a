"""Where a page's server CPU goes: the app in this process on a seeded PostgreSQL database
(production settings, as bench.run serves it), each page requested N times under cProfile,
and the profiled time summed by the package whose code ran (own time, not cumulative), so
the shares add up to 100%. The in-process HTTP client's share is shown too and left out of
the server's total.

    python -m bench.profile --only list,tags --requests 300
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
from collections import defaultdict
from typing import Any

import httpx2

from app import create_app
from bench.run import seed, server_env, target_of
from bench.scenarios import scenarios
from config import Settings
from tests.postgres import fresh_databases

# Where a file's path says it belongs, first match wins; the rest is "other".
PACKAGES = (
    # httpx2's ASGI transport tries `import sniffio` (not installed) on every request: the
    # import machinery's time is the client's too.
    ("client (not the server)", ("/httpx2/", "/httpcore", "<frozen importlib", "posix.stat")),
    ("sqlalchemy", ("/sqlalchemy/",)),
    ("greenlet", ("greenlet",)),
    ("asyncpg", ("/asyncpg/", "_socket", "select.epoll")),
    ("graphql-core", ("/graphql/",)),
    ("strawberry", ("/strawberry/",)),
    ("starlette", ("/starlette/",)),
    ("aiodataloader", ("/aiodataloader/",)),
    ("asyncio", ("/asyncio/", "_contextvars", "_asyncio")),
    ("logging and json", ("/logging/", "/json/", "TextIOWrapper")),
    ("the app's own code", ("/work/",)),
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300, help="profiled requests per page")
    parser.add_argument("--only", help="profile only these pages, e.g. list,tags")
    args = parser.parse_args(argv)
    with fresh_databases(1, prefix="conduit_bench") as [database]:
        seed(database, args.articles)
        env = server_env(database)
        print(asyncio.run(_profile(Settings.from_env(env), args)))
    return 0


async def _profile(settings: Settings, args: argparse.Namespace) -> str:
    app = create_app(settings)
    lines = []
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
            chosen = [
                s
                for s in scenarios(await target_of(http))
                if not args.only or s.page in args.only.split(",")
            ]
            for scenario in chosen:
                for _ in range(30):  # warm: statement caches, the first connections
                    await _send(http, scenario.request)
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(args.requests):
                    await _send(http, scenario.request)
                profile.disable()
                lines.append(_breakdown(scenario.page, scenario.api, profile, args.requests))
    return "\n".join(lines)


async def _send(http: httpx2.AsyncClient, request: dict[str, Any]) -> None:
    response = await http.request(
        request["method"], request["path"], json=request.get("json"), headers=request["headers"]
    )
    response.raise_for_status()


def _breakdown(page: str, api: str, profile: cProfile.Profile, requests: int) -> str:
    own: dict[str, float] = defaultdict(float)
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, tottime, _, _) in stats.items():
        where = f"{filename} {function}"
        package = next((name for name, marks in PACKAGES if any(m in where for m in marks)), None)
        own[package or "other"] += tottime
    client = own.pop(PACKAGES[0][0], 0.0)
    server = sum(own.values())
    shares = ", ".join(
        f"{name} {seconds / server:.0%}"
        for name, seconds in sorted(own.items(), key=lambda item: -item[1])
    )
    return (
        f"{page} {api}: {server * 1000 / requests:.2f} ms profiled per request "
        f"(client {client * 1000 / requests:.2f} ms left out): {shares}"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
