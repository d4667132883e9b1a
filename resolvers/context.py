"""One request's context: who is asking, and the stores, loaders and bus that serve it."""

from __future__ import annotations

from dataclasses import dataclass, field

from auth.tokens import InvalidToken, TokenService, token_from_header
from events import EventBus
from loaders import Loaders
from models.errors import Unauthenticated
from stores.protocols import Stores


@dataclass
class Context:
    stores: Stores
    events: EventBus
    tokens: TokenService
    request_id: str
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
        events: EventBus,
        tokens: TokenService,
        request_id: str,
        authorization: str | None,
    ) -> Context:
        return cls(stores, events, tokens, request_id, token_from_header(authorization))

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
