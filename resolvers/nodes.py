"""Objects by global id (`node`, `nodes`), shown as the rest of the API shows them, and hidden
where it hides them: an id of a deleted article, of a comment on one, of a user who is gone,
or of another user's own account (email and token are theirs alone) finds nothing. However
many ids, each kind costs a fixed number of batched reads."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from models.articles import Article
from models.comments import Comment
from models.errors import Invalid
from models.ids import MAX_NODE_IDS, Kind, require_global_id
from resolvers import users, views
from resolvers.context import Context
from resolvers.profiles import Profile
from resolvers.users import SignedIn

Found = Article | Comment | Profile | SignedIn


async def find(ctx: Context, raw_ids: Sequence[str], field: str) -> list[Found | None]:
    """What each id names, in order; None where it names nothing the viewer may see. Invalid,
    on `field`, unless every id is valid and there are at most MAX_NODE_IDS of them."""
    if len(raw_ids) > MAX_NODE_IDS:
        raise Invalid({field: [f"can name at most {MAX_NODE_IDS} objects at once"]})
    ids = [require_global_id(raw, field) for raw in raw_ids]
    viewer_id = ctx.viewer_id()

    def numbers(kind: Kind) -> list[int]:
        return list(dict.fromkeys(i.number for i in ids if i.kind is kind))

    article_ids, comment_ids, user_ids = (
        numbers(Kind.ARTICLE),
        numbers(Kind.COMMENT),
        numbers(Kind.PROFILE),
    )
    articles, comments, profiles = await asyncio.gather(
        ctx.loaders.article_by_id.load_many(article_ids),
        _visible_comments(ctx, comment_ids),
        views.profiles_found(ctx, user_ids),
    )
    wants_viewer = any(i.kind is Kind.USER and i.number == viewer_id for i in ids)
    viewer = await users.viewer(ctx) if wants_viewer else None
    found: Mapping[Kind, Mapping[int, Found | None]] = {
        Kind.ARTICLE: dict(zip(article_ids, articles, strict=True)),
        Kind.COMMENT: dict(zip(comment_ids, comments, strict=True)),
        Kind.PROFILE: dict(zip(user_ids, profiles, strict=True)),
        Kind.USER: {} if viewer is None else {viewer.user.id: viewer},
    }
    return [found[i.kind].get(i.number) for i in ids]


async def _visible_comments(ctx: Context, comment_ids: Sequence[int]) -> list[Comment | None]:
    """A comment shows while its article does: the comments of a deleted article go with it,
    a little later (through its ArticleDeleted event), and are hidden meanwhile."""
    comments = await ctx.loaders.comment_by_id.load_many(comment_ids)
    present = [c for c in comments if c is not None]
    articles = await ctx.loaders.article_by_id.load_many([c.article_id for c in present])
    shown = {c.id for c, a in zip(present, articles, strict=True) if a is not None}
    return [c if c is not None and c.id in shown else None for c in comments]
