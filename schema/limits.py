"""What an operation may cost, checked before any field runs: depth, aliases, and the worst-case
number of nodes its connections can return (GitHub's rule: nested connections multiply).

One pass over the operation computes all of it, and each fragment is analysed once however
often it is spread (a spread adds its fragment's figures, scaled by the connections around it),
so a document whose fragments each spread the previous one twice costs time in proportion to
its length, not 2^n. It runs before graphql-core's validation, which costs tens of
milliseconds for such a document: what is refused here is never validated. So it takes any
parsed document (the parser allows at most 200 levels of nesting): an unknown fragment, a
fragment that spreads itself, or a field its type lacks count for no nodes, and validation
reports them afterwards.

An operation refused for its document alone (its depth or aliases, or nodes that no variable
sizes) is remembered by the digest of its text and operation name, with its figures and where
the error points, but not its AST: the same text sent again is refused as it was the first
time, before it is parsed."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Source,
    ValueNode,
    VariableNode,
    get_named_type,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from config import (
    DEFAULT_GRAPHQL_MAX_ALIASES,
    DEFAULT_GRAPHQL_MAX_DEPTH,
    DEFAULT_GRAPHQL_MAX_NODES,
)
from models.errors import RateLimited
from models.ids import MAX_NODE_IDS
from models.pages import MAX_PAGE_SIZE
from ratelimits.limiter import Budget
from resolvers import limits as rate_limits
from schema.documents import Recent, stand_in, text_digest
from schema.errors import VALIDATION_FAILED
from telemetry import tracing

MAX_NODES_EXCEEDED = "MAX_NODE_LIMIT_EXCEEDED"
# The argument that makes a field a connection: its value is how many nodes a page may hold.
_PAGE_SIZE_ARGUMENT = "first"
# The argument that makes a field a list of objects by id (`nodes`): as many as its ids.
_IDS_ARGUMENT = "ids"
# GitHub's points: one per hundred connection pages to read, and never less than one.
_REQUESTS_PER_POINT = 100
# Refused documents remembered (a few hundred bytes each, no AST).
REFUSED_DOCUMENTS = 1024


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int = DEFAULT_GRAPHQL_MAX_DEPTH
    max_aliases: int = DEFAULT_GRAPHQL_MAX_ALIASES
    max_nodes: int = DEFAULT_GRAPHQL_MAX_NODES


@dataclass(frozen=True, slots=True)
class Figures:
    """What one operation may cost. `nodes` and `requests` are for one instance of the
    selection: a selection inside a connection of 20 counts 20 times."""

    depth: int = 0  # fields with a selection set, nested (introspection fields not counted)
    aliases: int = 0
    nodes: int = 0  # connection items the operation can return at most
    requests: int = 0  # connection pages the operation can read at most

    @property
    def points(self) -> int:
        return max(1, math.ceil(self.requests / _REQUESTS_PER_POINT))

    def beside(self, other: Figures) -> Figures:
        """These figures and `other`'s, for two selections side by side."""
        return Figures(
            depth=max(self.depth, other.depth),
            aliases=self.aliases + other.aliases,
            nodes=self.nodes + other.nodes,
            requests=self.requests + other.requests,
        )


@dataclass
class RequestSpend:
    """What the operations of one HTTP request have been allowed so far: a batch counts as the
    sum of its operations. The request has paid one point of its client's request budget
    before any operation runs; `budget` is that budget after the latest spend."""

    nodes: int = 0
    points: int = 0
    budget: Budget | None = None

    def points_to_pay(self, more: int) -> int:
        """What `more` points cost beyond what the request has paid: the first point was paid
        with the request itself."""
        return max(1, self.points + more) - max(1, self.points)


# Set per HTTP request by the view as it charges the request; a batch's operations share it
# (asyncio.gather copies the context variables, not the object they hold).
request_spend: ContextVar[RequestSpend | None] = ContextVar("request_spend", default=None)


@dataclass(frozen=True, slots=True)
class Refused:
    """An operation refused for its document alone, as remembered: what it takes to refuse the
    same text again, exactly as the first time, without parsing it."""

    operation: OperationType
    name: str  # as the error message names it
    position: int | None  # where the operation starts in the text (the error's location)
    figures: Figures


# By the digest of a document's text and the operation name the request gives.
RefusedDocuments = Recent[tuple[bytes, str | None], Refused]


@dataclass
class _Analysis:
    schema: GraphQLSchema
    document: DocumentNode
    variables: Mapping[str, Any]
    # Whether any page size came from a variable: then the figures hold for these values only.
    read_variables: bool = field(init=False, default=False)
    _fragments: dict[str, FragmentDefinitionNode] = field(init=False)
    _analysed: dict[str, Figures] = field(init=False, default_factory=dict)
    _defaults: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        definitions = self.document.definitions
        self._fragments = {
            d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)
        }

    def of_operation(self, operation: OperationDefinitionNode) -> Figures:
        # A variable left out takes its declared default, if that is a plain number.
        for definition in operation.variable_definitions or ():
            default = definition.default_value
            if isinstance(default, IntValueNode):
                self._defaults[definition.variable.name.value] = int(default.value)
        root = self.schema.get_root_type(operation.operation)
        return Figures() if root is None else self._selections(operation.selection_set, root)

    def _selections(self, selections: SelectionSetNode, parent: GraphQLNamedType | None) -> Figures:
        total = Figures()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total = total.beside(self._field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                within = parent if condition is None else self.schema.get_type(condition.name.value)
                total = total.beside(self._selections(selection.selection_set, within))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.beside(self._fragment(selection.name.value))
        return total

    def _fragment(self, name: str) -> Figures:
        """Analysed once, at its first spread. An unknown fragment, or one that spreads itself
        (both left to validation to report), adds nothing."""
        if name not in self._analysed:
            fragment = self._fragments.get(name)
            self._analysed[name] = Figures()  # what a spread of itself within it adds
            if fragment is not None:
                condition = self.schema.get_type(fragment.type_condition.name.value)
                self._analysed[name] = self._selections(fragment.selection_set, condition)
        return self._analysed[name]

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Figures:
        aliases = 1 if node.alias is not None else 0
        name = node.name.value
        if name.startswith("__") or node.selection_set is None:
            # Introspection is bounded by the schema, as Strawberry's depth limiter assumes.
            return Figures(aliases=aliases)
        fields = parent.fields if isinstance(parent, GraphQLObjectType) else {}
        definition = fields.get(name)
        # A field the type lacks (left to validation) still counts for depth and aliases.
        inner = self._selections(
            node.selection_set, None if definition is None else get_named_type(definition.type)
        )
        size = None if definition is None else self._page_size(node, definition)
        if size is None:
            return Figures(inner.depth + 1, aliases + inner.aliases, inner.nodes, inner.requests)
        return Figures(
            depth=inner.depth + 1,
            aliases=aliases + inner.aliases,
            nodes=size + size * inner.nodes,
            requests=1 + size * inner.requests,
        )

    def _page_size(self, node: FieldNode, definition: GraphQLField) -> int | None:
        """How many nodes the connection (or list by ids) at `node` may return; None if it is
        neither. A size the resolver will refuse (0, 1000, 101 ids) counts as at most a full
        page, so that its own clear error reaches the client, not this one."""
        if _IDS_ARGUMENT in definition.args:
            return self._ids_given(node)
        argument = definition.args.get(_PAGE_SIZE_ARGUMENT)
        if argument is None:
            return None
        given = _argument(node, _PAGE_SIZE_ARGUMENT)
        value: Any = argument.default_value
        if isinstance(given, IntValueNode):
            value = int(given.value)
        elif isinstance(given, VariableNode):
            self.read_variables = True
            variable = given.name.value
            value = self.variables.get(variable, self._defaults.get(variable, MAX_PAGE_SIZE))
        if not isinstance(value, int) or isinstance(value, bool):
            return MAX_PAGE_SIZE
        return min(max(value, 0), MAX_PAGE_SIZE)

    def _ids_given(self, node: FieldNode) -> int:
        """How many ids `node` passes, as a list or a variable holding one (a single id is a
        list of one, as GraphQL's input coercion has it)."""
        given = _argument(node, _IDS_ARGUMENT)
        count = MAX_NODE_IDS
        if isinstance(given, ListValueNode):
            count = len(given.values)
        elif isinstance(given, VariableNode):
            self.read_variables = True
            value = self.variables.get(given.name.value)
            count = len(value) if isinstance(value, list) else 1
        elif given is not None:
            count = 1
        return min(count, MAX_NODE_IDS)


class QueryCost(SchemaExtension):
    """Refuses an operation over the limits before it runs, and reports what each one cost in
    `extensions.cost`. (A fresh instance serves each operation.)"""

    def __init__(self, limits: QueryLimits, refused: RefusedDocuments) -> None:
        self.limits = limits
        self.refused = refused
        self.figures: Figures | None = None
        self._key: tuple[bytes, str | None] | None = None
        # Outside an HTTP request (schema.execute in a script), the operation stands alone.
        self._spend = request_spend.get() or RequestSpend()

    def on_parse(self) -> Iterator[None]:
        """A text refused before for its document alone is refused again unparsed."""
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            # Before parsing, `operation_name` is the one the request gives, if any.
            self._key = _text_key(context.query, context.operation_name)
            refused = self.refused.get(self._key)
            if refused is not None:
                context.graphql_document = stand_in(refused.operation, context.operation_name)
                context.pre_execution_errors = [self._replayed(refused, context.query)]
                self.figures = refused.figures
                tracing.note_cost(refused.figures.points, refused.figures.nodes)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = (
            None if document is None else get_operation_ast(document, context.operation_name)
        )
        if document is None or operation is None or context.pre_execution_errors is not None:
            yield
            return
        analysis = _Analysis(context.schema._schema, document, context.variables or {})
        figures = self.figures = analysis.of_operation(operation)
        # Within the operation, so its span (schema/tracing.py) is the current one.
        tracing.note_cost(figures.points, figures.nodes)
        name = operation.name.value if operation.name else "anonymous"
        refusal = self._refusal(figures, name)
        if refusal is not None:
            message, extensions = refusal
            # Set before validation runs, which then does not (nor does its cache look).
            error = GraphQLError(message, operation, extensions=extensions)
            context.pre_execution_errors = [error]
            if self._key is not None and self._refused_alone(figures, analysis):
                start = None if operation.loc is None else operation.loc.start
                remembered = Refused(operation.operation, name, start, figures)
                self.refused.keep(self._key, remembered)
            yield
            return
        # Taken at once, so that a batch's later operations see it.
        self._spend.nodes += figures.nodes
        yield
        if context.pre_execution_errors:
            self._spend.nodes -= figures.nodes  # invalid: it will not run

    async def on_execute(self) -> AsyncIterator[None]:
        """Past validation: the operation pays its points."""
        context = self.execution_context
        if self.figures is not None and context.result is None:
            refusal = await self._pay(self.figures)
            if refusal is not None:
                context.result = ExecutionResult(data=None, errors=[refusal])
        yield

    def get_results(self) -> dict[str, Any]:
        if self.figures is None:
            return {}
        cost: dict[str, Any] = {
            "points": self.figures.points,
            "nodes": self.figures.nodes,
            "maxNodes": self.limits.max_nodes,
        }
        budget = self._spend.budget
        if budget is not None:
            reset = datetime.fromtimestamp(budget.reset_at, UTC).isoformat(timespec="seconds")
            cost["rateLimit"] = {
                "limit": budget.limit,
                "remaining": budget.remaining,
                "resetAt": reset.replace("+00:00", "Z"),
            }
        return {"cost": cost}

    def _refused_alone(self, figures: Figures, analysis: _Analysis) -> bool:
        """Whether refused figures would be refused whatever the request's variables and its
        batch's other operations: depth and aliases always are; nodes when the operation
        alone is over the limit with no page sized by a variable."""
        limits = self.limits
        if figures.depth > limits.max_depth or figures.aliases > limits.max_aliases:
            return True
        return figures.nodes > limits.max_nodes and not analysis.read_variables

    def _refusal(self, figures: Figures, name: str) -> tuple[str, dict[str, Any]] | None:
        """The message and extensions of the error refusing the operation `name`, if any."""
        limits = self.limits
        if figures.depth > limits.max_depth:
            message = f"'{name}' exceeds maximum operation depth of {limits.max_depth}"
            return message, {"code": VALIDATION_FAILED}
        if figures.aliases > limits.max_aliases:
            message = f"{figures.aliases} aliases found. Allowed: {limits.max_aliases}"
            return message, {"code": VALIDATION_FAILED}
        spend = self._spend
        if spend.nodes + figures.nodes > limits.max_nodes:
            already = f", after {spend.nodes} in the request's other operations" * bool(spend.nodes)
            message = (
                f"'{name}' could return {figures.nodes} nodes{already}; "
                f"at most {limits.max_nodes} are allowed per request: ask for smaller pages "
                "(`first`) or fewer nested connections"
            )
            extensions = {
                "code": MAX_NODES_EXCEEDED,
                "nodes": figures.nodes,
                "requestNodes": spend.nodes + figures.nodes,
                "maxNodes": limits.max_nodes,
                "points": figures.points,
            }
            return message, extensions
        return None

    def _replayed(self, refused: Refused, text: str) -> GraphQLError:
        """The error that refused `refused` the first time (in this request's batch: a batch's
        other operations show in the nodes' figures), located in `text` as it was then."""
        refusal = self._refusal(refused.figures, refused.name)
        assert refusal is not None  # remembered for its document alone
        message, extensions = refusal
        if refused.position is None:
            return GraphQLError(message, extensions=extensions)
        source, positions = Source(text), [refused.position]
        return GraphQLError(message, source=source, positions=positions, extensions=extensions)

    async def _pay(self, figures: Figures) -> GraphQLError | None:
        """The operation's points from its client's request budget; an error once spent."""
        spend = self._spend
        owed = spend.points_to_pay(figures.points)
        spend.points += figures.points
        if owed == 0:
            return None
        try:
            budget = await rate_limits.charge_request(self.execution_context.context, owed)
        except RateLimited as error:
            return GraphQLError(str(error), original_error=error)
        spend.budget = budget or spend.budget
        return None


def _argument(node: FieldNode, name: str) -> ValueNode | None:
    return next((a.value for a in node.arguments or () if a.name.value == name), None)


def _text_key(text: str, operation_name: str | None) -> tuple[bytes, str | None]:
    return text_digest(text), operation_name
