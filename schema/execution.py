"""graphql-core's executor (as Strawberry runs it) with a shortcut for the commonest field of a
page: a scalar or enum read straight off its object (`Article.title`, `Profile.username`).

graphql-core gives each such field a GraphQLResolveInfo, calls Strawberry's resolver (which
only reads the attribute), then completes the value through the non-null, list and leaf checks
in turn: a page of 20 articles has some 260 fields, and that work was a large part of what a
GraphQL page cost more than its REST twin. Here such a field reads the attribute and serializes
it with its type, with graphql-core's own errors (message, path, locations) when it is null in
a non-null field or cannot be serialized. Every other field, and every field while a schema
extension resolves fields itself (graphql-core's middleware), runs as before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, UndefinedType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# The name of the resolver Strawberry gives a field with no resolver, no field extensions and
# no exception handlers (GraphQLCoreConverter.from_resolver): it only reads the attribute.
_BASIC_RESOLVER = "_get_basic_result"


@dataclass(frozen=True, slots=True)
class _Leaf:
    """How Strawberry's basic resolver reads the field, and the type that serializes it."""

    read: Callable[[Any, str], Any]
    attribute: str
    type: GraphQLLeafType
    non_null: bool


# By schema, the leaf fields read off their objects: by the id of their GraphQLField, which the
# schema keeps alive as long as this entry.
_LEAVES: WeakKeyDictionary[GraphQLSchema, dict[int, _Leaf]] = WeakKeyDictionary()


class LeafFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        resolved_elsewhere = middleware is not None and bool(middleware.middlewares)
        self._leaves = {} if resolved_elsewhere else _leaves_of(self.schema)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any | UndefinedType:
        node = field_details_list[0].node
        field_def = self.schema.get_field(parent_type, node.name.value)
        leaf = None if field_def is None else self._leaves.get(id(field_def))
        if leaf is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        assert field_def is not None  # a leaf is one of the schema's fields
        try:
            result = leaf.read(source, leaf.attribute)
            if self.is_awaitable(result):
                # Never for the schema's types; as graphql-core would, should one appear.
                return super().execute_field(
                    parent_type, source, field_details_list, path, position_context
                )
            # What graphql-core's complete_value does for a leaf type, non-null or not.
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                if leaf.non_null:
                    raise TypeError(
                        "Cannot return null for non-nullable field"
                        f" {parent_type}.{node.name.value}."
                    )
                return None
            return self.complete_leaf_value(leaf.type, result)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_def.type, field_details_list, path)
            return None


def _leaves_of(schema: GraphQLSchema) -> dict[int, _Leaf]:
    leaves = _LEAVES.get(schema)
    if leaves is None:
        leaves = _LEAVES[schema] = {
            id(field): leaf
            for named in schema.type_map.values()
            if isinstance(named, GraphQLObjectType)
            for field in named.fields.values()
            if (leaf := _leaf(field)) is not None
        }
    return leaves


def _leaf(field: GraphQLField) -> _Leaf | None:
    """How to read `field` if it is a leaf that Strawberry's basic resolver reads."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field.resolve
    basic = (
        isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and getattr(resolve, "_is_default", False)
        and getattr(resolve, "__name__", None) == _BASIC_RESOLVER
    )
    named = get_nullable_type(field.type)
    if not basic or not is_leaf_type(named):
        return None
    assert isinstance(definition, StrawberryField)
    return _Leaf(
        definition.default_resolver,
        definition.python_name,
        named,
        is_non_null_type(field.type),
    )
