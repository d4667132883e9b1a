"""Parsed and validated documents, kept for the next request that sends the same text.

Only documents that parsed and passed validation are kept. Strawberry's ParserCache and
ValidationCache keep every document they see: a client sending ever new documents (each
refused) churned them, and the ASTs they held (thousands of objects each, tokens included) made
the garbage collector's full collections take a hundred milliseconds and more, while every
other request waited. (What is refused for its cost alone is remembered too, without its AST:
see schema.limits.RefusedDocuments.)"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeAlias, TypeVar

from graphql import (
    DocumentNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The most recently used `size` values, by their keys."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._values.get(key)
        if value is not None:
            self._values.move_to_end(key)
        return value

    def keep(self, key: K, value: V) -> None:
        self._values[key] = value
        self._values.move_to_end(key)
        if len(self._values) > self._size:
            self._values.popitem(last=False)


def text_digest(text: str) -> bytes:
    """The SHA-256 of a document's text, as clients of persisted queries compute it."""
    # surrogatepass: JSON may carry a lone surrogate, which strict UTF-8 cannot encode.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def stand_in(operation: OperationType, operation_name: str | None) -> DocumentNode:
    """A document for Strawberry to take the operation's type from (under the name the request
    asks for), in place of one refused before it is parsed: with errors set before validation,
    it is neither validated nor run."""
    name = None if operation_name is None else NameNode(value=operation_name)
    selections = SelectionSetNode(selections=())
    definition = OperationDefinitionNode(operation=operation, name=name, selection_set=selections)
    return DocumentNode(definitions=(definition,))


# Valid documents, by their text.
ValidDocuments: TypeAlias = Recent[str, DocumentNode]


class DocumentCache(SchemaExtension):
    """Skips parsing and validating a document that was valid before. Runs after QueryCost,
    which analyses every document, cached or not, with the request's own variables."""

    def __init__(self, documents: ValidDocuments) -> None:
        self.documents = documents
        self.cached = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            document = self.documents.get(context.query)
            if document is not None:
                context.graphql_document = document
                self.cached = True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.cached and context.pre_execution_errors is None:
            context.pre_execution_errors = []  # validated before: Strawberry skips it
        yield
        valid = context.pre_execution_errors == []
        if not self.cached and valid and context.query and context.graphql_document:
            self.documents.keep(context.query, context.graphql_document)
