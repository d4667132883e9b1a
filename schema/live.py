"""GraphQL over WebSocket (graphql-transport-ws), for the subscriptions: Strawberry's protocol
handler, with the token taken from `connection_init`, the request budget charged per
operation, and a limit on the operations of one connection; and the count of connections per
client address.

The token: `{"Authorization": "Bearer <token>"}` (or `Token <token>`, as over HTTP) or
`{"token": "<token>"}` in the `connection_init` payload; none, the connection is anonymous.
A token that is not valid (expired, signed otherwise, its user gone or their password or
email changed since) closes the connection with 4403, as the protocol asks of a refused
connection_init."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from models.errors import RateLimited, Unauthenticated
from resolvers import limits
from resolvers.context import Context
from schema.errors import coded
from schema.limits import RequestSpend, request_spend
from stores.errors import StoreUnavailable

TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
# graphql-transport-ws's close codes, and RFC 6455's for a server that refuses more load.
BAD_MESSAGE = 4400
FORBIDDEN = 4403
TRY_AGAIN_LATER = 1013


class BadPayload(ValueError):
    """The connection_init payload names a token, but not as a string."""


def authorization_of(payload: dict[str, object]) -> str | None:
    """The Authorization value a connection_init payload carries, if any."""
    header = next((v for k, v in payload.items() if k.lower() == "authorization"), None)
    token = payload.get("token")
    if header is None and token is None:
        return None
    if header is not None:
        if not isinstance(header, str):
            raise BadPayload("Authorization must be a string: Bearer <token>")
        return header
    if not isinstance(token, str):
        raise BadPayload("token must be a string")
    return f"Bearer {token}"


class ConnectionCounts:
    """The WebSocket connections each client address holds open in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    @contextmanager
    def held(self, address: str) -> Iterator[bool]:
        """Whether `address` may open one more, counted as open until the block exits."""
        if self._open[address] >= self.limit:
            yield False
            return
        self._open[address] += 1
        try:
            yield True
        finally:
            self._open[address] -= 1
            if not self._open[address]:
                del self._open[address]


class TextFrames(ASGIWebSocketAdapter):
    """Messages in text frames, as the protocol has them: Strawberry sends the bytes our JSON
    encoder makes as binary frames, which a browser hands to `graphql-ws` as a Blob it cannot
    parse."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded if isinstance(encoded, str) else encoded.decode())
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error


class LiveConnection(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload")
        # Whatever else is wrong with the message is Strawberry's to answer, as it does.
        if isinstance(payload, dict) and not self.connection_init_received:
            try:
                authorization = authorization_of(payload)
            except BadPayload as error:
                await self.websocket.close(BAD_MESSAGE, str(error))
                return
            if authorization is not None:
                ctx = await self.context.signed_in(authorization)
                try:
                    ctx.viewer_id()
                except Unauthenticated:
                    await self.websocket.close(FORBIDDEN, "Forbidden: the token is not valid")
                    return
                except StoreUnavailable:
                    # Not the client's fault: it may try again, as after any dropped connection.
                    await self.websocket.close(TRY_AGAIN_LATER, "Service unavailable")
                    return
                self.context = ctx
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Each operation pays a point of the client's request budget, as an HTTP request
        does, before it starts; past the connection's limit it is refused, with an error."""
        if self.connection_acknowledged and message["id"] not in self.operations:
            limit = self.max_subscriptions_per_connection
            if limit is not None and len(self.operations) >= limit:
                error = GraphQLError(
                    f"At most {limit} subscriptions per connection: complete one first",
                    extensions={"code": TOO_MANY_SUBSCRIPTIONS, "limit": limit},
                )
                await self._refuse(message["id"], error)
                return
            try:
                budget = await limits.charge_request(self.context)
            except RateLimited as refusal:
                error = GraphQLError(str(refusal), original_error=refusal)
                await self._refuse(message["id"], coded(error, self.context.request_id))
                return
            # Copied into the operation's task as it is made, for its cost to pay from.
            request_spend.set(RequestSpend(budget=budget))
        await super().handle_subscribe(message)

    async def _refuse(self, operation_id: str, error: GraphQLError) -> None:
        await self.send_message({"id": operation_id, "type": "error", "payload": [error.formatted]})
