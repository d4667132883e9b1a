"""The benchmark's results as Markdown tables, with each target and whether it was met."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.scenarios import Scenario, describe

P99_TARGET_MS = 200.0
# How much more a page may cost on 100x the data, and as GraphQL than as REST.
RATIO_TARGET = 1.3
# How much more CPU a REST page may cost the server than its statements cost asyncpg alone.
FLOOR_TARGET = 2.0
# Open loop at half the measured maximum rate (issue 11): p99 from the scheduled start times.
OPEN_LOOP_P99_TARGET_MS = 50.0
# bench.run --load: who drove the closed loop.
GENERATORS = {"python": "`bench/load.py`", "wrk": "wrk (`bench/wrk.py`)"}


@dataclass(frozen=True)
class Result:
    size: int
    scenario: Scenario
    measured: dict[str, Any]

    @property
    def rps(self) -> float:
        return float(self.measured["rps"])

    @property
    def p99(self) -> float:
        return float(self.measured["p99_ms"])

    @property
    def cpu(self) -> float:
        return float(self.measured["server_cpu_ms"])

    @property
    def floor_cpu(self) -> float:
        return float(self.measured["floor_cpu_ms"])

    def as_json(self) -> dict[str, Any]:
        scenario = self.scenario
        return {"size": self.size, "page": scenario.page, "api": scenario.api, **self.measured}


def tables(
    results: list[Result],
    seeding: dict[int, float],
    connections: int,
    workers: int = 1,
    load: str = "python",
) -> str:
    parts = [
        _seeding(seeding),
        _measurements(results, connections, workers, load),
        _cores(results),
        _open_loop(results),
        _against_the_floor(results),
        _scaling(results),
        _graphql_against_rest(results),
        _requests(results),
    ]
    return "\n\n".join(part for part in parts if part)


def _seeding(seeding: dict[int, float]) -> str:
    rows = [
        f"| {size:,} | {max(size // 10, 2):,} | {seconds:.1f} s |"
        for size, seconds in seeding.items()
    ]
    return "\n".join(["| articles | users | seed time |", "|---:|---:|---:|", *rows])


def _measurements(results: list[Result], connections: int, workers: int, load: str) -> str:
    head = [
        f"| page | API | articles | req/s | p50 ms | p99 ms (< {P99_TARGET_MS:.0f}) | "
        "server CPU ms / request | store round trips / request | errors | load average |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [
        f"| {r.scenario.page} | {r.scenario.api} | {r.size:,} | {r.rps:,.0f} | "
        f"{r.measured['p50_ms']} | {_mark(r.p99, r.p99 < P99_TARGET_MS)} | {r.cpu:.2f} | "
        f"{r.measured['round_trips']:g} | {r.measured['errors']} | {r.measured['load_average']} |"
        for r in results
    ]
    served = "one worker" if workers == 1 else f"{workers} workers"
    generator = GENERATORS[load]
    return f"{connections} connections, {served}, load from {generator}:\n\n" + "\n".join(
        head + rows
    )


def _cores(results: list[Result]) -> str:
    """Who kept the cores busy during each closed-loop measurement: CPU seconds per second,
    with each worker's share and the load's connections it held."""
    rows = [
        f"| {r.scenario.page} | {r.scenario.api} | {r.size:,} | {r.measured['workers']} | "
        f"{r.rps:,.0f} | {r.measured['server_cores']} | {_each(r.measured, 'worker_cores')} | "
        f"{_each(r.measured, 'worker_connections')} | {r.measured['load_cores']} | "
        f"{r.measured.get('database_cores', '-')} | {r.measured['machine_cores']} | "
        f"{r.measured['load_average']} |"
        for r in results
        if "server_cores" in r.measured
    ]
    if not rows:
        return ""
    head = [
        "| page | API | articles | workers | req/s | server CPU s / s | each worker's CPU s / s "
        "| connections each worker held | load generator CPU s / s | PostgreSQL CPU s / s "
        "| machine CPU s / s | load average |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    return (
        "Cores kept busy while measuring (closed loop; CPU seconds per wall second, of 2 cores): "
        "the server (all its processes), each worker, the load generator, PostgreSQL's "
        "backends on the benchmark's database, the whole machine (`/proc/stat`: these and "
        "any other work); and the load's "
        "connections each worker held halfway through:\n\n" + "\n".join(head + rows)
    )


def _each(measured: dict[str, Any], key: str) -> str:
    """One figure per worker, e.g. `0.95, 0.02`; `-` where a run did not record them."""
    return ", ".join(f"{v:g}" for v in measured.get(key, [])) or "-"


def _open_loop(results: list[Result]) -> str:
    rows = []
    for r in results:
        opened = r.measured.get("open_loop")
        if opened is None:
            continue
        p99 = float(opened["p99_ms"])
        rows.append(
            f"| {r.scenario.page} | {r.scenario.api} | {r.size:,} | {r.rps:,.0f} | "
            f"{opened['rate']:g} | {opened['rps']:,.1f} | {opened['p50_ms']} | "
            f"{_mark(p99, p99 < OPEN_LOOP_P99_TARGET_MS)} | {opened['max_ms']} | "
            f"{opened['late']} of {opened['requests'] + opened['errors']} | "
            f"{opened['errors']} | {opened['server_cpu_ms']:.2f} | {opened['load_average']} |"
        )
    if not rows:
        return ""
    head = [
        "| page | API | articles | closed-loop max req/s | open-loop rate (half) | achieved req/s "
        f"| p50 ms | p99 ms (< {OPEN_LOOP_P99_TARGET_MS:.0f}) | max ms | started > 5 ms late "
        "| errors | server CPU ms / request | load average |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    return (
        "Open loop at half the closed-loop maximum (`bench/load.py --rate`; latency from each "
        "request's scheduled start):\n\n" + "\n".join(head + rows)
    )


def _against_the_floor(results: list[Result]) -> str:
    head = [
        "| page | API | articles | statements | server CPU ms / request | floor CPU ms / request "
        f"| server / floor (REST <= {FLOOR_TARGET:g}x) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    rows = []
    for r in results:
        if "floor_cpu_ms" not in r.measured:
            continue
        ratio = r.cpu / r.floor_cpu
        shown = (
            _mark(ratio, ratio <= FLOOR_TARGET, "x")
            if r.scenario.api == "REST"
            else f"{ratio:.1f}x"
        )
        rows.append(
            f"| {r.scenario.page} | {r.scenario.api} | {r.size:,} | "
            f"{r.measured['floor_statements']} | {r.cpu:.2f} | {r.floor_cpu:.3f} | {shown} |"
        )
    if not rows:
        return ""
    return (
        "The floor: the same statements sent with asyncpg directly (bench/floor.py):\n\n"
        + "\n".join(head + rows)
    )


def _scaling(results: list[Result]) -> str:
    sizes = sorted({r.size for r in results})
    if len(sizes) < 2:
        return ""
    small, large = sizes[0], sizes[-1]
    by_key = _by_key(results)
    rows = []
    for r in results:
        if r.size != small or (r.scenario.page, r.scenario.api, large) not in by_key:
            continue
        big = by_key[(r.scenario.page, r.scenario.api, large)]
        slower = r.rps / big.rps
        p99_ratio = big.p99 / r.p99
        rows.append(
            f"| {r.scenario.page} | {r.scenario.api} | {_ratio(slower)} | {_ratio(p99_ratio)} |"
        )
    head = [
        f"| page | API | req/s {small:,} / {large:,} (<= {RATIO_TARGET}) | "
        f"p99 {large:,} / {small:,} (<= {RATIO_TARGET}) |",
        "|---|---|---:|---:|",
    ]
    return "\n".join(head + rows)


def _graphql_against_rest(results: list[Result]) -> str:
    by_key = _by_key(results)
    rows = []
    for r in results:
        twin = by_key.get((r.scenario.page, "GraphQL", r.size))
        if r.scenario.api != "REST" or twin is None:
            continue
        slower = r.rps / twin.rps
        cost = twin.cpu / r.cpu
        rows.append(
            f"| {r.scenario.page} | {r.size:,} | {r.rps:,.0f} | {twin.rps:,.0f} | "
            f"{_ratio(slower)} | {r.cpu:.2f} | {twin.cpu:.2f} | "
            f"{_ratio(cost)} |"
        )
    head = [
        f"| page | articles | REST req/s | GraphQL req/s | REST / GraphQL req/s "
        f"(<= {RATIO_TARGET}) | REST CPU ms | GraphQL CPU ms | GraphQL / REST CPU "
        f"(<= {RATIO_TARGET}) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    return "\n".join(head + rows)


def _requests(results: list[Result]) -> str:
    seen: dict[tuple[str, str], str] = {}
    for r in results:
        seen.setdefault((r.scenario.page, r.scenario.api), describe(r.scenario))
    rows = [f"| {page} | {api} | `{request}` |" for (page, api), request in seen.items()]
    return "\n".join(["| page | API | request |", "|---|---|---|", *rows])


def _by_key(results: list[Result]) -> dict[tuple[str, str, int], Result]:
    return {(r.scenario.page, r.scenario.api, r.size): r for r in results}


def _ratio(value: float) -> str:
    return _mark(value, value <= RATIO_TARGET, "x")


def _mark(value: float, met: bool, unit: str = "") -> str:
    text = f"{value:.2f}{unit}" if unit else f"{value:,.1f}"
    return text if met else f"**{text}** (missed)"
