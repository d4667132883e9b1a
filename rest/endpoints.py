"""Each RealWorld endpoint: read the request, call the use case, render the answer."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from models import comments as comment_rules
from models.articles import Article
from models.errors import Unauthenticated
from models.pages import MAX_PAGE_SIZE, Window
from resolvers import articles, comments, likes, profiles, users, views
from resolvers.context import Context
from rest import openapi, render
from rest.http import field, no_content, query_text, window, wrapped_object
from rest.responses import JSONResponse


async def register(ctx: Context, request: Request) -> Response:
    data = await wrapped_object(request, "user")
    signed_in = await users.register(
        ctx, field(data, "username"), field(data, "email"), field(data, "password")
    )
    return JSONResponse(render.user(signed_in), status_code=201)


async def login(ctx: Context, request: Request) -> Response:
    data = await wrapped_object(request, "user")
    signed_in = await users.login(ctx, field(data, "email"), field(data, "password"))
    return JSONResponse(render.user(signed_in))


async def current_user(ctx: Context, request: Request) -> Response:
    signed_in = await users.viewer(ctx)
    if signed_in is None:
        raise Unauthenticated.missing_token()
    return JSONResponse(render.user(signed_in))


async def update_user(ctx: Context, request: Request) -> Response:
    ctx.require_viewer_id()
    data = await wrapped_object(request, "user")
    signed_in = await users.update_settings(
        ctx,
        username=field(data, "username"),
        email=field(data, "email"),
        password=field(data, "password"),
        bio=field(data, "bio"),
        image=field(data, "image"),
    )
    return JSONResponse(render.user(signed_in))


async def get_profile(ctx: Context, request: Request) -> Response:
    found = await profiles.profile(ctx, request.path_params["username"])
    return JSONResponse({"profile": render.profile(found)})


async def follow(ctx: Context, request: Request) -> Response:
    followed = await profiles.follow(ctx, request.path_params["username"])
    return JSONResponse({"profile": render.profile(followed)})


async def unfollow(ctx: Context, request: Request) -> Response:
    unfollowed = await profiles.unfollow(ctx, request.path_params["username"])
    return JSONResponse({"profile": render.profile(unfollowed)})


async def list_articles(ctx: Context, request: Request) -> Response:
    filters = articles.ArticleFilter(
        tag=query_text(request, "tag"),
        author=query_text(request, "author"),
        liked_by=query_text(request, "favorited"),
    )
    return await _article_list(ctx, await articles.articles(ctx, filters, window(request)))


async def feed(ctx: Context, request: Request) -> Response:
    ctx.require_viewer_id()
    return await _article_list(ctx, await articles.feed(ctx, window(request)))


async def _article_list(ctx: Context, page: articles.ArticlePage) -> Response:
    rendered, total = await asyncio.gather(
        views.article_views(ctx, page.articles), articles.count(ctx, page.query)
    )
    return JSONResponse(
        {
            "articles": [render.article(v, with_body=False) for v in rendered],
            "articlesCount": total,
        }
    )


async def create_article(ctx: Context, request: Request) -> Response:
    ctx.require_viewer_id()
    data = await wrapped_object(request, "article")
    created = await articles.create(
        ctx,
        field(data, "title"),
        field(data, "description"),
        field(data, "body"),
        data.get("tagList"),
    )
    return await _article(ctx, created, status=201)


async def get_article(ctx: Context, request: Request) -> Response:
    return await _article(ctx, await articles.article(ctx, request.path_params["slug"]))


async def update_article(ctx: Context, request: Request) -> Response:
    ctx.require_viewer_id()
    data = await wrapped_object(request, "article")
    updated = await articles.update(
        ctx,
        request.path_params["slug"],
        title=field(data, "title"),
        description=field(data, "description"),
        body=field(data, "body"),
        tags=field(data, "tagList"),
    )
    return await _article(ctx, updated)


async def delete_article(ctx: Context, request: Request) -> Response:
    await articles.delete(ctx, request.path_params["slug"])
    return no_content()


async def favorite(ctx: Context, request: Request) -> Response:
    return await _article(ctx, await likes.like(ctx, request.path_params["slug"]))


async def unfavorite(ctx: Context, request: Request) -> Response:
    return await _article(ctx, await likes.unlike(ctx, request.path_params["slug"]))


async def _article(ctx: Context, article: Article, status: int = 200) -> Response:
    view = await views.article_view(ctx, article)
    return JSONResponse({"article": render.article(view)}, status_code=status)


async def list_comments(ctx: Context, request: Request) -> Response:
    # RealWorld's list has no pages: the newest MAX_PAGE_SIZE, as GraphQL's largest page.
    newest = Window(limit=MAX_PAGE_SIZE)
    page = await comments.comments_of_slug(ctx, request.path_params["slug"], newest)
    rendered = await views.comment_views(ctx, page.comments)
    return JSONResponse({"comments": [render.comment(v) for v in rendered]})


async def add_comment(ctx: Context, request: Request) -> Response:
    ctx.require_viewer_id()
    data = await wrapped_object(request, "comment")
    added = await comments.add(ctx, request.path_params["slug"], field(data, "body"))
    [view] = await views.comment_views(ctx, [added])
    return JSONResponse({"comment": render.comment(view)}, status_code=201)


async def delete_comment(ctx: Context, request: Request) -> Response:
    comment_id = comment_rules.parse_id(request.path_params["id"])
    await comments.delete(ctx, comment_id, slug=request.path_params["slug"])
    return no_content()


async def tags(ctx: Context, request: Request) -> Response:
    return JSONResponse({"tags": await articles.all_tags(ctx)})


async def openapi_document(ctx: Context, request: Request) -> Response:
    return Response(openapi.body(), media_type="application/json")
