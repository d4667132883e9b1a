"""Persisted queries: Apollo's Automatic Persisted Queries protocol, and trusted documents.

A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": …}`: with the hash
alone, a document this process knows by that hash runs without being parsed or validated again
(it is kept parsed and validated); an unknown one is answered PersistedQueryNotFound, and the
client sends the text with the hash, which is checked, run like any text and, once valid, kept.
The store is per process and bounded: with several workers each learns a document on its own,
and a client whose hash a worker has forgotten just sends the text again.

With trusted documents (CONDUIT_GRAPHQL_TRUSTED_DOCUMENTS), only the documents of a manifest
run, by hash or by a text whose hash the manifest holds; nothing is learned from requests.
Either way the document is costed and held to the limits as a text would be (QueryCost)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError, OperationType
from strawberry.extensions import SchemaExtension

from schema.documents import Recent, stand_in, text_digest

# Apollo Server's message and code: apollo-link-persisted-queries (and other APQ clients)
# look for either, then send the text.
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
BAD_REQUEST = "BAD_REQUEST"
VERSION = 1
# Documents learned from clients, kept parsed: as many as DocumentCache keeps by their text.
PERSISTED_DOCUMENTS = 256
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class BadPersistedQuery(ValueError):
    """`extensions.persistedQuery` breaks the protocol: the request is at fault."""


@dataclass(frozen=True, slots=True)
class Persisted:
    """A document known by its hash, parsed and valid against the schema."""

    text: str
    document: DocumentNode


# By the lowercase hex SHA-256 of their text.
PersistedDocuments = Recent[str, Persisted]


def sha256_hex(text: str) -> str:
    return text_digest(text).hex()


def requested_hash(extensions: Mapping[str, object] | None, text: str | None) -> str | None:
    """The hash `extensions.persistedQuery` asks for, if any; BadPersistedQuery for another
    version, a hash that is not a SHA-256 in lowercase hex, or one that is not `text`'s."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        raise BadPersistedQuery("`extensions.persistedQuery` must be an object")
    version = persisted.get("version")
    # type(): JSON's true would pass for 1, and 1.0 is no version a client sends.
    if type(version) is not int or version != VERSION:
        raise BadPersistedQuery(
            f"Unsupported persisted query version {version!r}: only version {VERSION} is"
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
        raise BadPersistedQuery(
            "`extensions.persistedQuery.sha256Hash` must be the SHA-256 of the query text "
            "in lowercase hex (64 characters)"
        )
    if text is not None and sha256_hex(text) != digest:
        raise BadPersistedQuery(
            "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of the query text sent "
            "with it (of its UTF-8 bytes, exactly as sent)"
        )
    return digest


class PersistedQueries(SchemaExtension):
    """Finds the document a request names by hash, or refuses it; with `trusted`, refuses any
    document the manifest lacks. Runs after QueryCost, which costs the document found here as
    any other (and, with its errors set, Strawberry neither validates nor runs a refused one).
    (A fresh instance serves each operation.)"""

    def __init__(self, known: PersistedDocuments, trusted: Mapping[str, Persisted] | None) -> None:
        self.known = known
        self.trusted = trusted
        self.found = False
        self._learn: str | None = None  # the hash to keep the document under once valid

    def on_operation(self) -> Iterator[None]:
        # Before Strawberry looks for a query: a request with a hash alone has none yet.
        context = self.execution_context
        try:
            digest = requested_hash(context.operation_extensions, context.query)
        except BadPersistedQuery as error:
            self._refuse(str(error), BAD_REQUEST)
            yield
            return
        found: Persisted | None = None
        if self.trusted is not None:
            key = digest or (None if context.query is None else sha256_hex(context.query))
            found = None if key is None else self.trusted.get(key)
            if found is None and key is not None:
                self._refuse(
                    "Only the operations of this server's trusted documents run here: "
                    "this one is not among them",
                    NOT_ALLOWED,
                )
        elif digest is not None:
            found = self.known.get(digest)
            if found is None and context.query is None:
                self._refuse(NOT_FOUND_MESSAGE, NOT_FOUND)
            elif found is None:
                self._learn = digest
        if found is not None:
            context.query = found.text
            context.graphql_document = found.document
            self.found = True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.found and context.pre_execution_errors is None:
            context.pre_execution_errors = []  # validated when it was kept: Strawberry skips it
        yield
        document = context.graphql_document
        if self._learn and context.pre_execution_errors == [] and context.query and document:
            self.known.keep(self._learn, Persisted(context.query, document))

    def _refuse(self, message: str, code: str) -> None:
        context = self.execution_context
        context.graphql_document = stand_in(OperationType.QUERY, context.operation_name)
        context.pre_execution_errors = [GraphQLError(message, extensions={"code": code})]
