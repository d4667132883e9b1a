"""What a persisted query saves the server: the home page's GraphQL query (bench/scenarios.py's
list page) sent to the ASGI app in this process, as bench/in_process.py sends its pages
(production settings, uvloop, 16 at a time, a freshly seeded PostgreSQL database), three ways
in turn, ROUNDS rounds of N requests each:

- new text: the text changed by a comment each time, so parsed and validated every time (what
  every request cost before documents were kept, and what a text the server has forgotten costs);
- text: the same text every time, which DocumentCache finds parsed and validated;
- hash: `extensions.persistedQuery` alone, the document known by its hash.

Printed: the least and median CPU milliseconds per request of a round, and each way's least
against the new text's.

    python bench/persisted.py --requests 480 --rounds 5"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 16


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/persisted.py", description=__doc__)
    parser.add_argument("--requests", type=int, default=480, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--articles", type=int, default=1000)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench.in_process import on_seeded_database

    on_seeded_database(args.articles, lambda settings: _measure(settings, args))
    return 0


async def _measure(settings: Any, args: argparse.Namespace) -> None:
    from app import create_app
    from bench.in_process import send_request
    from bench.scenarios import CONNECTION, PAGE

    text = f"{{ articles(first: {PAGE}) {{ {CONNECTION} }} }}"
    digest = hashlib.sha256(text.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    counter = itertools.count()
    ways: dict[str, Callable[[], dict[str, Any]]] = {
        "new text": lambda: {"query": f"{text} # {next(counter)}"},
        "text": lambda: {"query": text},
        "hash": lambda: {"extensions": persisted},
    }
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # Known by its hash from here on.
        await send_request(app, _post({"query": text, "extensions": persisted}))
        for body in ways.values():
            for _ in range(100):  # warm: statement caches, the pool's connections
                await send_request(app, _post(body()))
        each = args.requests // CONCURRENCY
        spent: dict[str, list[float]] = {way: [] for way in ways}
        for _ in range(args.rounds):
            for way, body in ways.items():
                started = time.process_time()
                await asyncio.gather(*(_send_many(app, body, each) for _ in range(CONCURRENCY)))
                spent[way].append((time.process_time() - started) * 1000 / (each * CONCURRENCY))
    baseline = min(spent["new text"])
    for way, figures in spent.items():
        figures.sort()
        print(
            f"{way:<9} least {figures[0]:.3f} median {figures[len(figures) // 2]:.3f} ms CPU "
            f"per request, {figures[0] / baseline:.2f} of the new text's",
            flush=True,
        )


async def _send_many(app: Any, body: Callable[[], dict[str, Any]], times: int) -> None:
    from bench.in_process import send_request

    for _ in range(times):
        await send_request(app, _post(body()))


def _post(body: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "path": "/graphql", "json": body, "headers": {}}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
