"""The open loop's schedule and percentiles (bench/load.py): pure functions, no server; and
bench/run.py's count of a process's connections."""

from __future__ import annotations

import os
import socket
from itertools import pairwise

from bench.load import percentile, schedule
from bench.run import connections_held


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


def test_the_connections_a_process_holds_are_counted_by_local_port() -> None:
    """bench/run.py counts each worker's connections from /proc: here this process's own, as
    the server end of two connections (the client ends' local ports are others)."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]
        assert connections_held(os.getpid(), port) == 0  # a listening socket is not one
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        accepted = [listening.accept()[0] for _ in clients]
        try:
            assert connections_held(os.getpid(), port) == 2
        finally:
            for end in clients + accepted:
                end.close()
