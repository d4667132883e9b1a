"""What tracing costs the server in CPU: the app in a process of its own, on a seeded SQLite
database, serving a GraphQL front page and a REST article list alternately, N of each, with
the process's CPU time (every thread's: the span batch's included) per request.

    python -m bench.tracing_cost --rounds 5 --requests 400 --before /tmp/conduit-main

Three configurations, run in turn in each round (alternating, so that a machine shared with
others slows each alike): `before`, the code of the checkout at --before (made with
`git archive main | tar -x -C DIR`); `off`, this checkout with tracing off (the default);
`on`, this checkout with an SDK provider batching spans to an exporter that keeps them in
memory (OTLP's HTTP sending is left out: it is the collector's network, not our CPU)."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
FRONT_PAGE = "{ articles(first: 10) { totalCount nodes { slug title author { username } } } }"

# Run in the measuring process, with the checkout being measured first on sys.path.
_MEASURE = """
import asyncio, cProfile, json, pstats, sys, tempfile, time
LOOP = ("/asyncio/", "selectors.py", "threading.py", "/concurrent/", "queue.py")
sys.path.insert(0, {root!r})
import httpx2
from app import create_app
from config import RateLimits, Settings

mode, requests = {mode!r}, {requests}
directory = tempfile.mkdtemp(prefix="conduit-tracing-cost-")
settings = Settings(
    database_url=f"sqlite+aiosqlite:///{{directory}}/bench.db", rate_limits=RateLimits.off()
)
provider = None
if mode == "on":
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
app = create_app(settings, provider) if provider is not None else create_app(settings)


async def run() -> float:
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
            user = {{"username": "jake", "email": "jake@example.com", "password": "jakejake"}}
            answer = await http.post("/api/users", json={{"user": user}})
            auth = {{"Authorization": "Token " + answer.json()["user"]["token"]}}
            for n in range(10):
                article = {{"title": f"A{{n}}", "description": "d", "body": "b", "tagList": ["t"]}}
                await http.post("/api/articles", json={{"article": article}}, headers=auth)

            async def page() -> None:
                graphql = await http.post("/graphql", json={{"query": {front!r}}})
                assert graphql.status_code == 200
                assert (await http.get("/api/articles?limit=10")).status_code == 200

            for _ in range(50):
                await page()
            started = time.process_time()
            for _ in range(requests):
                await page()
            cpu = time.process_time() - started
            # Python function calls per request: what the machine's other load cannot blur.
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(20):
                await page()
            profile.disable()
            # Python functions only, the event loop's own left out: how often the loop turns
            # depends on when the SQLite thread answers, which varies from run to run.
            stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
            calls = sum(
                called
                for (path, _line, _name), (_, called, *_rest) in stats.items()
                if path != "~" and not any(part in path for part in LOOP)
            ) / 40
            return cpu, calls


cpu, calls = asyncio.run(run())
print(json.dumps({{"us_per_request": cpu / (2 * requests) * 1e6, "calls": calls}}))
"""


def measure(root: Path, mode: str, requests: int) -> tuple[float, float]:
    script = _MEASURE.format(root=str(root), mode=mode, requests=requests, front=FRONT_PAGE)
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run(  # noqa: S603 - our own interpreter, on our own script
            [sys.executable, "-c", script],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            env={"CONDUIT_LOG_LEVEL": "WARNING", "PATH": "/usr/bin:/bin"},
        )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return float(answer["us_per_request"]), float(answer["calls"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--before", type=Path, help="a checkout without tracing, to compare")
    arguments = parser.parse_args()
    runs: dict[str, list[float]] = {"before": [], "off": [], "on": []}
    calls: dict[str, float] = {}
    for round_number in range(arguments.rounds):
        for mode in runs:
            if mode == "before" and arguments.before is None:
                continue
            root = arguments.before if mode == "before" else HERE
            cpu, calls[mode] = measure(
                root, "off" if mode == "before" else mode, arguments.requests
            )
            runs[mode].append(cpu)
        print(
            f"round {round_number + 1}: "
            + ", ".join(f"{m} {v[-1]:.0f} us" for m, v in runs.items() if v)
        )
    medians = {m: statistics.median(v) for m, v in runs.items() if v}
    base = "before" if runs["before"] else "off"
    for mode, values in runs.items():
        if values:
            # Each round's ratio to the same round's base: a round slowed by the machine's
            # other work slows both alike, so the ratio holds where the absolute figures drift.
            ratios = [v / b for v, b in zip(values, runs[base], strict=True)]
            print(
                f"{mode:>6}: median {medians[mode]:.0f} us CPU per request; to {base}, per "
                f"round: median {statistics.median(ratios):.3f}x "
                f"(from {min(ratios):.3f} to {max(ratios):.3f}); "
                f"{calls[mode]:.0f} Python calls per request, {calls[mode] / calls[base]:.4f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
