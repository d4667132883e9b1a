"""Log lines: plain text for people while developing, one JSON object per line for log
collectors in production; each carries the id of the request it was written for, and no
configured secret ever appears in one."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from config import LogFormat, Settings
from models.clock import isoformat_ms
from stores.dynamodb.urls import is_dynamodb_url

# Set by the request middleware, so that any line written while serving a request names it.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)
# What a record may carry besides its message (through `extra=`), in the order JSON shows it.
CONTEXT_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "round_trips")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
REDACTED = "[redacted]"
# Control characters (C0, DEL, C1) and the Unicode line separators: raw in a text line, a
# request's path could forge a line of its own (%0A) or drive the reader's terminal (ESC).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Shorter values are too likely to occur inside ordinary words to be masked in every line.
MIN_REDACTED_LENGTH = 8


def configure(settings: Settings, stream: TextIO = sys.stderr) -> None:
    """One handler on the root logger in the configured format, unless the host (a test runner,
    an embedding application) configured logging already. Uvicorn's own lines go through it
    too, so a production process writes nothing but JSON; uvicorn's access log is switched off
    because `conduit.access` replaces it (and it would write query strings)."""
    root = logging.getLogger()
    if root.handlers:
        return
    root.addHandler(handler(settings, stream))
    root.setLevel(settings.log_level)
    uvicorn = logging.getLogger("uvicorn")
    uvicorn.handlers.clear()
    uvicorn.propagate = True
    # Uvicorn sets these from its --log-level; CONDUIT_LOG_LEVEL is the one knob for all lines.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    logging.getLogger("uvicorn.access").disabled = True
    # Alembic announces each of its plugins at INFO when it is first imported, which happens
    # after this (only a process with a domain on SQL imports it): noise, not operations.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def handler(settings: Settings, stream: TextIO) -> logging.Handler:
    """Writes to `stream` in the configured format, with request ids and without secrets."""
    written = logging.StreamHandler(stream)
    secrets = secrets_of(settings)
    json_lines = settings.log_format is LogFormat.JSON
    written.setFormatter(JsonFormatter(secrets) if json_lines else TextFormatter(secrets))
    written.addFilter(_with_request_id)
    return written


def secrets_of(settings: Settings) -> list[str]:
    """The configured values no log line may show: the JWT secret and database passwords."""
    sql_urls = [url for url in settings.domain_urls().values() if not is_dynamodb_url(url)]
    if not sql_urls:
        return [settings.jwt_secret]
    # Imported only when some domain is on SQL: a Lambda on DynamoDB never loads SQLAlchemy.
    from sqlalchemy.engine import make_url

    passwords = [make_url(url).password for url in sql_urls]
    return [settings.jwt_secret, *(p for p in passwords if p)]


class TextFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(TEXT_FORMAT)
        self._secrets = _maskable(secrets)

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line itself, escaped; a traceback after it keeps its own lines."""
        return _escape_controls(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        return _redact(super().format(record), self._secrets)


class JsonFormatter(logging.Formatter):
    """time (UTC, milliseconds), level, logger, message, then whichever CONTEXT_FIELDS the
    record has, then the exception's traceback if any."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = _maskable(secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": isoformat_ms(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in CONTEXT_FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Redacted field by field: in the encoded line a secret may appear escaped.
        redacted = {
            k: _redact(v, self._secrets) if isinstance(v, str) else v for k, v in entry.items()
        }
        return json.dumps(redacted, default=str)


def _with_request_id(record: logging.LogRecord) -> bool:
    if not hasattr(record, "request_id"):
        record.request_id = current_request_id.get()
    return True


def _maskable(secrets: Iterable[str]) -> tuple[str, ...]:
    # Longest first, so a secret containing another is masked whole.
    return tuple(
        sorted({s for s in secrets if len(s) >= MIN_REDACTED_LENGTH}, key=len, reverse=True)
    )


def _escape_controls(text: str) -> str:
    return _CONTROL.sub(_escape, text)


def _escape(control: re.Match[str]) -> str:
    char = control[0]
    return _ESCAPES.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text
