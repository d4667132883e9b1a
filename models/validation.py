"""Per-field checks shared by every use case; they collect messages instead of failing fast."""

from __future__ import annotations

import unicodedata
from enum import Enum
from typing import Final, Literal, TypeAlias, TypeVar

from models.errors import Invalid


class Missing(Enum):
    """The value of a field the client did not send (distinct from an explicit null)."""

    MISSING = "MISSING"


MISSING: Final = Missing.MISSING
T = TypeVar("T")
Maybe: TypeAlias = T | Literal[Missing.MISSING]


def is_clean_text(value: str) -> bool:
    """True when every store can keep `value` as it is: valid UTF-8 and no control characters
    (PostgreSQL rejects NUL; a lone surrogate cannot be encoded at all)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value)


class FieldErrors:
    """Collects per-field messages; `raise_if_any` turns them into one `Invalid`."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.messages.setdefault(field, []).append(message)

    def text(
        self,
        field: str,
        value: object,
        *,
        max_length: int,
        required: bool = True,
        single_line: bool = True,
    ) -> str | None:
        """A trimmed string, or None when absent/blank and not required (blank = unset)."""
        if value is None or isinstance(value, Missing):
            if required:
                self.add(field, "can't be blank")
            return None
        if not isinstance(value, str):
            self.add(field, "must be a string")
            return None
        text = value.strip()
        if not text:
            if required:
                self.add(field, "can't be blank")
            return None
        if len(text) > max_length:
            self.add(field, f"is too long (maximum is {max_length} characters)")
        elif not is_clean_text(text) or (single_line and ("\n" in text or "\r" in text)):
            self.add(field, "contains characters that are not allowed")
        return text

    def raise_if_any(self) -> None:
        if self.messages:
            raise Invalid(self.messages)
