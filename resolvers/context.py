"""One request's context: who is asking (and from where), and the stores, loaders, event relay
and rate limiter that serve it."""

from __future__ import annotations

from dataclasses import dataclass, field

from auth.tokens import Bearer, InvalidToken, TokenService, token_from_header
from events.live import LiveBroker
from events.relay import Relay
from loaders import Loaders
from models.errors import Unauthenticated
from models.users import User
from ratelimits.limiter import Limiter
from stores.errors import StoreUnavailable
from stores.protocols import Stores


@dataclass
class Context:
    stores: Stores
    relay: Relay
    tokens: TokenService
    limiter: Limiter
    request_id: str
    # The client's IP address as the server saw it (behind a proxy, the proxy headers' one).
    client_address: str
    token: str | None = None
    # Where a subscription hears of new and deleted comments (events/live.py).
    live: LiveBroker | None = None
    _bearer: Bearer | None = field(default=None, init=False)
    _viewer_id: int | None = field(default=None, init=False)
    _viewer: User | None = field(default=None, init=False)
    # Raised wherever the viewer is asked for: the token was sent but is not valid, or whether
    # it is could not be read.
    _viewer_error: Exception | None = field(default=None, init=False)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        if self.token is not None:
            try:
                self._bearer = self.tokens.bearer(self.token)
                self._viewer_id = self._bearer.user_id
            except InvalidToken:
                self._viewer_error = Unauthenticated.invalid_token()
        self.loaders = Loaders(self.stores, self._viewer_id)

    async def check_viewer(self) -> None:
        """A validly signed token is still refused when its user is gone or has changed their
        password or email since it was issued. One read of the user, kept for the request: a
        request that needs the viewer anyway (`signed_in_user`) reads them once. (Not through
        the loader: a viewer already loaded would answer before the rest of a list's users,
        and split the batches that follow them.)"""
        if self._bearer is None:
            return
        try:
            found = await self.stores.users.by_ids([self._bearer.user_id])
        except StoreUnavailable as error:
            self._viewer_error = error
            return
        if not found or found[0].credential_version != self._bearer.credential_version:
            self._viewer_id = None
            self._viewer_error = Unauthenticated.invalid_token()
            self.loaders = Loaders(self.stores, None)
            return
        self._viewer = found[0]

    @classmethod
    async def for_request(
        cls,
        stores: Stores,
        relay: Relay,
        tokens: TokenService,
        limiter: Limiter,
        request_id: str,
        client_address: str,
        authorization: str | None,
        live: LiveBroker | None = None,
    ) -> Context:
        """The request's context, its token checked (see `check_viewer`)."""
        ctx = cls(
            stores,
            relay,
            tokens,
            limiter,
            request_id,
            client_address,
            token_from_header(authorization),
            live,
        )
        await ctx.check_viewer()
        return ctx

    async def signed_in(self, authorization: str) -> Context:
        """The same client with this Authorization value, checked (a WebSocket connection's,
        once its first message names a token)."""
        return await Context.for_request(
            self.stores,
            self.relay,
            self.tokens,
            self.limiter,
            self.request_id,
            self.client_address,
            authorization,
            self.live,
        )

    def renew_loaders(self) -> None:
        """Forget what the loaders have read: a context that outlives a request (a WebSocket
        connection's) reads each live event afresh."""
        self.loaders = Loaders(self.stores, self._viewer_id)

    def client_key(self) -> str:
        """Whose request budget this request spends: the signed-in user's, else (no token, or
        one that is not valid) the client address's."""
        if self._viewer_id is not None:
            return f"user:{self._viewer_id}"
        return f"address:{self.client_address}"

    def viewer_id(self) -> int | None:
        """The signed-in user's id, None when anonymous. A token that was sent but is not
        valid is always an error, never a silent fall back to anonymous."""
        if self._viewer_error is not None:
            raise self._viewer_error
        return self._viewer_id

    def require_viewer_id(self) -> int:
        viewer_id = self.viewer_id()
        if viewer_id is None:
            raise Unauthenticated.missing_token()
        return viewer_id

    def signed_in_user(self) -> User:
        """The user the request's token names, as read when it was checked; Unauthenticated
        (or StoreUnavailable) as `viewer_id`."""
        self.require_viewer_id()
        assert self._viewer is not None  # a checked token names a user that was found
        return self._viewer
