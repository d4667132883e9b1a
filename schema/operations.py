"""The GraphQL operations the project ships: docs/operations/*.graphql, one operation per file,
named after it, and their manifest, the trusted documents of
CONDUIT_GRAPHQL_TRUSTED_DOCUMENTS=on. The manifest is in the format of Apollo's persisted query
manifests (what @apollo/generate-persisted-query-manifest writes), so a client can take the
same ids from it. Each body is the file's operation as graphql-core prints it, which for these
operations is how graphql-js prints it too, so that a client that hashes `print(document)`
sends the manifest's id: clients/typescript/manifest-ids.mjs checks that with graphql-js in CI.
(Not for an object literal: graphql-core 3.3 prints `{ a: 1 }`, graphql-js 16 `{a: 1}`; the
shipped operations take their inputs as variables.) Beside them, examples.json holds example
variables for each, which run as they are: GraphiQL opens with one tab per operation, in that
file's order.

    python3 dev.py operations    # docs/operations/manifest.json, again after editing a file
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse, print_ast

from config import SHIPPED_OPERATIONS, ConfigError
from schema.persisted import VERSION, sha256_hex

OPERATIONS = SHIPPED_OPERATIONS.parent
EXAMPLES = OPERATIONS / "examples.json"
FORMAT = "apollo-persisted-query-manifest"


class NotAShippedOperation(ValueError):
    """A file of docs/operations that is not one operation named after the file."""


def shipped_operation(path: Path) -> tuple[OperationDefinitionNode, str]:
    """The file's one operation and its body as the manifest holds it."""
    try:
        document = parse(path.read_text(encoding="utf-8"))
    except GraphQLError as error:
        raise NotAShippedOperation(f"{path.name}: {error.message}") from None
    [*operations] = document.definitions
    operation = operations[0] if len(operations) == 1 else None
    if not isinstance(operation, OperationDefinitionNode) or operation.name is None:
        raise NotAShippedOperation(f"{path.name}: expected one named operation, and only it")
    if operation.name.value != path.stem:
        raise NotAShippedOperation(f"{path.name}: the operation is {operation.name.value}")
    return operation, print_ast(document)


def examples() -> dict[str, dict[str, Any]]:
    """Each operation's name and example variables ({} if it needs none), in EXAMPLES' order."""
    loaded: dict[str, dict[str, Any]] = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    return loaded


def manifest_of(directory: Path) -> dict[str, Any]:
    operations = []
    for path in sorted(directory.glob("*.graphql")):
        operation, body = shipped_operation(path)
        assert operation.name is not None  # shipped_operation checked it
        operations.append(
            {
                "id": sha256_hex(body),
                "name": operation.name.value,
                "type": operation.operation.value,
                "body": body,
            }
        )
    return {"format": FORMAT, "version": VERSION, "operations": operations}


def manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def read_manifest(path: Path) -> dict[str, str]:
    """A manifest's documents by their ids, each checked to be its body's SHA-256."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"trusted documents {str(path)!r}: {error}") from None
    valid = isinstance(manifest, dict) and manifest.get("format") == FORMAT
    operations = manifest.get("operations") if valid else None
    if not isinstance(operations, list):
        raise ConfigError(f"trusted documents {str(path)!r}: not a {FORMAT}")
    documents = {}
    for operation in operations:
        body = operation.get("body") if isinstance(operation, dict) else None
        if not isinstance(body, str) or operation.get("id") != sha256_hex(body):
            raise ConfigError(
                f"trusted documents {str(path)!r}: each operation needs a body and, as its "
                "id, the body's SHA-256 in lowercase hex"
            )
        documents[operation["id"]] = body
    return documents


def main() -> int:
    manifest = manifest_of(OPERATIONS)
    SHIPPED_OPERATIONS.write_text(manifest_text(manifest), encoding="utf-8")
    print(f"docs/operations/manifest.json: {len(manifest['operations'])} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
