"""One request's context: who is asking (and from where), and the stores, loaders, event relay
and rate limiter that serve it."""

from __future__ import annotations

from dataclasses import dataclass, field

from auth.tokens import InvalidToken, TokenService, token_from_header
from events.relay import Relay
from loaders import Loaders
from models.errors import Unauthenticated
from ratelimits.limiter import Limiter
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
    _viewer_id: int | None = field(default=None, init=False)
    _token_error: Unauthenticated | None = field(default=None, init=False)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        if self.token is not None:
            try:
                self._viewer_id = self.tokens.user_id(self.token)
            except InvalidToken:
                self._token_error = Unauthenticated.invalid_token()
        self.loaders = Loaders(self.stores, self._viewer_id)

    @classmethod
    def for_request(
        cls,
        stores: Stores,
        relay: Relay,
        tokens: TokenService,
        limiter: Limiter,
        request_id: str,
        client_address: str,
        authorization: str | None,
    ) -> Context:
        return cls(
            stores,
            relay,
            tokens,
            limiter,
            request_id,
            client_address,
            token_from_header(authorization),
        )

    def client_key(self) -> str:
        """Whose request budget this request spends: the signed-in user's, else (no token, or
        one that is not valid) the client address's."""
        if self._viewer_id is not None:
            return f"user:{self._viewer_id}"
        return f"address:{self.client_address}"

    def viewer_id(self) -> int | None:
        """The signed-in user's id, None when anonymous. A token that was sent but is not
        valid is always an error, never a silent fall back to anonymous."""
        if self._token_error is not None:
            raise self._token_error
        return self._viewer_id

    def require_viewer_id(self) -> int:
        viewer_id = self.viewer_id()
        if viewer_id is None:
            raise Unauthenticated.missing_token()
        return viewer_id
