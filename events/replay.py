"""Deliver parked events again: `python -m events.replay FILE`, FILE holding the JSON lines
of the dead-letter log (logger `conduit.events.dead_letter`), against the stores the same
CONDUIT_* variables configure. A line names its consumer, or none when the event reached
no consumer (the EventBridge bus could not publish it): then every subscribed one gets it.
Handlers are idempotent, so replaying a line twice does no harm.

The lines that still fail are written to stdout, so their output can be replayed later:
    python -m events.replay parked.jsonl > still-parked.jsonl

Like `stores.sql.migrate`, this is a command, and so it wires stores and handlers itself."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable, Mapping

from config import ConfigError, Settings
from events.dead_letters import from_line
from events.handlers import Handlers
from events.subscriptions import consumers_of
from resolvers import cascades
from stores.factory import OpenStores


async def replay(lines: Iterable[str], handlers: Mapping[str, Handlers]) -> list[str]:
    """Deliver each line's event to its consumers once; the lines that failed, each named on
    stderr with its error."""
    failed: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            letter = from_line(line)
            consumers = consumers_of(type(letter.event))
            for consumer in consumers if letter.consumer is None else [letter.consumer]:
                if consumer not in handlers:
                    raise LookupError(f"no consumer is called {consumer!r}")
                await handlers[consumer].deliver(letter.event)
        except Exception as error:
            print(f"line {number}: {type(error).__name__}: {error}", file=sys.stderr)
            failed.append(line.rstrip("\n"))
    return failed


async def _replay_lines(lines: list[str], settings: Settings) -> list[str]:
    open_stores = OpenStores(settings.domain_urls(), settings.db_pool)
    try:
        await open_stores.prepare(migrate=not settings.is_production)
        return await replay(lines, cascades.handlers(open_stores.stores))
    finally:
        await open_stores.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m events.replay", description="Deliver parked events again."
    )
    parser.add_argument("file", help="JSON lines of the dead-letter log")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        # Read before any store is opened: a file that is not there must not create or migrate
        # a database (the default one is ./conduit.db).
        with open(args.file, encoding="utf-8") as file:
            lines = file.readlines()
        failed = asyncio.run(_replay_lines(lines, settings))
    except (ConfigError, OSError) as error:
        print(f"events.replay: {error}", file=sys.stderr)
        return 2
    for line in failed:
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
