"""`python -m server` (one process, uvicorn's own) that dies right after a write commits, before
its request delivers the events it recorded: `os._exit`, which runs no cleanup, as `kill -9`
would leave it. For tests/test_outbox_crash.py, which starts it with uvicorn's options:

    python -m tests.crash_after_commit --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import uvicorn

import server
from events import DomainEvent
from events.relay import Relay

KILLED = 137  # the status a shell reports for a process killed by SIGKILL


async def _die(_relay: Relay, _events: Sequence[DomainEvent]) -> None:
    os._exit(KILLED)


if __name__ == "__main__":
    # In this process, not exec'd as `python -m server` does, so that the replacement holds.
    setattr(Relay, "deliver", _die)  # noqa: B010 - replacing a method, as a mock would
    uvicorn.main(["app:app", *server.UVICORN_OPTIONS, *sys.argv[1:]])
