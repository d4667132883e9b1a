"""Every GraphQL error carries a stable `extensions.code`; unexpected ones are masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from models.errors import DomainError

logger = logging.getLogger("conduit.graphql")

INTERNAL = "INTERNAL_SERVER_ERROR"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"


class ErrorCodes(SchemaExtension):
    """Domain errors keep their message and gain `code` and per-field `fields`; errors in the
    document get a GRAPHQL_* code; anything else is logged with the request id and reaches the
    client only as INTERNAL_SERVER_ERROR with that id."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [self._coded(error) for error in result.errors]

    def _coded(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            return _with(error, error.message, {"code": original.code, "fields": original.fields})
        if original is None:
            return _with(error, error.message, {"code": _document_error_code(error)})
        request_id = getattr(self.execution_context.context, "request_id", "-")
        logger.error(
            "unexpected error in GraphQL request %s at %s",
            request_id,
            error.path,
            exc_info=original,
            extra={"request_id": request_id},
        )
        message = f"Internal server error (request id {request_id})"
        return _with(error, message, {"code": INTERNAL, "requestId": request_id})


def _document_error_code(error: GraphQLError) -> str:
    if error.message.startswith("Syntax Error"):
        return PARSE_FAILED
    if error.message.startswith("Variable '$"):
        return BAD_USER_INPUT
    return VALIDATION_FAILED


def _with(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), **extensions},
    )
