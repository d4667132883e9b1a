"""The /graphql endpoint: Strawberry's ASGI view with our Context and JSON error bodies."""

from __future__ import annotations

import json
from collections.abc import Callable

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema.base import BaseSchema

from resolvers.context import Context

BAD_REQUEST = "BAD_REQUEST"


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, context_for: Callable[[Request], Context]) -> None:
        super().__init__(schema, allow_queries_via_get=True)
        self._context_for = context_for

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        assert isinstance(request, Request)
        return self._context_for(request)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except RecursionError:
            raise HTTPException(400, "Request body is nested too deeply") from None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Like Strawberry's, but a request it cannot run gets a GraphQL-shaped JSON error
        (with a code) instead of plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:
            body = {"errors": [{"message": error.reason, "extensions": {"code": BAD_REQUEST}}]}
            response = JSONResponse(body, status_code=error.status_code)
        await response(scope, receive, send)
