"""Articles, their tags and slugs, and the rules for writing them."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from models.errors import Invalid
from models.pages import Position
from models.validation import MISSING, FieldErrors, Maybe, is_clean_text

MAX_TITLE = 256
MAX_DESCRIPTION = 1024
MAX_BODY = 100_000
MAX_TAGS = 20
MAX_TAG = 64
MAX_SLUG = 300
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Words the REST routes use where a slug goes (GET /api/articles/feed is the feed): an
# article titled so gets a suffix, as if its plain slug were taken.
RESERVED_SLUGS = frozenset({"feed"})


@dataclass(frozen=True, slots=True)
class Article:
    """An article without its tags: those are read in batches for a whole page."""

    id: int
    slug: str
    title: str
    description: str
    body: str
    author_id: int
    created_at: datetime
    updated_at: datetime

    @property
    def position(self) -> Position:
        return Position(self.created_at, self.id)


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """An article with its sorted tags: the articles domain's unit of copying between backends."""

    article: Article
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """A validated new article, before it has an id and a slug."""

    title: str
    description: str
    body: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewArticle:
    """What a store writes for a new article."""

    slug: str
    title: str
    description: str
    body: str
    tags: tuple[str, ...]
    author_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ArticleChanges:
    """Validated edits; MISSING leaves a field as it is."""

    title: Maybe[str] = MISSING
    description: Maybe[str] = MISSING
    body: Maybe[str] = MISSING
    tags: Maybe[tuple[str, ...]] = MISSING


@dataclass(frozen=True, slots=True)
class ArticleEdit:
    """What a store writes when an article changes (tags MISSING keeps them)."""

    slug: str
    title: str
    description: str
    body: str
    tags: Maybe[tuple[str, ...]]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ArticleQuery:
    """Which articles a list shows. None means no restriction; an empty tuple means none match."""

    tag: str | None = None
    author_ids: tuple[int, ...] | None = None
    article_ids: tuple[int, ...] | None = None

    @property
    def matches_nothing(self) -> bool:
        return self.author_ids == () or self.article_ids == ()


def validate_draft(title: object, description: object, body: object, tags: object) -> ArticleDraft:
    errors = FieldErrors()
    draft = ArticleDraft(
        title=errors.text("title", title, max_length=MAX_TITLE) or "",
        description=errors.text("description", description, max_length=MAX_DESCRIPTION) or "",
        body=errors.text("body", body, max_length=MAX_BODY, single_line=False) or "",
        tags=() if tags is None or tags is MISSING else _tags(errors, tags),
    )
    errors.raise_if_any()
    return draft


def validate_changes(
    title: Maybe[object] = MISSING,
    description: Maybe[object] = MISSING,
    body: Maybe[object] = MISSING,
    tags: Maybe[object] = MISSING,
) -> ArticleChanges:
    """MISSING keeps a field; a given one must be valid (tags: `[]` clears, null is an error)."""
    errors = FieldErrors()
    changes = ArticleChanges(
        title=MISSING
        if title is MISSING
        else errors.text("title", title, max_length=MAX_TITLE) or "",
        description=MISSING
        if description is MISSING
        else errors.text("description", description, max_length=MAX_DESCRIPTION) or "",
        body=MISSING
        if body is MISSING
        else errors.text("body", body, max_length=MAX_BODY, single_line=False) or "",
        tags=MISSING if tags is MISSING else _tags(errors, tags),
    )
    errors.raise_if_any()
    return changes


def _tags(errors: FieldErrors, value: object) -> tuple[str, ...]:
    """Trimmed, without blanks or repeats, sorted: the order every response shows."""
    if value is None:
        errors.add("tagList", "can't be null")
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        errors.add("tagList", "must be a list of strings")
        return ()
    tags = sorted({t.strip() for t in value if t.strip()})
    if len(tags) > MAX_TAGS:
        errors.add("tagList", f"has too many tags (maximum is {MAX_TAGS})")
    elif any(len(t) > MAX_TAG for t in tags):
        errors.add("tagList", f"has a tag that is too long (maximum is {MAX_TAG} characters)")
    elif not all(is_clean_text(t) for t in tags):
        errors.add("tagList", "has a tag with characters that are not allowed")
    return tuple(tags)


def slugify(title: str) -> str:
    """Lower-case ASCII words joined by hyphens; a title with no such word gets 'article'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    slug = "-".join(words)[: MAX_SLUG - 8].strip("-")
    return slug or "article"


def changes_nothing(article: Article, changes: ArticleChanges) -> bool:
    """Whether `changes` leaves every field but the tags (compared by the caller, who reads
    them) as the article has it."""
    kept = (
        (changes.title, article.title),
        (changes.description, article.description),
        (changes.body, article.body),
    )
    return all(change is MISSING or change == current for change, current in kept)


def with_suffix(slug: str) -> str:
    """Another slug for the same title, when the plain one is taken."""
    return f"{slug}-{secrets.token_hex(3)}"


def is_plausible_slug(slug: str) -> bool:
    return len(slug) <= MAX_SLUG and bool(SLUG_PATTERN.match(slug))


def is_plausible_tag(tag: str) -> bool:
    return 0 < len(tag) <= MAX_TAG and is_clean_text(tag)


def require_tag_filter(tag: str) -> str:
    if not is_plausible_tag(tag):
        raise Invalid({"tag": ["is not a valid tag"]})
    return tag
