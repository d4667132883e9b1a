"""Reading, before a list is returned, the parts of its items that the query selects, a page at a
time, so that those fields resolve from memory. Left to each item's own async resolver, every
item and field would await its loader on its own, and graphql-core turns each such await into
a task: that was most of the CPU time of a GraphQL page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import strawberry
from strawberry.types.nodes import SelectedField, Selection

T = TypeVar("T")


def selected_names(info: strawberry.Info[Any, Any], *paths: tuple[str, ...]) -> set[str]:
    """The names of the fields selected on the items found at `paths` below the field being
    resolved (no path: on the field's own value), through aliases and fragments. A field under
    @skip or @include counts too: that may read a part no one shows, never miss one shown."""
    names: set[str] = set()
    for path in paths or ((),):
        level = _children(info.selected_fields)
        for step in path:
            level = _children([field for field in level if field.name == step])
        names.update(field.name for field in level)
    return names


def _children(fields: Iterable[Selection]) -> list[SelectedField]:
    """The fields selected directly within `fields`, fragments flattened."""
    found: list[SelectedField] = []
    pending: list[Selection] = [selection for field in fields for selection in field.selections]
    while pending:
        selection = pending.pop()
        if isinstance(selection, SelectedField):
            found.append(selection)
        else:
            pending.extend(selection.selections)
    return found


async def read_if(wanted: bool, read: Callable[[], Awaitable[T]]) -> T | None:
    return await read() if wanted else None
