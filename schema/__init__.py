"""The one Strawberry schema, with its limits and error codes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.errors import ErrorCodes
from schema.limits import QueryCost, QueryLimits
from schema.mutation import Mutation
from schema.query import Query
from schema.scalars import DATETIME

MAX_TOKENS = 2000
MAX_BATCH_OPERATIONS = 10
CACHE_SIZE = 256


class _ParserCache(ParserCache):
    """Strawberry's ParserCache, except that a document which does not parse is left to
    Strawberry: its own parse then fails inside the operation, where ErrorCodes gives the
    error a code (raised from `on_parse`, it would skip ErrorCodes and reach the client bare)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


class ConduitSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Silent: ErrorCodes already logged what deserves a log (unexpected errors only)."""


def build_schema(*, production: bool, limits: QueryLimits | None = None) -> strawberry.Schema:
    """`limits` default to QueryLimits()'s. Depth, aliases and nodes are checked by QueryCost
    rather than Strawberry's QueryDepthLimiter and MaxAliasesLimiter, which walk a fragment
    again at every spread (exponential time for fragments that spread each other twice) and
    fail with a KeyError on a spread of an unknown fragment."""
    limits = limits or QueryLimits()
    return ConduitSchema(
        query=Query,
        mutation=Mutation,
        extensions=[
            # Factories: a fresh extension per request (the caches live at module level).
            ErrorCodes,
            lambda: _ParserCache(maxsize=CACHE_SIZE),
            lambda: ValidationCache(maxsize=CACHE_SIZE),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: QueryCost(limits),
        ],
        config=StrawberryConfig(
            disable_field_suggestions=production,
            batching_config={"max_operations": MAX_BATCH_OPERATIONS},
            scalar_map={datetime: DATETIME},
        ),
    )


# The schema as exported to schema.graphql (`strawberry export-schema schema:schema`).
schema = build_schema(production=False)
