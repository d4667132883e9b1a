"""graphql-core's executor (as Strawberry runs it) with a shortcut for the commonest field of a
page: a scalar or enum, or a list of them, read straight off its object (`Article.title`,
`Profile.username`, `Article.tagList`).

graphql-core gives each such field a GraphQLResolveInfo, calls Strawberry's resolver (which
only reads the attribute), then completes the value through the non-null, list and leaf checks
in turn: a page of 20 articles has some 260 fields, and that work was a large part of what a
GraphQL page cost more than its REST twin. Here such a field reads the attribute and serializes
it (each item of a list) with its type, with graphql-core's own errors (message, path,
locations) when it is null where it may not be or cannot be serialized. Every other field,
and every field while a schema extension resolves fields itself (graphql-core's middleware),
runs as before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNullableType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLStreamDirective,
    GraphQLString,
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
# graphql-core's scalars that serialize a value of this Python type as it is.
_AS_THEY_ARE = ((GraphQLString, str), (GraphQLBoolean, bool), (GraphQLID, str))


@dataclass(frozen=True, slots=True)
class _Leaf:
    """How Strawberry's basic resolver reads the field, and the leaf type that serializes it
    (each item's, for a list of leaves: `items` is then the items' type, NonNull or not)."""

    read: Callable[[Any, str], Any]
    attribute: str
    leaf_type: GraphQLLeafType
    non_null: bool
    items: GraphQLOutputType | None
    # The values that `leaf_type` serializes as they are (a str for String), if any.
    native: type | None


# By schema, the leaf fields read off their objects: by the id of their GraphQLField, which the
# schema keeps alive as long as this entry.
_LEAVES: WeakKeyDictionary[GraphQLSchema, dict[int, _Leaf]] = WeakKeyDictionary()


class LeafFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        resolved_elsewhere = middleware is not None and bool(middleware.middlewares)
        self._leaves = {} if resolved_elsewhere else _leaves_of(self.schema)
        self._streams = _streams(self.schema)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any | UndefinedType:
        node = field_details_list[0].node
        name = node.name.value
        field_def = self.schema.get_field(parent_type, name)
        leaf = None if field_def is None else self._leaves.get(id(field_def))
        if leaf is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        assert field_def is not None  # a leaf is one of the schema's fields
        try:
            result = leaf.read(source, leaf.attribute)
            if self.is_awaitable(result) or (leaf.items is not None and self._not_plain(result)):
                # Never for the schema's types: graphql-core's way, should one appear (reading
                # the attribute again, a plain read).
                return super().execute_field(
                    parent_type, source, field_details_list, path, position_context
                )
            if leaf.items is None and type(result) is leaf.native:
                return result
            if _is_null(result, leaf.non_null, parent_type, name):
                return None
            if leaf.items is None:
                return self.complete_leaf_value(leaf.leaf_type, result)
            field = (parent_type, name, field_details_list)
            return self._completed_items(leaf.items, result, field, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_def.type, field_details_list, path)
            return None

    def _not_plain(self, result: Any) -> bool:
        """Whether a list field's value needs more than graphql-core's plain completion of
        each item: a value that is no list, or one with an item to await."""
        if result is None or isinstance(result, Exception):
            return False
        is_awaitable = self.is_awaitable
        return type(result) is not list or any(is_awaitable(item) for item in result)

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's, but a plain list of leaves that a resolver returned (`Query.tags`)
        is completed as the leaf fields' are."""
        item_type = return_type.of_type
        if (
            self._streams
            or not is_leaf_type(get_nullable_type(item_type))
            or self._not_plain(result)
        ):
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )
        field = (info.parent_type, info.field_name, field_details_list)
        return self._completed_items(item_type, result, field, path)

    def _completed_items(
        self,
        item_type: GraphQLOutputType,
        items: list[Any],
        field: tuple[GraphQLObjectType, str, FieldDetailsList],
        path: Path,
    ) -> list[Any]:
        """Each leaf item as graphql-core completes it: an error is located at the item's
        index, and nulls the whole list (raised to the field) if the items are non-null."""
        parent_type, name, field_details_list = field
        non_null = is_non_null_type(item_type)
        leaf_type = cast("GraphQLLeafType", get_nullable_type(item_type))  # the callers' check
        native = _native(leaf_type)
        completed: list[Any] = []
        for index, item in enumerate(items):
            try:
                if type(item) is native:
                    completed.append(item)
                elif _is_null(item, non_null, parent_type, name):
                    completed.append(None)
                else:
                    completed.append(self.complete_leaf_value(leaf_type, item))
            except Exception as raw_error:
                item_path = path.add_key(index, None)
                self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                completed.append(None)
        return completed


def _is_null(value: Any, non_null: bool, parent_type: Any, name: str) -> bool:
    """Whether graphql-core's complete_value makes null of `value`: raises what it raises for
    an exception held as a value, or a null where `non_null` forbids one."""
    if isinstance(value, Exception):
        raise value
    if value is None or value is Undefined:
        if non_null:
            raise TypeError(f"Cannot return null for non-nullable field {parent_type}.{name}.")
        return True
    return False


def _leaves_of(schema: GraphQLSchema) -> dict[int, _Leaf]:
    leaves = _LEAVES.get(schema)
    if leaves is None:
        lists = not _streams(schema)
        leaves = _LEAVES[schema] = {
            id(field): leaf
            for named in schema.type_map.values()
            if isinstance(named, GraphQLObjectType)
            for field in named.fields.values()
            if (leaf := _leaf(field, lists)) is not None
        }
    return leaves


def _leaf(field: GraphQLField, lists: bool) -> _Leaf | None:
    """How to read `field` if it is a leaf, or (with `lists`) a list of leaves, that
    Strawberry's basic resolver reads."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field.resolve
    if not (
        isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and getattr(resolve, "_is_default", False)
        and getattr(resolve, "__name__", None) == _BASIC_RESOLVER
    ):
        return None
    named = get_nullable_type(field.type)
    items: GraphQLOutputType | None = None
    if lists and isinstance(named, GraphQLList):
        items = named.of_type
        named = get_nullable_type(items)
    if not is_leaf_type(named):
        return None
    return _Leaf(
        definition.default_resolver,
        definition.python_name,
        named,
        is_non_null_type(field.type),
        items,
        _native(named),
    )


def _native(leaf_type: GraphQLNullableType) -> type | None:
    return next((kind for scalar, kind in _AS_THEY_ARE if leaf_type is scalar), None)


def _streams(schema: GraphQLSchema) -> bool:
    """Whether a query may stream a list (@stream): then lists are left to graphql-core."""
    return schema.get_directive(GraphQLStreamDirective.name) is not None
