"""A span per GraphQL operation, named like OpenTelemetry's conventions ("query Feed"), with
the operation's name and type; QueryCost adds its cost (telemetry.tracing.note_cost). In the
schema only while tracing is on. Not Strawberry's OpenTelemetryExtension: it adds a span per
resolved field, dozens per page, which would cost more than the operation's own work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from strawberry.extensions import SchemaExtension

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer


class OperationSpan(SchemaExtension):
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def on_operation(self) -> Iterator[None]:
        # Current while the operation runs: its store calls' spans are its children.
        with self.tracer.start_as_current_span("graphql operation") as span:
            yield
            context = self.execution_context
            name = context.operation_name
            kind = context.operation_type.value if context.operation_type else "operation"
            span.update_name(f"{kind} {name}" if name else kind)
            span.set_attribute("graphql.operation.type", kind)
            if name:
                span.set_attribute("graphql.operation.name", name)
