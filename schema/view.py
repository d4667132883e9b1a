"""The /graphql endpoint: Strawberry's ASGI view with our Context, JSON error bodies, and the
client's request budget charged per HTTP request (a 429 past it, or past any rate limit an
operation meets); and the subscriptions over WebSocket (schema/live.py)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.base import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from middleware import request_id_of
from models.errors import RateLimited
from ratelimits.headers import budget_headers, refusal_headers
from resolvers import limits
from resolvers.context import Context
from rest.responses import JSONResponse, dumps
from schema.errors import RATE_LIMITED, coded, has_code
from schema.graphiql import GraphiQL
from schema.limits import RequestSpend, request_spend
from schema.live import TRY_AGAIN_LATER, ConnectionCounts, LiveConnection, TextFrames
from schema.persisted import BAD_REQUEST, BadPersistedQuery, requested_hash
from telemetry.codes import note_error_codes

TIMEOUT = "TIMEOUT"
_NOT_AN_OBJECT = "Expected a JSON object (or, for a batch, a list of them)"
# The members of one operation in a request body, and the JSON types they may have.
_OPERATION_MEMBERS: dict[str, type] = {
    "query": str,
    "variables": dict,
    "operationName": str,
    "extensions": dict,
}


# The context of a request or WebSocket connection, given the Authorization it carries.
ContextFor = Callable[[HTTPConnection, str | None], Awaitable[Context]]


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = LiveConnection
    websocket_adapter_class = TextFrames

    def __init__(
        self,
        schema: BaseSchema,
        context_for: ContextFor,
        graphiql: GraphiQL,
        *,
        subscriptions_per_connection: int,
        connections_per_address: int,
        allowed_origins: Sequence[str],
    ) -> None:
        """`allowed_origins`: the pages that may open a WebSocket from another origin (a
        token travels in the first message, never in a cookie, so any may)."""
        super().__init__(
            schema,
            allow_queries_via_get=True,
            # Only the protocol whose handler takes the token and keeps the limits.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=subscriptions_per_connection,
            allowed_origins=allowed_origins,
        )
        self._context_for = context_for
        self._graphiql = graphiql
        self._connections = ConnectionCounts(connections_per_address)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """Ours rather than Strawberry's page, which loads GraphiQL from a CDN."""
        return self._graphiql.page()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        """A WebSocket connection is anonymous until its connection_init names a token, and
        pays for each operation it starts (schema/live.py), not for itself."""
        if isinstance(request, WebSocket):
            return await self._context_for(request, None)
        ctx = await self._context_for(request, request.headers.get("authorization"))
        spend = RequestSpend(budget=await limits.charge_request(ctx))
        request_spend.set(spend)
        return ctx

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except RecursionError:
            raise HTTPException(400, "Request body is nested too deeply") from None
        except json.JSONDecodeError:
            raise
        except ValueError:
            # Bytes that are not UTF-8, or an integer too long to convert: not JSON either.
            raise HTTPException(400, "Unable to parse request body as JSON") from None

    def encode_json(self, data: object) -> bytes:
        """The same JSON as Strawberry's (compact), by orjson: non-ASCII characters are sent
        as they are in UTF-8 rather than escaped."""
        return dumps(data)

    def parse_json(self, data: str | bytes) -> object:
        """JSON that Strawberry can take apart: an object (a request body, or GET's `variables`
        or `extensions`), or a batch of operations. Strawberry assumes this shape and fails
        with a 500 on anything else (a string, a number, a batch of non-objects)."""
        decoded = super().parse_json(data)
        if isinstance(decoded, list):
            for operation in decoded:
                _check_batched_operation(operation)
        elif not isinstance(decoded, dict):
            raise HTTPException(400, _NOT_AN_OBJECT)
        return decoded

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """A persisted query over GET has no `query` either, and curl's `Accept: */*` would
        have GraphiQL answer it."""
        params = request.query_params
        return "extensions" not in params and super().should_render_graphql_ide(request)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """A persisted query that breaks the protocol (another version, a hash that is no
        SHA-256 or not the text's) is a bad request, as Apollo Server answers it: a client
        that gets a 400 here stops sending hashes rather than retry with the same."""
        parsed = await super().parse_http_body(request)
        for operation in parsed if isinstance(parsed, list) else [parsed]:
            try:
                requested_hash(operation.extensions, operation.query)
            except BadPersistedQuery as error:
                raise HTTPException(400, str(error)) from None
        return parsed

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """ErrorCodes codes every error of an operation; an error raised around the operation
        (by an extension, say) escapes it, and gets its code (and mask) here."""
        if result.errors and not all(has_code(e) for e in result.errors):
            request_id = request_id_of(request.scope)
            result.errors = [e if has_code(e) else coded(e, request_id) for e in result.errors]
        if result.errors:
            codes = (str((e.extensions or {}).get("code", "-")) for e in result.errors)
            note_error_codes(request.scope, codes)
        return await super().process_result(request, result)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """The request budget's headers as they stand after every operation has paid its
        points; an operation that met a rate limit is answered 429, with that limit's."""
        response = super().create_response(response_data, sub_response)
        spend = request_spend.get()
        if spend is not None and spend.budget is not None:
            response.headers.update(budget_headers(spend.budget))
        results = response_data if isinstance(response_data, list) else [response_data]
        refusal = next(
            (r for result in results for e in result.get("errors") or [] if (r := _refusal(e))),
            None,
        )
        if refusal is not None:
            response.status_code = 429
            response.headers.update(refusal_headers(*refusal))
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Like Strawberry's, but a request it cannot run gets a GraphQL-shaped JSON error
        (with a code) instead of plain text."""
        if scope["type"] == "websocket":
            await self._connect(scope, receive, send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:
            body = {"errors": [{"message": error.reason, "extensions": {"code": BAD_REQUEST}}]}
            response = JSONResponse(body, status_code=error.status_code)
            note_error_codes(scope, [BAD_REQUEST])
        except RateLimited as error:
            # Refused before any operation ran: the client's request budget is spent.
            refused = coded(GraphQLError(str(error), original_error=error), request_id_of(scope))
            response = JSONResponse({"errors": [refused.formatted]}, status_code=429)
            response.headers.update(refusal_headers(error.limit, error.retry_after))
            note_error_codes(scope, [RATE_LIMITED])
        await response(scope, receive, send)

    async def _connect(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket connection, while its client address holds fewer than the limit in
        this process; past it, accepted and closed at once with 1013 (try again later), so
        that the client sees why."""
        client = scope.get("client")
        with self._connections.held(client[0] if client else "unknown") as admitted:
            if admitted:
                await super().__call__(scope, receive, send)
                return
        websocket = WebSocket(scope, receive, send)
        await websocket.accept(subprotocol=await self.pick_websocket_subprotocol(websocket))
        limit = self._connections.limit
        await websocket.close(TRY_AGAIN_LATER, f"At most {limit} connections per client address")


def timed_out(seconds: float) -> JSONResponse:
    """The answer to an operation stopped by its deadline (middleware.Deadline): no data, as
    the operation did not finish; 503 like REST's, as it is no fault of the request's."""
    message = f"The request took longer than {seconds:g} s and was stopped"
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": TIMEOUT}}]}, status_code=503
    )


def _check_batched_operation(operation: object) -> None:
    """Strawberry checks the members of a single operation but not of a batched one."""
    if not isinstance(operation, dict):
        raise HTTPException(400, _NOT_AN_OBJECT)
    for name, kind in _OPERATION_MEMBERS.items():
        value = operation.get(name)
        if value is not None and not isinstance(value, kind):
            expected = "a string" if kind is str else "an object"
            raise HTTPException(400, f"The operation's `{name}` must be {expected} or null")


def _refusal(error: object) -> tuple[int, int] | None:
    """The limit and retry delay of a formatted RATE_LIMITED error (see schema/errors.py)."""
    extensions = error.get("extensions") if isinstance(error, dict) else None
    if not isinstance(extensions, dict) or extensions.get("code") != RATE_LIMITED:
        return None
    return int(extensions["limit"]), int(extensions["retryAfter"])
