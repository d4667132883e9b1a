"""The executor's shortcut for leaf fields (schema/execution.py) answers exactly as graphql-core
does without it: each operation runs on a small schema with it and without it, and the two
results (data, and every error's message, path and locations) must be equal; on the app's own
schema, the same fields over GraphQL carry REST's values."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from enum import Enum
from typing import Any, cast

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.execution import LeafFieldsExecutor
from schema.scalars import DATETIME
from tests.conftest import Api

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

NULL_IN_NON_NULL = "Cannot return null for non-nullable field"
WHEN = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


@strawberry.enum
class Colour(Enum):
    RED = "red"
    DEEP_BLUE = "deep blue"


@strawberry.type
class Item:
    name: str
    label: str | None
    count: int
    colour: Colour
    shade: Colour | None
    at: datetime
    seen: datetime | None
    tags: list[str]
    notes: list[str | None] | None
    counts: list[int]
    key: strawberry.ID
    flag: bool

    @strawberry.field
    def greeting(self, to: str = "you") -> str:
        return f"{self.name} greets {to}"


@strawberry.type
class Holder:
    item: Item
    maybe: Item | None


def _item(**changes: Any) -> Item:
    fields: dict[str, Any] = {
        "name": "first",
        "label": None,
        "count": 3,
        "colour": Colour.DEEP_BLUE,
        "shade": None,
        "at": WHEN,
        "seen": None,
        "tags": ["a", "b"],
        "notes": None,
        "counts": [1, 2],
        "key": strawberry.ID("k1"),
        "flag": False,
        **changes,
    }
    return Item(**fields)


def _query_type(items: list[Item]) -> type:
    @strawberry.type
    class Query:
        @strawberry.field
        def items(self) -> list[Item]:
            return items

        @strawberry.field
        def holders(self) -> list[Holder]:
            return [Holder(item=item, maybe=item) for item in items]

        @strawberry.field
        def names(self) -> list[str]:
            return [item.name for item in items]

        @strawberry.field
        def grid(self) -> list[list[str | None]] | None:
            # Not only strings: what String is given, graphql-core converts or refuses.
            rows: list[list[Any]] = [[item.name, item.label, item.colour] for item in items]
            return rows

        @strawberry.field
        def letters(self) -> list[str]:
            # Text is no list to graphql-core, though Python iterates it.
            text: Any = items[0].name
            return cast("list[str]", text)

        @strawberry.field
        def later(self) -> list[str]:
            # Items to await, as graphql-core allows.
            awaited: list[Any] = [_later(item.name) for item in items]
            return awaited

        @strawberry.field
        def colours(self) -> list[Colour | None]:
            return [item.shade for item in items]

    return Query


async def _later(value: str) -> str:
    return value


def _both(query: str, items: list[Item]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The result of `query` with graphql-core's own execution, and with the shortcut."""
    results = []
    for executor in (StrawberryGraphQLCoreExecutionContext, LeafFieldsExecutor):
        schema = strawberry.Schema(
            query=_query_type(items),
            execution_context_class=executor,
            config=StrawberryConfig(scalar_map={datetime: DATETIME}),
        )
        result = asyncio.run(schema.execute(query))
        results.append(
            {
                "data": result.data,
                "errors": [e.formatted for e in result.errors or []],
            }
        )
    return results[0], results[1]


def test_leaves_serialize_as_graphql_core_does() -> None:
    query = "{ items { name label count colour shade at seen tags } }"
    plain, shortcut = _both(query, [_item(), _item(label="x", shade=Colour.RED, seen=WHEN)])
    assert shortcut == plain
    assert shortcut["data"]["items"][1] == {
        "name": "first",
        "label": "x",
        "count": 3,
        "colour": "DEEP_BLUE",
        "shade": "RED",
        "at": "2026-01-02T03:04:05.678Z",
        "seen": "2026-01-02T03:04:05.678Z",
        "tags": ["a", "b"],
    }


def test_lists_of_leaves_complete_as_graphql_core_does() -> None:
    query = "{ holders { maybe { tags notes counts } } }"
    items = [
        _item(notes=["x", None]),
        # A null item where none may be: the list, then the item, is null.
        _item(tags=["a", None, "c"]),
        # An item its type cannot serialize, where items may be null.
        _item(notes=["y", {"a": 1}], counts=[1, "two"]),
        # Not lists: a tuple, which graphql-core takes as any iterable, and a string, which
        # it refuses.
        _item(tags=("t", "u"), notes="text"),
        _item(tags=[ValueError("held item")]),
    ]
    plain, shortcut = _both(query, items)
    assert shortcut == plain
    assert [h["maybe"] for h in shortcut["data"]["holders"]] == [
        {"tags": ["a", "b"], "notes": ["x", None], "counts": [1, 2]},
        None,
        None,
        {"tags": ["t", "u"], "notes": None, "counts": [1, 2]},
        None,
    ]
    assert [(e["path"], e["message"]) for e in shortcut["errors"]] == [
        (["holders", 1, "maybe", "tags", 1], f"{NULL_IN_NON_NULL} Item.tags."),
        (["holders", 2, "maybe", "notes", 1], "String cannot represent value: {'a': 1}"),
        (["holders", 2, "maybe", "counts", 1], "Int cannot represent non-integer value: 'two'"),
        (
            ["holders", 3, "maybe", "notes"],
            "Expected Iterable, but did not find one for field 'Item.notes'.",
        ),
        (["holders", 4, "maybe", "tags", 0], "held item"),
    ]


def test_lists_of_leaves_from_resolvers_complete_as_graphql_core_does() -> None:
    plain, shortcut = _both("{ colours grid }", [_item(shade=Colour.RED), _item(label=5)])
    assert shortcut == plain
    assert shortcut["data"] == {
        "colours": ["RED", None],
        "grid": [["first", None, "Colour.DEEP_BLUE"], ["first", "5", "Colour.DEEP_BLUE"]],
    }
    plain, shortcut = _both("{ later }", [_item(), _item(name="second")])
    assert shortcut == plain
    assert shortcut["data"] == {"later": ["first", "second"]}
    plain, shortcut = _both("{ letters }", [_item()])
    assert shortcut == plain
    assert shortcut["errors"][0]["message"].startswith("Expected Iterable")
    # A null item where none may be: the list is null, and with it the data.
    plain, shortcut = _both("{ names }", [_item(), _item(name=None)])
    assert shortcut == plain
    assert shortcut["data"] is None
    assert [e["path"] for e in shortcut["errors"]] == [["names", 1]]
    # Items their types cannot serialize, where items may be null, one in a nested list.
    items = [_item(shade="green"), _item(label=object)]
    plain, shortcut = _both("{ colours grid }", items)
    assert shortcut == plain
    assert shortcut["data"] == {
        "colours": [None, None],
        "grid": [["first", None, "Colour.DEEP_BLUE"], ["first", None, "Colour.DEEP_BLUE"]],
    }
    assert [(e["path"], e["message"]) for e in shortcut["errors"]] == [
        (["colours", 0], "Enum 'Colour' cannot represent value: 'green'"),
        (["grid", 1, 1], "String cannot represent value: <class object>"),
    ]


def test_values_of_other_types_are_converted_as_graphql_core_does() -> None:
    """String, Boolean and ID give back their own Python type as it is; anything else goes
    through graphql-core's conversion."""
    query = "{ items { name key flag tags } }"
    items = [_item(name=True, key=5, flag=1, tags=[2.5, False]), _item(name=7, flag=0.0)]
    plain, shortcut = _both(query, items)
    assert shortcut == plain
    assert shortcut["data"]["items"] == [
        {"name": "true", "key": "5", "flag": True, "tags": ["2.5", "false"]},
        {"name": "7", "key": "k1", "flag": False, "tags": ["a", "b"]},
    ]


def test_aliases_typename_and_arguments_are_kept() -> None:
    query = """{ items { __typename n: name name again: name c: colour
        greeting hi: greeting(to: "all") } }"""
    plain, shortcut = _both(query, [_item()])
    assert shortcut == plain
    assert shortcut["data"]["items"] == [
        {
            "__typename": "Item",
            "n": "first",
            "name": "first",
            "again": "first",
            "c": "DEEP_BLUE",
            "greeting": "first greets you",
            "hi": "first greets all",
        }
    ]


def test_a_null_in_a_non_null_leaf_is_graphql_cores_error() -> None:
    """The error's message, path (through the list) and location, and the null it leaves in
    the nearest nullable parent."""
    query = "{ holders { maybe { count name } } }"
    plain, shortcut = _both(query, [_item(), _item(name=None)])
    assert shortcut == plain
    first = {"maybe": {"count": 3, "name": "first"}}
    assert shortcut["data"] == {"holders": [first, {"maybe": None}]}
    [error] = shortcut["errors"]
    assert error["message"] == f"{NULL_IN_NON_NULL} Item.name."
    assert error["path"] == ["holders", 1, "maybe", "name"]
    assert error["locations"] == [{"line": 1, "column": 27}]


def test_a_null_through_an_alias_is_located_at_the_alias() -> None:
    query = "{ holders { maybe { called: name } } }"
    plain, shortcut = _both(query, [_item(name=None)])
    assert shortcut == plain
    assert shortcut["errors"][0]["path"] == ["holders", 0, "maybe", "called"]
    assert shortcut["errors"][0]["message"].endswith("Item.name.")


def test_a_null_with_no_nullable_parent_nulls_the_data() -> None:
    plain, shortcut = _both("{ items { count name } }", [_item(count=None)])
    assert shortcut == plain
    assert shortcut["data"] is None
    assert shortcut["errors"][0]["path"] == ["items", 0, "count"]


def test_a_value_its_type_cannot_serialize_is_graphql_cores_error() -> None:
    query = "{ holders { maybe { count colour } } }"
    plain, shortcut = _both(query, [_item(count="three"), _item(colour="green")])
    assert shortcut == plain
    assert [e["path"] for e in shortcut["errors"]] == [
        ["holders", 0, "maybe", "count"],
        ["holders", 1, "maybe", "colour"],
    ]
    assert "Int cannot represent non-integer value: 'three'" in shortcut["errors"][0]["message"]


def test_an_exception_held_in_a_field_is_its_error() -> None:
    plain, shortcut = _both("{ holders { maybe { label } } }", [_item(label=ValueError("held"))])
    assert shortcut == plain
    assert shortcut["errors"][0]["message"] == "held"
    assert shortcut["data"] == {"holders": [{"maybe": {"label": None}}]}


def test_leaves_are_read_without_a_resolve_info(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shortcut is taken: only the fields that are not leaves read off their object (the
    root list, each holder's item) get graphql-core's resolve info."""
    built: list[str] = []
    original = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def counted(self: Any, field_def: Any, field_nodes: Any, parent_type: Any, path: Any) -> Any:
        built.append(f"{parent_type.name}.{field_nodes[0].name.value}")
        return original(self, field_def, field_nodes, parent_type, path)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "build_resolve_info", counted)
    schema = strawberry.Schema(
        query=_query_type([_item(), _item()]),
        execution_context_class=LeafFieldsExecutor,
        config=StrawberryConfig(scalar_map={datetime: DATETIME}),
    )
    result = asyncio.run(schema.execute("{ holders { item { name count colour at } } }"))
    assert result.errors is None
    assert built == ["Query.holders", "Holder.item", "Holder.item"]


def test_graphql_carries_rests_values_for_the_same_article(api: Api) -> None:
    """On the app's schema: aliases, `__typename`, the DateTime scalar and a field with
    arguments beside the leaves, each the value REST gives."""
    alice = api.register("alice")
    slug = api.publish(alice, "Leaves", ["b-tag", "a-tag"])
    rest = api.http.get(f"/api/articles/{slug}").json()["article"]
    body = api.graphql(
        """query($slug: String!) { article(slug: $slug) {
            __typename slug t: title description body createdAt at: updatedAt tagList
            favorited favoritesCount author { __typename username bio image following }
            comments(first: 1) { totalCount pageInfo { hasNextPage endCursor } } } }""",
        {"slug": slug},
    )
    assert "errors" not in body
    got = body["data"]["article"]
    assert got == {
        "__typename": "Article",
        "slug": rest["slug"],
        "t": rest["title"],
        "description": rest["description"],
        "body": rest["body"],
        "createdAt": rest["createdAt"],
        "at": rest["updatedAt"],
        "tagList": rest["tagList"],
        "favorited": rest["favorited"],
        "favoritesCount": rest["favoritesCount"],
        "author": {"__typename": "Profile", **rest["author"]},
        "comments": {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}},
    }
