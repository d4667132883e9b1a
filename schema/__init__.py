"""The one Strawberry schema, with its limits and error codes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError, parse, specified_rules
from strawberry.extensions import MaxTokensLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult, validate_document
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from config import ConfigError
from schema.documents import DocumentCache, ValidDocuments
from schema.errors import ErrorCodes
from schema.execution import LeafFieldsExecutor
from schema.limits import REFUSED_DOCUMENTS, QueryCost, QueryLimits, RefusedDocuments
from schema.mutation import Mutation
from schema.persisted import PERSISTED_DOCUMENTS, Persisted, PersistedDocuments, PersistedQueries
from schema.query import Query
from schema.scalars import DATETIME
from schema.subscription import Subscription
from schema.tracing import OperationSpan

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

MAX_TOKENS = 2000
MAX_BATCH_OPERATIONS = 10
CACHE_SIZE = 256


class ConduitSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Silent: ErrorCodes already logged what deserves a log (unexpected errors only)."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """One result: never a subscription's, which streams over WebSocket (Strawberry would
        run one sent over HTTP as if a query, and fail on its stream of events); the view
        answers such a request 400."""
        allowed = set(allowed_operation_types or (OperationType.QUERY, OperationType.MUTATION))
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        """Subscriptions only: a query or mutation sent over WebSocket would run outside the
        request deadline, which holds only over HTTP; over HTTP they have it."""
        return await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            {OperationType.SUBSCRIPTION},
        )


def build_schema(
    *,
    production: bool,
    limits: QueryLimits | None = None,
    tracer: Tracer | None = None,
    trusted: Mapping[str, str] | None = None,
) -> strawberry.Schema:
    """`limits` default to QueryLimits()'s. Depth, aliases and nodes are checked by QueryCost
    rather than Strawberry's QueryDepthLimiter and MaxAliasesLimiter, which walk a fragment
    again at every spread (exponential time for fragments that spread each other twice) and
    fail with a KeyError on a spread of an unknown fragment. With a `tracer`, each operation
    gets a span (schema/tracing.py). With `trusted` (documents by the hex SHA-256 of their
    text), only those run (schema/persisted.py): ConfigError if one is not valid."""
    limits = limits or QueryLimits()
    documents = ValidDocuments(CACHE_SIZE)
    refused = RefusedDocuments(REFUSED_DOCUMENTS)
    persisted = PersistedDocuments(PERSISTED_DOCUMENTS)
    # Filled below, once there is a schema to validate them against.
    trusted_documents: dict[str, Persisted] = {}
    # First, so that the operation's span is around every other extension's work.
    traced: list[Callable[[], SchemaExtension]] = (
        [] if tracer is None else [lambda: OperationSpan(tracer)]
    )
    schema = ConduitSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            *traced,
            # Factories: a fresh extension per request (the cache lives with the schema).
            ErrorCodes,
            # Before the cache: every operation is costed, and one refused is not validated
            # (nor, sent again, parsed).
            lambda: QueryCost(limits, refused),
            # After QueryCost, which costs the document it finds as any other.
            lambda: PersistedQueries(persisted, None if trusted is None else trusted_documents),
            lambda: DocumentCache(documents),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        ],
        execution_context_class=LeafFieldsExecutor,
        config=StrawberryConfig(
            disable_field_suggestions=production,
            batching_config={"max_operations": MAX_BATCH_OPERATIONS},
            scalar_map={datetime: DATETIME},
        ),
    )
    for digest, text in (trusted or {}).items():
        try:
            document = parse(text)
        except GraphQLError as error:
            raise ConfigError(f"trusted document {digest}: {error.message}") from None
        # Strawberry's own rules too: a trusted document is never validated again.
        errors = validate_document(schema._schema, document, tuple(specified_rules))
        if errors:
            raise ConfigError(f"trusted document {digest}: {errors[0].message}")
        trusted_documents[digest] = Persisted(text, document)
    return schema


# The schema as exported to schema.graphql (`strawberry export-schema schema:schema`).
schema = build_schema(production=False)
