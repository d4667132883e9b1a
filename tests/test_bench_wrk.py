"""wrk's Lua script and the reading of its report (bench/wrk.py): pure functions, no server and
no wrk."""

from __future__ import annotations

import re

import pytest

from bench.scenarios import Target, scenarios
from bench.wrk import command, parse, script

# wrk 4.1.0's report with --latency, as it printed it (against a server answering 404).
REPORT = """\
Running 1s test @ http://127.0.0.1:18741/missing
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.63ms    3.25ms  31.00ms   86.11%
    Req/Sec     1.25k   270.47     1.61k    72.73%
  Latency Distribution
     50%    2.51ms
     75%    4.72ms
     90%    7.63ms
     99%   16.05ms
  1370 requests in 1.10s, 695.88KB read
  Non-2xx or 3xx responses: 1370
Requests/sec:   1243.69
Transfer/sec:    631.73KB
"""

# Its shape when every answer was good and some sockets failed; latencies in other units.
GOOD = """\
Running 4s test @ http://127.0.0.1:8000
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.40us  100.10us    1.02s    90.00%
    Req/Sec    19.50k     1.00k   21.00k    70.00%
  Latency Distribution
     50%  790.00us
     75%  850.00us
     90%  900.00us
     99%    1.20ms
  78000 requests in 4.00s, 20.00MB read
  Socket errors: connect 0, read 2, write 1, timeout 3
Requests/sec:  19500.00
Transfer/sec:      5.00MB
"""


def test_a_report_of_refusals_counts_them_as_errors_not_requests() -> None:
    assert parse(REPORT) == {
        "requests": 0,
        "errors": 1370,
        "rps": 0.0,
        "p50_ms": 2.51,
        "p99_ms": 16.05,
        "max_ms": 31.0,
    }


def test_a_good_report_in_microseconds_and_seconds() -> None:
    assert parse(GOOD) == {
        "requests": 78000,
        "errors": 6,
        "rps": 19500.0,
        "p50_ms": 0.79,
        "p99_ms": 1.2,
        "max_ms": 1020.0,
    }


def test_anything_else_is_refused() -> None:
    with pytest.raises(ValueError, match="not a wrk report"):
        parse("unable to connect to 127.0.0.1:9 Connection refused\n")
    with pytest.raises(ValueError, match="run with --latency"):
        parse(re.sub(r"  Latency Distribution\n(.*\n){4}", "", GOOD))


def test_the_command_runs_whole_seconds_on_one_thread() -> None:
    assert command("http://127.0.0.1:8000", "page.lua", 16, 0.4) == [
        "wrk",
        *("-t", "1", "-c", "16", "-d", "1s", "--timeout", "30s", "--latency"),
        *("-s", "page.lua", "http://127.0.0.1:8000"),
    ]
    assert "10s" in command("http://127.0.0.1:8000", "page.lua", 16, 10.0)


def long_strings(lua: str) -> list[str]:
    """The Lua long strings of `lua` read as Lua reads them: from `[`, `=` x n, `[` (and a
    newline right after it, dropped) to the first `]`, `=` x n, `]`."""
    found, at = [], 0
    while (opening := re.compile(r"\[(=*)\[\n?").search(lua, at)) is not None:
        closing = lua.index(f"]{opening[1]}]", opening.end())
        found.append(lua[opening.end() : closing])
        at = closing + len(opening[1]) + 2
    return found


@pytest.mark.parametrize(
    "text", ["plain", 'a "quoted" \\ text', "x]]y", "ends]", "]=]]==]", "\nstarts with a newline"]
)
def test_every_text_reaches_lua_literally(text: str) -> None:
    request = {"method": "GET", "path": "/api/x", "headers": {"X-Text": text}}
    assert long_strings(script(request)) == ["GET", "/api/x", "X-Text", text]


def test_each_page_sends_its_method_path_headers_and_json_body() -> None:
    target = Target(token="t.o.k", tag="career", slug="a-slug", username="user1")
    pages = {(s.page, s.api): s.request for s in scenarios(target)}
    feed = long_strings(script(pages[("feed", "REST")]))
    assert feed == ["GET", "/api/articles/feed", "Authorization", "Token t.o.k"]
    profile = pages[("profile", "GraphQL")]
    method, path, body, *headers = long_strings(script(profile))
    assert (method, path) == ("POST", "/graphql")
    assert body.startswith('{"query": "query($username: String!)')
    assert '"variables": {"username": "user1"}' in body
    assert headers == ["Authorization", "Token t.o.k", "Content-Type", "application/json"]
    assert "wrk.headers[ [[" in script(profile)  # not `wrk.headers[[[`: a call in Lua
