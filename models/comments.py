"""Comments on articles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.ids import parse_number
from models.pages import Position
from models.validation import FieldErrors

MAX_COMMENT = 20_000


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    article_id: int
    author_id: int
    body: str
    created_at: datetime
    updated_at: datetime

    @property
    def position(self) -> Position:
        return Position(self.created_at, self.id)


@dataclass(frozen=True, slots=True)
class NewComment:
    article_id: int
    author_id: int
    body: str
    created_at: datetime


def validate_body(body: object) -> str:
    errors = FieldErrors()
    text = errors.text("body", body, max_length=MAX_COMMENT, single_line=False)
    errors.raise_if_any()
    assert text is not None
    return text


def parse_id(raw: object) -> int | None:
    """A comment id from a URL or a GraphQL ID, or None when it cannot name any comment."""
    return parse_number(str(raw))
