"""The RealWorld routes under /api. Each also answers with a trailing slash, because real
clients send one (the Angular client posts new articles to /api/articles/)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers.context import Context
from rest import endpoints as e
from rest.http import ContextFactory, Endpoint, Handler, endpoint, errors_response

TABLE: list[tuple[str, str, Handler]] = [
    ("/users", "POST", e.register),
    ("/users/login", "POST", e.login),
    ("/user", "GET", e.current_user),
    ("/user", "PUT", e.update_user),
    ("/profiles/{username}", "GET", e.get_profile),
    ("/profiles/{username}/follow", "POST", e.follow),
    ("/profiles/{username}/follow", "DELETE", e.unfollow),
    ("/articles", "GET", e.list_articles),
    ("/articles", "POST", e.create_article),
    ("/articles/feed", "GET", e.feed),
    ("/articles/{slug}", "GET", e.get_article),
    ("/articles/{slug}", "PUT", e.update_article),
    ("/articles/{slug}", "DELETE", e.delete_article),
    ("/articles/{slug}/comments", "GET", e.list_comments),
    ("/articles/{slug}/comments", "POST", e.add_comment),
    ("/articles/{slug}/comments/{id}", "DELETE", e.delete_comment),
    ("/articles/{slug}/favorite", "POST", e.favorite),
    ("/articles/{slug}/favorite", "DELETE", e.unfavorite),
    ("/tags", "GET", e.tags),
    ("/openapi.json", "GET", e.openapi_document),
]


def routes(context_for: ContextFactory) -> list[Route]:
    """One route per path (and its trailing-slash twin) that serves all of the path's methods,
    so a wrong method gets a 405 whose `Allow` header names every method the path has, in
    the RealWorld error body like every other answer under /api. Both a wrong method and a
    path that is none of these spend the client's request budget like any request."""
    by_path: dict[str, dict[str, Handler]] = {}
    for path, method, handler in TABLE:
        by_path.setdefault(path, {})[method] = handler
    built = []
    for path, handlers in by_path.items():
        endpoints = {m: endpoint(h, context_for) for m, h in handlers.items()}
        if "GET" in endpoints:
            endpoints["HEAD"] = endpoints["GET"]
        not_allowed = endpoint(_method_not_allowed(", ".join(endpoints)), context_for)
        dispatch = _Dispatch(endpoints, not_allowed)
        built += [Route(variant, dispatch, methods=None) for variant in (path, path + "/")]
    return built


def not_found(context_for: ContextFactory) -> ASGIApp:
    """Any other path under /api."""
    return _Dispatch({}, endpoint(_not_found, context_for))


class _Dispatch:
    """The endpoint of each method of one path, and the one for any other method. An ASGI app
    rather than a function, so that Starlette routes every method here (it would answer the
    others with its own plain-text 405)."""

    def __init__(self, endpoints: dict[str, Endpoint], other: Endpoint) -> None:
        self._endpoints = endpoints
        self._other = other

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        response = await self._endpoints.get(request.method, self._other)(request)
        await response(scope, receive, send)


def _method_not_allowed(allowed: str) -> Handler:
    async def answer(ctx: Context, request: Request) -> Response:
        response = errors_response(405, {"method": ["not allowed"]})
        response.headers["Allow"] = allowed
        return response

    return answer


async def _not_found(ctx: Context, request: Request) -> Response:
    return errors_response(404, {"path": ["not found"]})
