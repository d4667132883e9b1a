"""RealWorld JSON for users, profiles, articles and comments."""

from __future__ import annotations

from typing import Any

from models.clock import isoformat_ms
from resolvers.profiles import Profile
from resolvers.users import SignedIn
from resolvers.views import ArticleView, CommentView


def user(signed_in: SignedIn) -> dict[str, Any]:
    u = signed_in.user
    return {
        "user": {
            "email": u.email,
            "token": signed_in.token,
            "username": u.username,
            "bio": u.bio,
            "image": u.image,
        }
    }


def profile(p: Profile) -> dict[str, Any]:
    return {
        "username": p.user.username,
        "bio": p.user.bio,
        "image": p.user.image,
        "following": p.following,
    }


def article(view: ArticleView, *, with_body: bool = True) -> dict[str, Any]:
    a = view.article
    rendered: dict[str, Any] = {
        "slug": a.slug,
        "title": a.title,
        "description": a.description,
        "tagList": view.tags,
        "createdAt": isoformat_ms(a.created_at),
        "updatedAt": isoformat_ms(a.updated_at),
        "favorited": view.likes.liked_by_viewer,
        "favoritesCount": view.likes.count,
        "author": profile(view.author),
    }
    if with_body:
        rendered["body"] = a.body
    return rendered


def comment(view: CommentView) -> dict[str, Any]:
    c = view.comment
    return {
        "id": c.id,
        "createdAt": isoformat_ms(c.created_at),
        "updatedAt": isoformat_ms(c.updated_at),
        "body": c.body,
        "author": profile(view.author),
    }
