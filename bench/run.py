"""python -m bench.run [--sizes 1000,100000] [--connections 16] [--duration 10] [--warmup 2]
                       [--no-open-loop] [--workers N] [--load auto|python|wrk]

For each size (a number of articles): a fresh PostgreSQL database on 127.0.0.1, seeded with
`python -m seed --articles N --users N/10 --seed 1` and analyzed; ONE uvicorn worker (or
--workers N) serving it in production mode; then every page of bench/scenarios.py in turn,
over REST and GraphQL, loaded in a closed loop by wrk (bench/wrk.py) when it is installed, else
by bench/load.py (or as --load says), in its own process. Prints Markdown tables (for
BENCHMARKS.md) and drops the databases. Takes about (warm-up + duration) x 30 per size, plus
seeding (about 15 minutes in all at the defaults).

Unless --no-open-loop, each page's closed-loop maximum rate is measured first, then the page is
loaded open-loop (bench/load.py --rate) at half that rate on --open-connections connections,
and its p99 from the scheduled start times is reported beside the closed-loop figures.
Every measurement also records the CPU the server (all its processes, and each worker), the
load generator, PostgreSQL (its backends on the benchmark's database) and the whole machine
spent per second of wall time: whether the cores were saturated, and by whom; and how many of
the load's connections each worker held."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx2

from bench import floor, wrk
from bench.load import machine_busy
from bench.report import Result, tables
from bench.scenarios import COMMENTS_PAGE, Target, scenarios
from seed.data import email_of
from seed.words import TAGS
from tests.postgres import dsn, fresh_databases, server_url

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "password123"
# A tag of middling popularity (the sixth of fifty): on about one article in fourteen.
TAG = TAGS[5]
STARTUP_SECONDS = 30
# TCP_ESTABLISHED in /proc/net/tcp's `st` column.
ESTABLISHED = "01"
# Runs a load generator: (url, request, connections, seconds, the worker processes whose
# connections to count) -> its summary, and the connections each worker held.
Generator = Callable[
    [str, dict[str, Any], int, float, list[int] | None], tuple[dict[str, Any], list[int]]
]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--sizes", default="1000,100000", help="articles per data set")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per page")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per page")
    parser.add_argument("--only", help="run only these pages, e.g. list,feed")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--open-loop",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also load each page open-loop at half its measured maximum rate; report its p99",
    )
    parser.add_argument(
        "--open-connections",
        type=int,
        default=64,
        help="connections the open loop may use at once (enough that its schedule is kept)",
    )
    parser.add_argument(
        "--load",
        choices=("auto", "python", "wrk"),
        default="auto",
        help="the closed loop's generator: bench/load.py, or wrk (bench/wrk.py); auto: wrk when "
        "installed (the open loop is always bench/load.py's)",
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the asyncpg floor (saves its time)"
    )
    parser.add_argument(
        "--server-root",
        type=Path,
        default=ROOT,
        help="serve the app from this copy of the project (to compare with another version)",
    )
    args = parser.parse_args(argv)
    if args.load == "auto":
        args.load = "wrk" if wrk.available() else "python"
    elif args.load == "wrk" and not wrk.available():
        parser.error("--load wrk: wrk is not installed (apt-get install wrk)")
    results: list[Result] = []
    seeding: dict[int, float] = {}
    for size in (int(s) for s in args.sizes.split(",")):
        with fresh_databases(1, prefix="conduit_bench") as [database]:
            seeding[size] = seed(database, size, args.server_root)
            env = server_env(database)
            with serving(env, args.server_root, args.workers) as (url, server):
                for scenario in scenarios(target(url)):
                    if args.only and scenario.page not in args.only.split(","):
                        continue
                    measured = load(url, server, database, scenario.request, args)
                    measured["workers"] = args.workers
                    if args.open_loop:
                        rate = round(measured["rps"] / 2, 1)
                        measured["open_loop"] = load(
                            url, server, database, scenario.request, args, rate
                        )
                    if not args.no_floor:
                        statements = floor.capture(env, scenario.request)
                        measured["floor_statements"] = len(statements)
                        measured["floor_cpu_ms"] = round(
                            floor.measure(
                                dsn(database), statements, args.connections, args.duration
                            ),
                            3,
                        )
                    results.append(Result(size, scenario, measured))
                    print(
                        f"{size:>7} {scenario.page:<9} {scenario.api:<8} {measured}",
                        file=sys.stderr,
                    )
    print(tables(results, seeding, args.connections, args.workers, args.load))
    if args.json:
        args.json.write_text(json.dumps([r.as_json() for r in results], indent=1))
    return 0


def seed(database: str, articles: int, root: Path = ROOT) -> float:
    """Seed `database` with the seed command of the copy of the project at `root` (the one
    that serves it: its migrations make the schema that version expects) and analyze it (as
    autovacuum soon would); seconds the seeding took."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "seed", "--articles", str(articles)]
    command += ["--users", str(max(articles // 10, 2)), "--seed", "1", "--password", PASSWORD]
    env = {**os.environ, "CONDUIT_DATABASE_URL": server_url(database)}
    subprocess.run(command, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started

    async def analyze() -> None:
        conn = await asyncpg.connect(dsn(database))
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()

    asyncio.run(analyze())
    return elapsed


def server_env(database: str) -> dict[str, str]:
    """The server's environment: production mode on `database`, no rate limits."""
    return production_env({"CONDUIT_DATABASE_URL": server_url(database)})


def production_env(databases: dict[str, str]) -> dict[str, str]:
    """The server's environment: production mode on the `databases` given (CONDUIT_*_URL
    variables), no rate limits."""
    return {
        **os.environ,
        "CONDUIT_ENV": "production",
        "CONDUIT_JWT_SECRET": secrets.token_urlsafe(48),
        **databases,
        # The load generator is one client signing up and writing far past any rate limit.
        "CONDUIT_RATE_LIMITS": "off",
    }


@contextmanager
def serving(env: dict[str, str], root: Path, workers: int = 1) -> Iterator[tuple[str, int]]:
    """`workers` uvicorn workers in production mode on a free loopback port (its URL and the
    process id of the server, whose children the workers are when there are several); its log
    in a temp file."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "server", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-access-log"]
    if workers > 1:
        command += ["--workers", str(workers)]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_ready(url, server)
            yield url, server.pid
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            if httpx2.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server was not ready within {STARTUP_SECONDS} s")


def target(url: str) -> Target:
    async def find() -> Target:
        async with httpx2.AsyncClient(base_url=url, timeout=30) as http:
            return await target_of(http)

    return asyncio.run(find())


async def target_of(http: httpx2.AsyncClient) -> Target:
    """Sign in as the first seeded user; pick, among the 100 newest articles, the one with the
    most comments that one GraphQL page still holds whole, and its author's profile."""
    login = {"user": {"email": email_of(1), "password": PASSWORD}}
    signed_in = (await http.post("/api/users/login", json=login)).raise_for_status()
    query = (
        "{ articles(first: 100) { nodes { slug author { username } "
        "comments(first: 1) { totalCount } } } }"
    )
    answer = (await http.post("/graphql", json={"query": query})).json()
    nodes = answer["data"]["articles"]["nodes"]
    counts = {n["slug"]: n["comments"]["totalCount"] for n in nodes}
    slug = max((s for s, c in counts.items() if c <= COMMENTS_PAGE), key=lambda s: counts[s])
    [author] = {n["author"]["username"] for n in nodes if n["slug"] == slug}
    return Target(token=signed_in.json()["user"]["token"], tag=TAG, slug=slug, username=author)


def load(
    url: str,
    server: int,
    database: str,
    request: dict[str, Any],
    args: argparse.Namespace,
    rate: float | None = None,
) -> dict[str, Any]:
    """Warm up, then measure (closed loop, or open loop at `rate` a second): the load
    generator's summary, with the server's CPU time per request (what a request costs, however
    busy the rest of the machine is), the machine's load average (how busy it was), and the
    cores the server, each of its workers, the load generator, PostgreSQL's backends serving
    `database` and the whole machine kept busy (CPU s / wall s), and how many of the load's
    connections each worker held halfway through."""
    connections = args.connections if rate is None else args.open_connections
    wrk_loop = rate is None and args.load == "wrk"
    generate: Generator = _wrk if wrk_loop else partial(_generate, rate=rate)
    generate(url, request, connections, args.warmup, None)
    workers = worker_processes(server)
    before, cpu_before = os.getloadavg()[0], _server_cpu(server)
    worker_before = [_cpu_seconds(pid) for pid in workers]
    database_before = _database_cpu(database)
    measured, held = generate(url, request, connections, args.duration, workers)
    cpu = _server_cpu(server) - cpu_before
    worker_cpu = [_cpu_seconds(pid) - b for pid, b in zip(workers, worker_before, strict=True)]
    database_cpu = _database_cpu(database) - database_before
    wall = measured["wall_s"]
    measured["server_cpu_ms"] = round(cpu * 1000 / max(measured["requests"], 1), 2)
    measured["load_average"] = round(max(before, os.getloadavg()[0]), 1)
    measured["server_cores"] = round(cpu / wall, 2)
    measured["worker_cores"] = [round(c / wall, 2) for c in worker_cpu]
    measured["worker_connections"] = held
    measured["load_cores"] = round(measured["load_cpu_s"] / wall, 2)
    measured["database_cores"] = round(database_cpu / wall, 2)
    measured["machine_cores"] = round(measured["machine_busy_s"] / wall, 2)
    return measured


def _generate(
    url: str,
    request: dict[str, Any],
    connections: int,
    seconds: float,
    workers: list[int] | None,
    rate: float | None = None,
) -> tuple[dict[str, Any], list[int]]:
    """Run bench/load.py (open loop at `rate` a second, if given); its summary, and the
    connections to the server each of `workers` held halfway through."""
    command = [sys.executable, "-m", "bench.load", "--url", url, "--request", json.dumps(request)]
    command += ["--connections", str(connections), "--warmup", "0", "--duration", str(seconds)]
    if rate is not None:
        command += ["--rate", str(rate)]
    stdout, stderr, held = _watched(command, url, seconds, workers)
    sys.stderr.write(stderr)
    measured: dict[str, Any] = json.loads(stdout)
    return measured, held


def _wrk(
    url: str,
    request: dict[str, Any],
    connections: int,
    seconds: float,
    workers: list[int] | None,
) -> tuple[dict[str, Any], list[int]]:
    """Run wrk (a closed loop): bench/load.py's summary from its report, with wrk's CPU
    seconds (it is this process's only child reaped meanwhile), the machine's busy CPU seconds
    and the wall time around it; and the connections each of `workers` held halfway through."""
    round_trips = wrk.check(url, request)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(wrk.script(request))
        script.flush()
        cpu, machine = _children_cpu(), machine_busy()
        started = time.perf_counter()
        stdout, stderr, held = _watched(
            wrk.command(url, script.name, connections, seconds), url, seconds, workers
        )
        wall = time.perf_counter() - started
        cpu, machine = _children_cpu() - cpu, machine_busy() - machine
    if stderr:  # e.g. its script did not load: wrk then sends its default GET instead
        raise RuntimeError(f"wrk: {stderr}")
    measured = wrk.parse(stdout)
    measured["round_trips"] = round_trips
    measured["load_cpu_s"] = round(cpu, 3)
    measured["machine_busy_s"] = round(machine, 3)
    measured["wall_s"] = round(wall, 3)
    return measured, held


def _children_cpu() -> float:
    """User and system CPU seconds of this process's children reaped so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _watched(
    command: list[str], url: str, seconds: float, workers: list[int] | None
) -> tuple[str, str, list[int]]:
    """Run the load generator `command` (`seconds` long); its output and error output, and the
    connections to the server each of `workers` held halfway through (the load's are all open
    by then)."""
    port = int(url.rpartition(":")[2])
    pipe = subprocess.PIPE
    with subprocess.Popen(command, cwd=ROOT, text=True, stdout=pipe, stderr=pipe) as generator:
        time.sleep(seconds / 2)
        held = [connections_held(pid, port) for pid in workers or []]
        stdout, stderr = generator.communicate()
    if generator.returncode != 0:
        raise RuntimeError(f"{command[0]} exited with status {generator.returncode}: {stderr}")
    return stdout, stderr, held


def worker_processes(server: int) -> list[int]:
    """The processes that serve requests: uvicorn's worker processes (children of its
    supervisor, spawned by multiprocessing) or, with one worker, the server process itself."""
    spawned = [pid for pid in _children(server) if b"spawn_main" in _cmdline(pid)]
    return spawned or [server]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def connections_held(pid: int, port: int) -> int:
    """Established TCP connections to local `port` among process `pid`'s open files (Linux:
    its socket inodes matched against /proc/net/tcp and tcp6)."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        established |= {
            inode for inode, local, state in map(_socket_row, lines) if local == port and state
        }
    held = 0
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return 0
    for fd in descriptors:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and int(target[8:-1]) in established:
            held += 1
    return held


def _socket_row(line: str) -> tuple[int, int, bool]:
    """A /proc/net/tcp row's socket inode, local port and whether it is established."""
    fields = line.split()
    return int(fields[9]), int(fields[1].rpartition(":")[2], 16), fields[3] == ESTABLISHED


def _server_cpu(pid: int) -> float:
    """CPU seconds of the server process and of its children (its workers) so far."""
    return _cpu_seconds(pid) + sum(_cpu_seconds(child) for child in _children(pid))


def _children(pid: int) -> list[int]:
    found = []
    for entry in _processes():
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _processes() -> list[Path]:
    """Every process's /proc directory."""
    return [entry for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _database_cpu(database: str) -> float:
    """CPU seconds so far of this machine's PostgreSQL backends connected to `database` (each
    names its database in its process title); those that have exited are not counted, but the
    server's pool keeps its connections open."""
    title = f" {database} ".encode()
    backends = [int(entry.name) for entry in _processes()]
    return sum(
        _cpu_seconds(pid)
        for pid in backends
        if _cmdline(pid).startswith(b"postgres:") and title in _cmdline(pid)
    )


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux); 0 if it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
