"""The RealWorld routes under /api. Each also answers with a trailing slash, because real
clients send one (the Angular client posts new articles to /api/articles/)."""

from __future__ import annotations

from starlette.routing import Route

from rest import endpoints as e
from rest.http import ContextFactory, Handler, endpoint

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
]


def routes(context_for: ContextFactory) -> list[Route]:
    by_path: dict[str, dict[str, Handler]] = {}
    for path, method, handler in TABLE:
        by_path.setdefault(path, {})[method] = handler
    built = []
    for path, handlers in by_path.items():
        for variant in (path, path + "/"):
            for method, handler in handlers.items():
                built.append(Route(variant, endpoint(handler, context_for), methods=[method]))
    return built
