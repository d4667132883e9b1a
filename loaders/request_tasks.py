"""The tasks of one request's DataLoaders. aiodataloader runs each batch in a task of its own,
which outlives the request unless someone stops it: a request stopped by its deadline
(middleware.Deadline) stops these too, and with them the store calls and connections they
hold. A batch task inherits the request's context, which is how it finds the request's set."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")
Tasks = set[asyncio.Task[Any]]

_of_request: ContextVar[Tasks | None] = ContextVar("loader_tasks_of_request", default=None)


@contextmanager
def collected() -> Iterator[Tasks]:
    """The batch tasks started within the block, while they run."""
    tasks: Tasks = set()
    token = _of_request.set(tasks)
    try:
        yield tasks
    finally:
        _of_request.reset(token)


def belonging_to_the_request(
    batch: Callable[[Sequence[Key]], Coroutine[Any, Any, list[Value]]],
) -> Callable[[list[Key]], Coroutine[Any, Any, list[Value]]]:
    """`batch`, entering the task it runs in into its request's set."""

    async def run(keys: list[Key]) -> list[Value]:
        tasks, task = _of_request.get(), asyncio.current_task()
        if tasks is not None and task is not None:
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return await batch(keys)

    return run
