"""The few domain errors every use case raises; `schema/` and `rest/` map them for clients."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """A failure the client caused and can act on (never a bug)."""

    code: str = "DOMAIN_ERROR"

    def __init__(self, fields: Mapping[str, list[str]]) -> None:
        self.fields = {key: list(messages) for key, messages in fields.items()}
        super().__init__("; ".join(f"{k} {', '.join(v)}" for k, v in self.fields.items()))


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"

    @classmethod
    def missing_token(cls) -> Unauthenticated:
        return cls({"token": ["is missing"]})

    @classmethod
    def invalid_token(cls) -> Unauthenticated:
        # The RealWorld contract has one answer for no token and a bad one; clients read it.
        return cls({"token": ["is missing"]})

    @classmethod
    def bad_credentials(cls) -> Unauthenticated:
        return cls({"credentials": ["invalid"]})


class Forbidden(DomainError):
    code = "FORBIDDEN"

    def __init__(self, resource: str) -> None:
        super().__init__({resource: ["forbidden"]})


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, resource: str) -> None:
        super().__init__({resource: ["not found"]})


class Invalid(DomainError):
    """Bad input, with messages per field."""

    code = "BAD_USER_INPUT"

    @classmethod
    def too_long_to_store(cls) -> Invalid:
        """A value the store's limits refuse that validation let through: the client's to
        shorten, never a server error."""
        return cls({"body": ["holds a value too long to store"]})


class Conflict(DomainError):
    """A unique value (username, email) is taken already."""

    code = "CONFLICT"

    @classmethod
    def taken(cls, *fields: str) -> Conflict:
        return cls({f: ["has already been taken"] for f in fields})


class RateLimited(DomainError):
    """Past a rate limit: the client may try again in `retry_after` seconds."""

    code = "RATE_LIMITED"

    def __init__(self, what: str, limit: int, retry_after: int) -> None:
        self.limit = limit
        self.retry_after = retry_after
        super().__init__({"request": [f"too many {what}, try again in {retry_after} seconds"]})


class FellBehind(DomainError):
    """A live subscriber read its events slower than they came, and was dropped."""

    code = "FELL_BEHIND"

    def __init__(self, waiting: int) -> None:
        super().__init__(
            {"subscription": [f"left {waiting} events unread and was ended: subscribe again"]}
        )
