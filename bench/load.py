"""The load generator: CONNECTIONS clients, each sending one request after another (closed
loop) for DURATION seconds after a warm-up, to a server on this machine only. Prints one JSON
object: requests, errors, req/s, p50/p99 latency in ms, and store round trips per request.

    python -m bench.load --url http://127.0.0.1:8000 --request '{"method": "GET", ...}'

Run in its own process, so that its work does not slow the server's event loop."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2
import uvloop

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    round_trips: list[int] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


async def client(
    http: httpx2.AsyncClient, request: dict[str, Any], until: float, tally: Tally | None
) -> None:
    """Send `request` again and again until `until`; record into `tally` (None: warm-up)."""
    method, path = request["method"], request["path"]
    body, headers = request.get("json"), request.get("headers", {})
    while time.perf_counter() < until:
        started = time.perf_counter()
        response = await http.request(method, path, json=body, headers=headers)
        elapsed = time.perf_counter() - started
        if tally is None:
            continue
        tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
        if response.status_code != 200 or (body is not None and "errors" in response.json()):
            tally.errors += 1
            continue
        tally.latencies.append(elapsed)
        tally.round_trips.append(int(response.headers["x-store-round-trips"]))


async def run(
    url: str, request: dict[str, Any], connections: int, warmup: float, duration: float
) -> dict[str, Any]:
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx2.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
        until = time.perf_counter() + warmup
        await asyncio.gather(*(client(http, request, until, None) for _ in range(connections)))
        tally = Tally()
        started = time.perf_counter()
        until = started + duration
        await asyncio.gather(*(client(http, request, until, tally) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return summary(tally, elapsed)


def summary(tally: Tally, elapsed: float) -> dict[str, Any]:
    ordered = sorted(tally.latencies)

    def percentile(share: float) -> float:
        return (
            round(ordered[min(int(share * len(ordered)), len(ordered) - 1)] * 1000, 1)
            if ordered
            else 0.0
        )

    trips = tally.round_trips
    return {
        "requests": len(ordered),
        "errors": tally.errors,
        "statuses": tally.statuses,
        "rps": round(len(ordered) / elapsed, 1),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "round_trips": round(sum(trips) / len(trips), 2) if trips else 0.0,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--request", required=True, help="JSON: method, path, json, headers")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args(argv)
    if urlsplit(args.url).hostname not in LOOPBACK:
        parser.error("the load generator only targets this machine (127.0.0.1)")
    request = json.loads(args.request)
    result = uvloop.run(run(args.url, request, args.connections, args.warmup, args.duration))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
