"""The operations the project ships (docs/operations): each one named operation that fits the
schema, their manifest current, and the examples of docs/graphql.md the very same operations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse, print_ast, validate

from config import SHIPPED_OPERATIONS
from schema import schema
from schema.operations import (
    OPERATIONS,
    NotAShippedOperation,
    manifest_of,
    manifest_text,
    shipped_operation,
)

FILES = sorted(OPERATIONS.glob("*.graphql"))
GUIDE = Path(__file__).resolve().parent.parent / "docs" / "graphql.md"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_operation_fits_the_schema(path: Path) -> None:
    operation, body = shipped_operation(path)
    assert validate(schema._schema, parse(body)) == []
    assert operation.name is not None
    assert operation.name.value == path.stem


def test_the_manifest_is_current() -> None:
    assert SHIPPED_OPERATIONS.read_text() == manifest_text(manifest_of(OPERATIONS)), (
        "docs/operations/manifest.json is behind the operations: run python3 dev.py operations"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("query Other { tags }", "the operation is Other"),
        ("{ tags }", "expected one named operation"),
        ("query Tags { tags } query More { tags }", "expected one named operation"),
        ("fragment F on Query { tags }", "expected one named operation"),
        ("query Tags {", "Syntax Error"),
    ],
)
def test_a_file_that_is_not_one_operation_named_after_it_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "Tags.graphql"
    path.write_text(text)
    with pytest.raises(NotAShippedOperation, match=message):
        shipped_operation(path)


def test_the_guides_examples_are_the_shipped_operations() -> None:
    """Every operation in docs/graphql.md's GraphQL blocks is a file of docs/operations, as
    printed; and every file is shown there."""
    blocks = re.findall(r"```graphql\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)
    shown = {
        definition.name.value: print_ast(definition)
        for block in blocks
        for definition in parse(block).definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None
    }
    shipped = {path.stem: shipped_operation(path)[1] for path in FILES}
    assert shown == shipped
