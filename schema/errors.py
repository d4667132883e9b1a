"""Every GraphQL error carries a stable `extensions.code`; unexpected ones are masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult, StreamExecutionResult

from models.errors import DomainError, RateLimited
from stores.errors import StoreUnavailable

logger = logging.getLogger("conduit.graphql")

INTERNAL = "INTERNAL_SERVER_ERROR"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
RATE_LIMITED = RateLimited.code


class ErrorCodes(SchemaExtension):
    """Domain errors keep their message and gain `code` and per-field `fields`; errors in the
    document get a GRAPHQL_* code, variables that do not fit their types BAD_USER_INPUT, an
    unreachable database SERVICE_UNAVAILABLE; anything else is logged with the request id and
    reaches the client only as INTERNAL_SERVER_ERROR with that id. Past a rate limit, the
    code is RATE_LIMITED, with `retryAfter` (seconds) and the rule's `limit`. (A fresh
    instance serves each operation.)"""

    _failed_validation = False

    def on_validate(self) -> Iterator[None]:
        yield
        # Validation reports every error it finds, and the operation stops there.
        self._failed_validation = bool(self.execution_context.pre_execution_errors)

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = self._coded(result.errors)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Each result sent over WebSocket (every event of a subscription), before it goes."""
        if isinstance(result, ExecutionResult) and result.errors:
            result.errors = self._coded(result.errors)
        yield

    def _coded(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        request_id = getattr(self.execution_context.context, "request_id", "-")
        return [coded(e, request_id, failed_validation=self._failed_validation) for e in errors]


def has_code(error: GraphQLError) -> bool:
    return bool(error.extensions and "code" in error.extensions)


def coded(error: GraphQLError, request_id: str, *, failed_validation: bool = False) -> GraphQLError:
    """The error as a client sees it: with a code, and masked unless the client caused it."""
    if has_code(error):  # refused by our own checks, which say why
        return error
    original = error.original_error
    if isinstance(original, RateLimited):
        extensions: dict[str, object] = {
            "code": original.code,
            "fields": original.fields,
            "retryAfter": original.retry_after,
            "limit": original.limit,
        }
        return _with(error, error.message, extensions)
    if isinstance(original, DomainError):
        return _with(error, error.message, {"code": original.code, "fields": original.fields})
    if isinstance(original, StoreUnavailable):
        # An outage, not a bug: one line, no traceback; the cause stays out of the response.
        logger.warning(
            "store unavailable in GraphQL request %s at %s: %s",
            request_id,
            error.path,
            original,
            extra={"request_id": request_id},
        )
        message = "Service unavailable, try again shortly"
        return _with(error, message, {"code": SERVICE_UNAVAILABLE})
    if isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
        return _with(error, error.message, {"code": PARSE_FAILED})
    if failed_validation:
        return _with(error, error.message, {"code": VALIDATION_FAILED})
    # What fails after validation but before any field runs (so without a path) is a variable
    # whose value does not fit its type: graphql-core reports it bare or with the scalar's error.
    if error.path is None and (original is None or isinstance(original, GraphQLError)):
        return _with(error, error.message, {"code": BAD_USER_INPUT})
    logger.error(
        "unexpected error in GraphQL request %s at %s",
        request_id,
        error.path,
        exc_info=original or error,
        extra={"request_id": request_id},
    )
    message = f"Internal server error (request id {request_id})"
    return _with(error, message, {"code": INTERNAL, "requestId": request_id})


def _with(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), **extensions},
    )
