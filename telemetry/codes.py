"""Where a handler notes the codes of the errors it answers, for the request metrics to count
(telemetry/metrics.py). Apart from those, so that noting costs no import of prometheus_client."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

_CODES = "error_codes"  # in the request scope's state


def note_error_codes(scope: MutableMapping[str, Any], codes: Iterable[str]) -> None:
    """The codes of the errors a response carries (a GraphQL response's extensions.code)."""
    scope.setdefault("state", {}).setdefault(_CODES, []).extend(codes)


def noted_error_codes(scope: MutableMapping[str, Any]) -> list[str]:
    return list(scope.get("state", {}).get(_CODES, ()))
