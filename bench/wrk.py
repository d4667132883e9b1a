"""The closed loop driven by wrk (`apt-get install wrk`, 4.1.0) instead of bench/load.py:
`python -m bench.run --load wrk`. wrk is C on one event loop per thread; bench/load.py, in
Python, tops out near 700 requests a second on `/health`, below what the simplest pages serve,
so on those it measures itself.

A page's request (method, path, headers, JSON body: bench/scenarios.py) goes to wrk as a Lua
script (`script`); wrk's report, with `--latency`, is read back by `parse`. wrk's latencies are
a closed loop's: from a request's sending to its answer, each connection sending its next
request when the last is answered. wrk checks only the status (it counts those of 400 and
above), so bench/run.py sends the request once beforehand (`check`) to see it answered 200
without GraphQL errors, and to read its store round trips."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

import httpx2

WRK = "wrk"
# wrk's default of 2 s would count a slow answer as a timeout; bench/load.py waits 30 s.
TIMEOUT = "30s"
# One wrk thread drives 16 connections well past any page's rate here, and leaves the other
# core to the server.
THREADS = 1
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_TIME = r"([\d.]+)(us|ms|s|m|h)"


def available() -> bool:
    return shutil.which(WRK) is not None


def command(url: str, script_path: str, connections: int, seconds: float) -> list[str]:
    """wrk's command line: whole seconds (wrk reads no fractions), at least one."""
    duration = f"{max(1, round(seconds))}s"
    threads = str(min(THREADS, connections))
    options = ["-t", threads, "-c", str(connections), "-d", duration, "--timeout", TIMEOUT]
    return [WRK, *options, "--latency", "-s", script_path, url]


def script(request: dict[str, Any]) -> str:
    """A wrk Lua script that sends `request` (bench/scenarios.py's shape) on every request."""
    lines = [
        f"wrk.method = {_lua_string(request['method'])}",
        f"wrk.path = {_lua_string(request['path'])}",
    ]
    headers = dict(request.get("headers", {}))
    if "json" in request:
        headers["Content-Type"] = "application/json"
        lines.append(f"wrk.body = {_lua_string(json.dumps(request['json']))}")
    # The spaces matter: `wrk.headers[[[...` would read as a call with a long string.
    lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def _lua_string(text: str) -> str:
    """`text` as a Lua long string, taken literally (no escapes): its level of `=` chosen so
    that its closing bracket cannot occur in it. Lua drops a newline right after the opening
    bracket, so one is always put there: a text starting with a newline keeps it."""
    level = 0
    while f"]{'=' * level}]" in text + "]":
        level += 1
    equals = "=" * level
    return f"[{equals}[\n{text}]{equals}]"


def parse(output: str) -> dict[str, Any]:
    """wrk's `--latency` report as bench/load.py's summary: requests, errors (answers of 400
    and above, and socket errors), req/s, p50/p99/max latency in ms."""
    requests = re.search(r"^\s*(\d+) requests in " + _TIME, output, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.MULTILINE)
    latency = re.search(rf"^\s*Latency\s+{_TIME}\s+{_TIME}\s+{_TIME}", output, re.MULTILINE)
    if requests is None or rps is None or latency is None:
        raise ValueError(f"not a wrk report: {output!r}")
    statuses = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    answered, refused = int(requests[1]), int(statuses[1]) if statuses else 0
    # wrk's req/s counts every answer; bench/load.py's, the good ones only.
    good = answered - refused
    return {
        "requests": good,
        "errors": refused + (sum(int(n) for n in sockets.groups()) if sockets else 0),
        "rps": round(float(rps[1]) * good / max(answered, 1), 1),
        "p50_ms": _percentile(output, "50"),
        "p99_ms": _percentile(output, "99"),
        "max_ms": _ms(latency[5], latency[6]),
    }


def _percentile(output: str, share: str) -> float:
    found = re.search(rf"^\s*{share}%\s+{_TIME}", output, re.MULTILINE)
    if found is None:
        raise ValueError(f"wrk's report has no {share}% latency (run with --latency)")
    return _ms(found[1], found[2])


def _ms(value: str, unit: str) -> float:
    return round(float(value) * UNITS_MS[unit], 3)


def check(url: str, request: dict[str, Any]) -> float:
    """Send `request` once: raise unless it is answered 200 without GraphQL errors; its store
    round trips (the X-Store-Round-Trips header)."""
    response = httpx2.request(
        request["method"],
        url + request["path"],
        json=request.get("json"),
        headers=request.get("headers", {}),
        timeout=30,
    )
    if response.status_code != 200 or ("json" in request and "errors" in response.json()):
        raise RuntimeError(f"{request['path']} answered {response.status_code}: {response.text}")
    return float(response.headers["x-store-round-trips"])
