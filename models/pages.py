"""Keyset pagination: positions in a newest-first order, and the opaque cursors that carry them."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from models.errors import Invalid

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# Deep offsets are legal but each one is a longer scan; past this they are surely a mistake.
MAX_OFFSET = 10_000_000
_CURSOR_PREFIX = "v1:"
T = TypeVar("T")


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Where an item sits in newest-first order: by creation time, ties broken by id."""

    created_at: datetime
    id: int


@dataclass(frozen=True, slots=True)
class Window:
    """Which slice of a newest-first list to read: items strictly after `after` (keyset), or
    `offset` items skipped (REST's limit/offset), at most `limit` of them (None: all)."""

    limit: int | None
    offset: int = 0
    after: Position | None = None

    def probe(self) -> Window:
        """The same window with one item more, to learn whether another page follows."""
        extra = None if self.limit is None else self.limit + 1
        return Window(limit=extra, offset=self.offset, after=self.after)

    def cut(self, probed: list[T]) -> tuple[list[T], bool]:
        """What `probe()` found as this window's items, and whether another page follows."""
        if self.limit is None or len(probed) <= self.limit:
            return probed, False
        return probed[: self.limit], True


def in_window(positions: Iterable[Position], window: Window) -> list[Position]:
    """The window's slice of `positions` (in any order), newest first."""
    after = window.after
    newest = sorted((p for p in positions if after is None or p < after), reverse=True)
    end = None if window.limit is None else window.offset + window.limit
    return newest[window.offset : end]


def encode_cursor(position: Position) -> str:
    millis = int(position.created_at.timestamp() * 1000)
    raw = f"{_CURSOR_PREFIX}{millis}:{position.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "after") -> Position:
    invalid = Invalid({field: ["is not a valid cursor"]})
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    if not raw.startswith(_CURSOR_PREFIX):
        raise invalid
    millis, _, ident = raw.removeprefix(_CURSOR_PREFIX).partition(":")
    digits = millis.isascii() and ident.isascii() and millis.isdigit() and ident.isdigit()
    if not digits or len(millis) > 15 or len(ident) > 18:
        raise invalid
    try:
        created_at = datetime.fromtimestamp(int(millis) / 1000, UTC)
    except (ValueError, OverflowError, OSError):  # past the years a datetime can hold
        raise invalid from None
    return Position(created_at, int(ident))


def check_page_size(size: int, field: str) -> None:
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise Invalid({field: [f"must be between 1 and {MAX_PAGE_SIZE}"]})


def check_offset(offset: int, field: str = "offset") -> None:
    if not 0 <= offset <= MAX_OFFSET:
        raise Invalid({field: [f"must be between 0 and {MAX_OFFSET}"]})
