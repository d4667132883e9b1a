"""The REST contract as this server keeps it, served at /api/openapi.json: the RealWorld
project's OpenAPI document (realworld-openapi.json, its openapi.yml as JSON) with this server's
own limits written in: the length of every text field, the size of a page, the schemes a
token may come in, and the answers any operation may also give (415, 429, 503)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from models import articles, comments, pages, users

REALWORLD = Path(__file__).with_name("realworld-openapi.json")
# Fields that must not be blank, by schema; the others may be left out or emptied.
_NOT_BLANK = 1
_USER = {
    "username": (_NOT_BLANK, users.MAX_USERNAME),
    "email": (_NOT_BLANK, users.MAX_EMAIL),
    "password": (users.MIN_PASSWORD, users.MAX_PASSWORD),
}
_ARTICLE = {
    "title": (_NOT_BLANK, articles.MAX_TITLE),
    "description": (_NOT_BLANK, articles.MAX_DESCRIPTION),
    "body": (_NOT_BLANK, articles.MAX_BODY),
}
LENGTHS: dict[str, dict[str, tuple[int, int]]] = {
    # A login's password has no limit of its own: one that no account can have just fails.
    "LoginUser": {"email": _USER["email"]},
    "NewUser": _USER,
    "UpdateUser": {**_USER, "bio": (0, users.MAX_BIO), "image": (0, users.MAX_IMAGE_URL)},
    "NewArticle": _ARTICLE,
    "UpdateArticle": _ARTICLE,
    "NewComment": {"body": (_NOT_BLANK, comments.MAX_COMMENT)},
}


def _error_answer(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/GenericErrorModel"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# Answers any operation may give besides those the RealWorld document lists, by status.
_ALSO_ANSWERED = {
    "429": (
        "TooManyRequests",
        "Past a rate limit: try again after `Retry-After` seconds (the RateLimit-* headers of "
        "every answer show the budget)",
    ),
    "503": (
        "Unavailable",
        "A store is out of reach, or the request ran past its deadline: try again shortly",
    ),
}
_NOT_JSON = ("415", "UnsupportedMediaType", "A body sent as anything but application/json")


@cache
def document() -> dict[str, Any]:
    contract: dict[str, Any] = json.loads(REALWORLD.read_text(encoding="utf-8"))
    contract["servers"] = [{"url": "/api"}]
    components = contract["components"]
    for schema, lengths in LENGTHS.items():
        properties = components["schemas"][schema]["properties"]
        for name, (shortest, longest) in lengths.items():
            properties[name].update(minLength=shortest, maxLength=longest)
    for schema in ("NewArticle", "UpdateArticle"):
        tag_list = components["schemas"][schema]["properties"]["tagList"]
        tag_list.update(maxItems=articles.MAX_TAGS)
        tag_list["items"].update(minLength=_NOT_BLANK, maxLength=articles.MAX_TAG)
    parameters = components["parameters"]
    parameters["limitParam"]["schema"]["maximum"] = pages.MAX_PAGE_SIZE
    parameters["offsetParam"]["schema"]["maximum"] = pages.MAX_OFFSET
    components["securitySchemes"]["Token"]["description"] += (
        "`Bearer xxxxxx.yyyyyyy.zzzzzz` is accepted too. A token ends when it expires, when "
        "its user changes their password or email, and when its user no longer exists."
    )
    not_json_status, not_json, not_json_description = _NOT_JSON
    for name, description in [*_ALSO_ANSWERED.values(), (not_json, not_json_description)]:
        components["responses"][name] = _error_answer(description)
    for operations in contract["paths"].values():
        for operation in operations.values():
            answers = operation["responses"]
            for status, (name, _) in _ALSO_ANSWERED.items():
                answers[status] = {"$ref": f"#/components/responses/{name}"}
            if "requestBody" in operation:
                answers[not_json_status] = {"$ref": f"#/components/responses/{not_json}"}
    return contract


@cache
def body() -> bytes:
    """The document as served, encoded once."""
    return json.dumps(document(), ensure_ascii=False).encode()
