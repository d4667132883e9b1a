"""Global object ids (the GraphQL Global Object Identification spec, as Relay and GitHub use
them): opaque to clients, stable, unique across types, so that a normalized cache (Apollo,
urql, Relay) keys an object by its id alone and `node(id:)` knows where to look it up.

An id is the base64 of "<Type>:<number>" (the form of Strawberry's relay.GlobalID). Only the
canonical encoding of a known type and a number that can be an id counts: one object has one
id, never several spellings of it."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from enum import StrEnum

from models.errors import Invalid

# Ids travel through JavaScript clients as numbers: keep them exactly representable there.
MAX_NUMBER = 2**53 - 1
# How many objects one `nodes(ids:)` may ask for: a page's worth.
MAX_NODE_IDS = 100
INVALID = "is not a valid id"


class Kind(StrEnum):
    """The types with a global id. A user is a Profile to others and a User to themselves: two
    types, so two ids, with fields of their own each."""

    ARTICLE = "Article"
    COMMENT = "Comment"
    PROFILE = "Profile"
    USER = "User"


_KINDS = frozenset(Kind)


@dataclass(frozen=True, slots=True)
class GlobalId:
    kind: Kind
    number: int

    def __str__(self) -> str:
        return base64.b64encode(f"{self.kind}:{self.number}".encode("ascii")).decode("ascii")


def global_id(kind: Kind, number: int) -> str:
    return str(GlobalId(kind, number))


def parse_number(text: str) -> int | None:
    """A record's number written in decimal, or None when no record can have it."""
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        return None
    value = int(text)
    return value if 0 < value <= MAX_NUMBER else None


def parse_global_id(raw: str) -> GlobalId | None:
    """The id `raw` spells, or None when it spells none."""
    try:
        kind, _, digits = base64.b64decode(raw, validate=True).decode("ascii").partition(":")
    except ValueError:  # not base64 (or not ASCII), or not text
        return None
    number = parse_number(digits)
    if number is None or kind not in _KINDS:
        return None
    found = GlobalId(Kind(kind), number)
    return found if str(found) == raw else None


def require_global_id(raw: str, field: str) -> GlobalId:
    """The id `raw` spells; Invalid, on `field`, when it spells none."""
    found = parse_global_id(raw)
    if found is None:
        raise Invalid({field: [INVALID]})
    return found


def number_of(raw: str, kind: Kind, field: str) -> int | None:
    """The number of the `kind` object that `raw` names: by its global id or, as clients wrote
    before there were global ids, by its plain decimal number. None when `raw` is another
    type's id or a number no object has; Invalid, on `field`, when it is neither an id nor a
    number."""
    if raw.isascii() and raw.isdigit():
        return parse_number(raw)
    found = require_global_id(raw, field)
    return found.number if found.kind is kind else None
