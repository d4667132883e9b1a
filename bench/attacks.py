"""python -m bench.attacks [--only NAME,...] [--duration 15] [--idle 5]

How much abusive clients slow everyone else. One uvicorn worker in production mode (as
bench.run serves it: `python -m server`, its default limits) on a fresh PostgreSQL database
seeded small; then, for each attack in ATTACKS: `/health` latency measured idle for --idle
seconds, then again while the attack runs for --duration seconds. Prints one line per attack:
health p50/p99 idle vs under attack, and the p99 ratio (under attack / idle).

Every attack is bounded in count and time, and talks only to the server on 127.0.0.1. To add
one, append an Attack to ATTACKS: a name and a coroutine that attacks `url` until `until`
(time.monotonic()) and returns a one-line summary of what the server did."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2

from bench.run import PASSWORD, ROOT, seed, server_env, serving
from seed.data import email_of
from tests.graphql_ops import AMPLIFICATION, fragment_bomb
from tests.postgres import fresh_databases

# A request to /health every PROBE_INTERVAL seconds, on one kept-alive connection.
PROBE_INTERVAL = 0.01
WRONG_LOGINS_AT_ONCE = 16
HALF_OPEN_CONNECTIONS = 1000
STALLED_UPLOADS = 100
# Just under the app's default body limit (1 MiB): the server reads all of it, then waits.
UPLOAD_SENT_BYTES = 1_000_000
UPLOAD_DECLARED_BYTES = 1024 * 1024
# How many connections an attack opens at most while it runs (it reopens those the server
# closes): a bound, whatever the server does.
MAX_CONNECTIONS_OPENED = 20_000
GRAPHQL_CLIENTS = 4


@dataclass(frozen=True)
class Attack:
    name: str
    run: Callable[[str, float], Coroutine[Any, Any, str]]


async def wrong_logins(url: str, until: float) -> str:
    """WRONG_LOGINS_AT_ONCE clients, each logging in with a wrong password again and again."""
    answered: dict[int, int] = {}
    wrong = {"user": {"email": email_of(1), "password": f"not-{PASSWORD}"}}
    limits = httpx2.Limits(max_connections=WRONG_LOGINS_AT_ONCE)
    async with httpx2.AsyncClient(base_url=url, limits=limits, timeout=30) as http:

        async def client() -> None:
            while time.monotonic() < until:
                status = (await http.post("/api/users/login", json=wrong)).status_code
                answered[status] = answered.get(status, 0) + 1

        await asyncio.gather(*(client() for _ in range(WRONG_LOGINS_AT_ONCE)))
    return f"logins answered: {dict(sorted(answered.items()))}"


async def half_open_headers(url: str, until: float) -> str:
    """HALF_OPEN_CONNECTIONS connections that send half a request head and stall; one the
    server closes is opened again."""
    head = b"GET /health HTTP/1.1\r\nHost: bench\r\nAccept: */*\r\n"  # no blank line: unfinished
    return await _hold_connections(url, until, HALF_OPEN_CONNECTIONS, lambda: head)


async def stalled_uploads(url: str, until: float) -> str:
    """STALLED_UPLOADS connections that send ~1 MB of a 1 MiB body and stall; one the server
    closes is opened again."""
    upload = (
        b"POST /api/articles HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {UPLOAD_DECLARED_BYTES}\r\n\r\n".encode()
        + b'{"article": {"body": "'
        + b"x" * UPLOAD_SENT_BYTES
    )
    return await _hold_connections(url, until, STALLED_UPLOADS, lambda: upload)


async def _graphql_clients(url: str, until: float, body: Callable[[int], object]) -> str:
    """GRAPHQL_CLIENTS clients posting `body(n)` again and again; what the answers said and
    how long the median one took."""
    codes: dict[str, int] = {}
    took: list[float] = []
    sent = 0
    async with httpx2.AsyncClient(base_url=url, timeout=60) as http:

        async def client() -> None:
            nonlocal sent
            while time.monotonic() < until:
                sent += 1
                started = time.perf_counter()
                answer = (await http.post("/graphql", json=body(sent))).json()
                took.append(time.perf_counter() - started)
                for result in answer if isinstance(answer, list) else [answer]:
                    for code in {e["extensions"]["code"] for e in result.get("errors", [])} or {
                        "data"
                    }:
                        codes[code] = codes.get(code, 0) + 1

        await asyncio.gather(*(client() for _ in range(GRAPHQL_CLIENTS)))
    median = sorted(took)[len(took) // 2] * 1000 if took else 0.0
    return f"answers: {dict(sorted(codes.items()))}, median {median:.1f} ms"


async def plain_queries(url: str, until: float) -> str:
    """The control: as many clients sending the cheapest query there is, as fast."""
    return await _graphql_clients(url, until, lambda _: {"query": "{ __typename }"})


async def fragment_bombs(url: str, until: float) -> str:
    """Each request's fragments named anew, so that no cache of documents helps."""
    innermost = "articles(first: 1) { nodes { slug } }"
    return await _graphql_clients(
        url, until, lambda n: {"query": fragment_bomb(19, innermost, name=f"F{n}x")}
    )


async def amplification(url: str, until: float) -> str:
    return await _graphql_clients(url, until, lambda _: [{"query": AMPLIFICATION}] * 3)


ATTACKS = [
    Attack("16 wrong logins at once", wrong_logins),
    Attack("1000 half-open connections (half-sent head)", half_open_headers),
    Attack("100 stalled ~1 MB uploads", stalled_uploads),
    Attack("4 clients of `{ __typename }` (a plain flood, the control)", plain_queries),
    Attack("4 clients of 19-level fragment bombs", fragment_bombs),
    Attack("4 clients of batches of 3 amplification queries", amplification),
]


async def _hold_connections(
    url: str, until: float, count: int, payload: Callable[[], bytes]
) -> str:
    host, port = _loopback(url)
    opened = 0
    closed_by_server: dict[str, int] = {}

    async def hold() -> None:
        nonlocal opened
        while time.monotonic() < until and opened < MAX_CONNECTIONS_OPENED:
            opened += 1
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                closed_by_server["refused"] = closed_by_server.get("refused", 0) + 1
                await asyncio.sleep(0.1)
                continue
            try:
                writer.write(payload())
                await writer.drain()
                left = until - time.monotonic()
                answer = await asyncio.wait_for(reader.read(64), max(left, 0.01))
                status = answer[9:12].decode() or "closed"
                closed_by_server[status] = closed_by_server.get(status, 0) + 1
            except (TimeoutError, OSError):
                pass  # still held when the attack ended, or reset by the server
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    await asyncio.gather(*(hold() for _ in range(count)))
    return f"connections opened: {opened}, answered by the server: {closed_by_server}"


@dataclass
class Probe:
    """/health latencies (seconds), and the most memory the server held meanwhile."""

    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    max_rss_mb: float = 0.0

    def ms(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(share * len(ordered)), len(ordered) - 1)] * 1000


async def probe_health(url: str, server: int, until: float) -> Probe:
    probe = Probe()
    async with httpx2.AsyncClient(base_url=url, timeout=30) as http:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                ok = (await http.get("/health")).status_code == 200
            except httpx2.TransportError:
                ok = False
            if ok:
                probe.latencies.append(time.perf_counter() - started)
            else:
                probe.failures += 1
            probe.max_rss_mb = max(probe.max_rss_mb, _rss_mb(server))
            await asyncio.sleep(PROBE_INTERVAL)
    return probe


async def measure(url: str, server: int, attack: Attack, idle: float, duration: float) -> str:
    calm = await probe_health(url, server, time.monotonic() + idle)
    until = time.monotonic() + duration
    attacking = asyncio.create_task(attack.run(url, until))
    await asyncio.sleep(min(1.0, duration / 5))  # let the attack build up
    attacked = await probe_health(url, server, until)
    summary = await attacking
    return (
        f"| {attack.name} | {calm.ms(0.5):.1f} / {calm.ms(0.99):.1f} "
        f"| {attacked.ms(0.5):.1f} / {attacked.ms(0.99):.1f} "
        f"| {attacked.ms(0.99) / calm.ms(0.99):.1f} | {len(attacked.latencies)} "
        f"({attacked.failures} failed) | {calm.max_rss_mb:.0f} / {attacked.max_rss_mb:.0f} "
        f"| {summary} |"
    )


def _rss_mb(pid: int) -> float:
    """The resident memory of a process (Linux), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _loopback(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.hostname != "127.0.0.1" or parts.port is None:
        raise SystemExit(f"attacks go only to 127.0.0.1, not to {url}")
    return parts.hostname, parts.port


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.attacks", description=__doc__)
    parser.add_argument("--only", help="run only the attacks whose names contain these words")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per attack")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle baseline")
    args = parser.parse_args(argv)
    chosen = [a for a in ATTACKS if not args.only or any(w in a.name for w in args.only.split(","))]
    print(
        "| attack | /health p50 / p99 idle (ms) | under attack (ms) | p99 ratio "
        "| probes under attack | server RSS idle / under attack (MB) | what the server did |"
    )
    print("|---|---|---|---|---|---|---|")
    with fresh_databases(1, prefix="conduit_bench") as [database]:
        seed(database, 100)
        with serving(server_env(database), ROOT) as (url, server):
            for attack in chosen:
                line = asyncio.run(measure(url, server, attack, args.idle, args.duration))
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
