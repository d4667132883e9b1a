"""python -m bench.placement [--workers 2] [--connections 16] [--trials 15] [--one-by-one]

Which of uvicorn's workers the connections land on: `python -m server --workers N` (embedded
SQLite, development mode) on a free loopback port; CONNECTIONS keep-alive connections opened
at once (or, with --one-by-one, each after the previous one's answer), each sending one
`GET /health`; then each worker's share of them, counted from /proc (bench.run's
connections_held); all closed, and again, TRIALS times. Prints one line per trial, e.g.
`16, 0`. The server inherits this command's environment (e.g. UV_TCP_SINGLE_ACCEPT=1, libuv's
switch to yield after each accept)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time

from bench.run import ROOT, connections_held, serving, worker_processes

REQUEST = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
# Long enough for the workers to have accepted what the kernel queued, short next to a trial.
SETTLE_SECONDS = 0.3


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.placement", description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--one-by-one", action="store_true", help="each after the last's answer")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "CONDUIT_DATABASE_URL": f"sqlite+aiosqlite:///{directory}/c.db"}
        with serving(env, ROOT, args.workers) as (url, server):
            port = int(url.rpartition(":")[2])
            workers = worker_processes(server)
            for _ in range(args.trials):
                opened = _open(port, args.connections, args.one_by_one)
                time.sleep(SETTLE_SECONDS)
                print(", ".join(str(connections_held(pid, port)) for pid in workers))
                for connection in opened:
                    connection.close()
                time.sleep(SETTLE_SECONDS)
    return 0


def _open(port: int, count: int, one_by_one: bool) -> list[socket.socket]:
    """`count` connections, each answered once (so that a worker has accepted it)."""
    opened = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=30)
        opened.append(connection)
        if one_by_one:
            _ask(connection)
    if not one_by_one:
        for connection in opened:
            _ask(connection)
    return opened


def _ask(connection: socket.socket) -> None:
    connection.sendall(REQUEST)
    if not connection.recv(65536):
        raise RuntimeError("the server closed the connection without answering")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
