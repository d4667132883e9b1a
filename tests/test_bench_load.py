"""The open loop's schedule and percentiles (bench/load.py): pure functions, no server."""

from __future__ import annotations

from itertools import pairwise

from bench.load import percentile, schedule


def test_the_schedule_is_evenly_spaced_at_the_rate() -> None:
    due = schedule(100.0, 2.0)
    assert len(due) == 200
    assert due[0] == 0.0
    assert due[-1] == 1.99
    assert all(abs(b - a - 0.01) < 1e-9 for a, b in pairwise(due))


def test_a_fractional_rate_rounds_the_count_down() -> None:
    assert len(schedule(2.5, 3.0)) == 7


def test_percentiles_are_nearest_rank() -> None:
    ordered = [float(i) for i in range(1, 101)]
    assert percentile(ordered, 0.5) == 51.0
    assert percentile(ordered, 0.99) == 100.0
    assert percentile(ordered, 1.0) == 100.0
    assert percentile([], 0.99) == 0.0
