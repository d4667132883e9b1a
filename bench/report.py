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


def tables(results: list[Result], seeding: dict[int, float], connections: int) -> str:
    return "\n\n".join(
        [
            _seeding(seeding),
            _measurements(results, connections),
            _against_the_floor(results),
            _scaling(results),
            _graphql_against_rest(results),
            _requests(results),
        ]
    )


def _seeding(seeding: dict[int, float]) -> str:
    rows = [
        f"| {size:,} | {max(size // 10, 2):,} | {seconds:.1f} s |"
        for size, seconds in seeding.items()
    ]
    return "\n".join(["| articles | users | seed time |", "|---:|---:|---:|", *rows])


def _measurements(results: list[Result], connections: int) -> str:
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
    return f"{connections} connections, one worker:\n\n" + "\n".join(head + rows)


def _against_the_floor(results: list[Result]) -> str:
    head = [
        "| page | API | articles | statements | server CPU ms / request | floor CPU ms / request "
        f"| server / floor (REST <= {FLOOR_TARGET:g}x) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    rows = []
    for r in results:
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
