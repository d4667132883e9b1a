"""The operations the project ships (docs/operations): each one named operation that fits the
schema, with example variables it accepts; their manifest current; and the examples of
docs/graphql.md the very same operations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, get_variable_values, parse, print_ast, validate
from graphql.execution.values import VariableValues
from starlette.testclient import TestClient

from app import create_app
from config import SHIPPED_OPERATIONS
from models.ids import Kind, global_id
from schema import schema
from schema.operations import (
    OPERATIONS,
    NotAShippedOperation,
    examples,
    manifest_of,
    manifest_text,
    shipped_operation,
)
from tests.conftest import separate_sqlite_files

FILES = sorted(OPERATIONS.glob("*.graphql"))
GUIDE = Path(__file__).resolve().parent.parent / "docs" / "graphql.md"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_operation_fits_the_schema(path: Path) -> None:
    operation, body = shipped_operation(path)
    assert validate(schema._schema, parse(body)) == []
    assert operation.name is not None
    assert operation.name.value == path.stem


def test_every_operation_has_example_variables_opening_with_register() -> None:
    """GraphiQL's tabs, in this order: Register first, whose token the others can use."""
    assert sorted(examples()) == [path.stem for path in FILES]
    assert next(iter(examples())) == "Register"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_operations_example_variables_are_valid_for_it(path: Path) -> None:
    operation, _ = shipped_operation(path)
    variables = examples()[path.stem]
    definitions = operation.variable_definitions or ()
    declared = {d.variable.name.value for d in definitions}
    assert set(variables) <= declared  # an unknown name would be ignored, not refused
    coerced = get_variable_values(schema._schema, definitions, variables)
    assert isinstance(coerced, VariableValues), coerced  # a list of errors otherwise


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


def test_the_examples_run_in_order_on_a_fresh_database(tmp_path: Path) -> None:
    """As GraphiQL's tabs offer them, each with the token Register answers; ArticleById's id
    is the article CreateArticle made, the first. Subscriptions run over a WebSocket only: the
    browser test of tests/test_graphiql.py runs CommentAdded."""
    assert examples()["ArticleById"] == {"id": global_id(Kind.ARTICLE, 1)}
    answers = {}
    with TestClient(create_app(separate_sqlite_files(tmp_path))) as http:
        headers: dict[str, str] = {}
        for name, variables in examples().items():
            operation, body = shipped_operation(OPERATIONS / f"{name}.graphql")
            if operation.operation.value == "subscription":
                continue
            response = http.post(
                "/graphql", json={"query": body, "variables": variables}, headers=headers
            )
            assert "errors" not in response.json(), (name, response.json())
            answers[name] = response.json()["data"]
            if name == "Register":
                headers["Authorization"] = f"Bearer {answers[name]['register']['token']}"
    assert answers["ArticleById"]["node"]["slug"] == examples()["ArticlePage"]["slug"]
