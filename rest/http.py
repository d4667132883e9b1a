"""Reading RealWorld requests and answering with RealWorld status codes and error bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from models.errors import DomainError, Invalid, RateLimited
from models.pages import DEFAULT_PAGE_SIZE, MAX_OFFSET, MAX_PAGE_SIZE, Window
from models.validation import MISSING, Maybe
from ratelimits.headers import budget_headers, refusal_headers
from resolvers import limits
from resolvers.context import Context
from rest.responses import JSONResponse
from stores.errors import StoreUnavailable

logger = logging.getLogger("conduit.rest")

STATUS_BY_CODE = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "BAD_USER_INPUT": 422,
    "RATE_LIMITED": 429,
}
# The one media type a REST body may have. Refusing the others (415) keeps a cross-site form
# or a no-cors fetch, which may post text/plain (or no type) without a CORS preflight, from
# writing on a signed-in user's behalf.
JSON_MEDIA_TYPE = "application/json"
# How long a client is asked to wait (Retry-After) when a database is out of reach.
RETRY_AFTER_SECONDS = 5


class UnsupportedMediaType(Exception):
    """A body sent as anything but JSON in UTF-8: answered 415 before it is read."""


Handler = Callable[[Context, Request], Awaitable[Response]]
ContextFactory = Callable[[Request], Awaitable[Context]]
Endpoint = Callable[[Request], Awaitable[Response]]


def endpoint(handler: Handler, context_for: ContextFactory) -> Endpoint:
    """A Starlette endpoint running `handler` with the request's Context, after charging the
    client's request budget (its state in the RateLimit-* headers), turning domain errors
    into their RealWorld answers (past a rate limit, 429 with Retry-After), an unreachable
    database into a 503 to retry, and anything unexpected into a logged, masked 500."""

    async def run(request: Request) -> Response:
        ctx = await context_for(request)
        try:
            budget = await limits.charge_request(ctx)
        except RateLimited as error:
            return rate_limited_response(error)
        response = await _answer(handler, ctx, request)
        if budget is not None and "RateLimit-Limit" not in response.headers:
            response.headers.update(budget_headers(budget))
        return response

    return run


def rate_limited_response(error: RateLimited) -> JSONResponse:
    response = errors_response(STATUS_BY_CODE[error.code], error.fields)
    response.headers.update(refusal_headers(error.limit, error.retry_after))
    return response


async def _answer(handler: Handler, ctx: Context, request: Request) -> Response:
    try:
        return await handler(ctx, request)
    except RateLimited as error:
        return rate_limited_response(error)
    except UnsupportedMediaType as error:
        return errors_response(415, {"request": [str(error)]})
    except DomainError as error:
        return errors_response(STATUS_BY_CODE[error.code], error.fields)
    except StoreUnavailable as error:
        # An outage, not a bug: one line per request, no traceback.
        logger.warning(
            "store unavailable in %s %s (request id %s): %s",
            request.method,
            request.url.path,
            ctx.request_id,
            error,
            extra={"request_id": ctx.request_id},
        )
        response = errors_response(503, {"server": ["service unavailable, try again shortly"]})
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    except Exception:
        logger.exception(
            "unexpected error in %s %s (request id %s)",
            request.method,
            request.url.path,
            ctx.request_id,
            extra={"request_id": ctx.request_id},
        )
        message = f"unexpected error (request id {ctx.request_id})"
        return errors_response(500, {"server": [message]})


def timed_out(seconds: float) -> JSONResponse:
    """The answer to a request stopped by its deadline (middleware.Deadline)."""
    return errors_response(503, {"request": [f"took longer than {seconds:g} s and was stopped"]})


def errors_response(status: int, fields: dict[str, list[str]]) -> JSONResponse:
    return JSONResponse({"errors": fields}, status_code=status)


def no_content() -> Response:
    return Response(status_code=204)


async def wrapped_object(request: Request, key: str) -> dict[str, Any]:
    """The object inside RealWorld's wrapper, e.g. `{"user": {...}}` -> `{...}`."""
    _require_json(request.headers.get("content-type", ""))
    try:
        payload = json.loads(await request.body())
    except (ValueError, RecursionError):
        raise Invalid({"request": ["body must be valid JSON"]}) from None
    inner = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(inner, dict):
        raise Invalid({key: ["can't be blank"]})
    return inner


def _require_json(content_type: str) -> None:
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    charsets = {p.partition("=")[2].strip('"') for p in parameters if p.startswith("charset=")}
    if media_type != JSON_MEDIA_TYPE or not charsets <= {"utf-8"}:
        raise UnsupportedMediaType("the body must be sent as application/json in UTF-8")


def field(data: dict[str, Any], name: str) -> Maybe[Any]:
    return data.get(name, MISSING)


def window(request: Request) -> Window:
    """`limit` (1..100, default 20) and `offset` (0..) from the query string."""
    limit = _whole_number(request, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    offset = _whole_number(request, "offset", 0, 0, MAX_OFFSET)
    return Window(limit=limit, offset=offset)


def query_text(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value if value else None


def _whole_number(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12 or not low <= int(raw) <= high:
        raise Invalid({name: [f"must be a whole number from {low} to {high}"]})
    return int(raw)
