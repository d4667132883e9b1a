"""Connections: forward keyset pages (`first`/`after`) with opaque cursors and a total count."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Generic, Protocol, TypeVar

import strawberry

from models.pages import DEFAULT_PAGE_SIZE, Position, Window, check_page_size, decode_cursor
from models.pages import encode_cursor as _encode

T = TypeVar("T")
# Where a connection's items are, below it: for `selected_names`.
NODE_PATHS = (("nodes",), ("edges", "node"))


class Positioned(Protocol):
    @property
    def position(self) -> Position: ...


@strawberry.type(description="Where a page ends and whether another follows.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="An item of a page with the cursor that points just after it.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a newest-first list.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="The items of this page (the edges' nodes).")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items the whole list holds, across all pages.")
    async def total_count(self) -> int:
        return await self._count()


def window(first: int, after: str | None) -> Window:
    check_page_size(first, "first")
    return Window(limit=first, after=None if after is None else decode_cursor(after))


def connection(
    records: Sequence[Positioned],
    nodes: Sequence[T],
    has_next_page: bool,
    count: Callable[[], Awaitable[int]],
) -> Connection[T]:
    edges = [Edge(cursor=_encode(r.position), node=n) for r, n in zip(records, nodes, strict=True)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next_page, end_cursor=edges[-1].cursor if edges else None
        ),
        _count=count,
    )


FIRST_DESCRIPTION = f"Page size, 1 to 100 (default {DEFAULT_PAGE_SIZE})."
AFTER_DESCRIPTION = "Return the items after this cursor (an `endCursor` or an edge's `cursor`)."
First = Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)]
After = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]
