"""The load generator: CONNECTIONS clients, each sending one request after another (closed
loop) for DURATION seconds after a warm-up, to a server on this machine only. Prints one JSON
object: requests, errors, req/s, p50/p99 latency in ms, store round trips per request, and
this process's own CPU seconds while it measured (it shares the machine with the server).

    python -m bench.load --url http://127.0.0.1:8000 --request '{"method": "GET", ...}'
    python -m bench.load --url ... --request ... --rate 100 --connections 64   # open loop

With --rate R the load is open-loop (wrk2-style): request i is due at start + i/R, whether or
not earlier ones were answered, on up to CONNECTIONS connections at once; each latency is
measured from the request's *scheduled* time, so a server that falls behind shows it in the
percentiles (no coordinated omission). It also reports the rate achieved, p50/p99/max, and how
many requests started more than LATE_MS after they were due (the generator itself or too few
connections, rather than the server, is then what the figures partly measure).

Run in its own process, so that its work does not slow the server's event loop."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2
import uvloop

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# A request of the open loop is late when it starts this long after it was due.
LATE_MS = 5.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    round_trips: list[int] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    # Open loop only: how long after its scheduled time each request started, in seconds.
    lateness: list[float] = field(default_factory=list)

    def record(self, response: httpx2.Response, json_body: bool, elapsed: float) -> None:
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if response.status_code != 200 or (json_body and "errors" in response.json()):
            self.errors += 1
            return
        self.latencies.append(elapsed)
        self.round_trips.append(int(response.headers["x-store-round-trips"]))


async def client(
    http: httpx2.AsyncClient,
    request: dict[str, Any],
    until: float,
    tally: Tally | None,
    after: asyncio.Event | None = None,
    answered: asyncio.Event | None = None,
) -> None:
    """Send `request` again and again until `until`; record into `tally` (None: warm-up).
    Starts once `after` is set; sets `answered` at its first answer (or when it stops without
    one, so that no successor waits for ever)."""
    method, path = request["method"], request["path"]
    body, headers = request.get("json"), request.get("headers", {})
    if after is not None:
        await after.wait()
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            response = await http.request(method, path, json=body, headers=headers)
            elapsed = time.perf_counter() - started
            if tally is not None:
                tally.record(response, body is not None, elapsed)
            if answered is not None:
                answered.set()
    finally:
        if answered is not None:
            answered.set()


async def closed_loop(
    http: httpx2.AsyncClient,
    request: dict[str, Any],
    connections: int,
    until: float,
    tally: Tally | None,
) -> None:
    """`connections` clients, each starting at its predecessor's first answer: so their
    connections open one by one while the server is busy, not all at once. (Opened at once,
    they wait in the listening socket's queue and the one of several uvicorn workers that wakes
    first accepts them all; opened one by one, the least busy worker tends to take each.)"""
    answers = [asyncio.Event() for _ in range(connections)]
    starts: list[asyncio.Event | None] = [None, *answers[:-1]]
    await asyncio.gather(
        *(
            client(http, request, until, tally, after, answered)
            for after, answered in zip(starts, answers, strict=True)
        )
    )


def machine_busy() -> float:
    """CPU seconds all the machine's cores have spent not idle so far (Linux, /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(f) for f in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is counted in user already)
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


def schedule(rate: float, duration: float) -> list[float]:
    """When each request of an open loop is due, in seconds from its start: R per second,
    evenly spaced, for `duration` seconds."""
    return [i / rate for i in range(int(rate * duration))]


def percentile(ordered: list[float], share: float) -> float:
    """The `share` quantile of sorted `ordered` (nearest rank, rounding down); 0 if empty."""
    if not ordered:
        return 0.0
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


async def paced(
    http: httpx2.AsyncClient,
    request: dict[str, Any],
    rate: float,
    duration: float,
    connections: int,
    tally: Tally | None,
) -> None:
    """The open loop: each request of schedule(rate, duration) started when it is due (or as
    soon as one of `connections` is free), its latency counted from when it was due."""
    method, path = request["method"], request["path"]
    body, headers = request.get("json"), request.get("headers", {})
    free = asyncio.Semaphore(connections)

    async def one(due: float) -> None:
        async with free:
            began = time.perf_counter()
            response = await http.request(method, path, json=body, headers=headers)
            elapsed = time.perf_counter() - due
        if tally is not None:
            tally.lateness.append(began - due)
            tally.record(response, body is not None, elapsed)

    start = time.perf_counter() + 0.01
    tasks = []
    for offset in schedule(rate, duration):
        due = start + offset
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)


async def run(
    url: str,
    request: dict[str, Any],
    connections: int,
    warmup: float,
    duration: float,
    rate: float | None = None,
) -> dict[str, Any]:
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx2.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
        if rate is None:
            until = time.perf_counter() + warmup
            await closed_loop(http, request, connections, until, None)
        elif warmup > 0:
            await paced(http, request, rate, warmup, connections, None)
        tally = Tally()
        cpu, machine = time.process_time(), machine_busy()
        started = time.perf_counter()
        if rate is None:
            until = started + duration
            await closed_loop(http, request, connections, until, tally)
        else:
            await paced(http, request, rate, duration, connections, tally)
        elapsed = time.perf_counter() - started
        cpu, machine = time.process_time() - cpu, machine_busy() - machine
    result = summary(tally, elapsed)
    result["load_cpu_s"] = round(cpu, 3)
    result["machine_busy_s"] = round(machine, 3)
    result["wall_s"] = round(elapsed, 3)
    if rate is not None:
        late = sorted(tally.lateness)
        result["rate"] = rate
        result["late"] = sum(1 for x in late if x * 1000 > LATE_MS)
        result["late_p99_ms"] = round(percentile(late, 0.99) * 1000, 1)
    return result


def summary(tally: Tally, elapsed: float) -> dict[str, Any]:
    ordered = sorted(tally.latencies)
    trips = tally.round_trips
    return {
        "requests": len(ordered),
        "errors": tally.errors,
        "statuses": tally.statuses,
        "rps": round(len(ordered) / elapsed, 1),
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else 0.0,
        "round_trips": round(sum(trips) / len(trips), 2) if trips else 0.0,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--request", required=True, help="JSON: method, path, json, headers")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument(
        "--rate", type=float, help="open loop: start this many requests a second, on a schedule"
    )
    args = parser.parse_args(argv)
    if urlsplit(args.url).hostname not in LOOPBACK:
        parser.error("the load generator only targets this machine (127.0.0.1)")
    request = json.loads(args.request)
    result = uvloop.run(
        run(args.url, request, args.connections, args.warmup, args.duration, args.rate)
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
