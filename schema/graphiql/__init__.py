"""GraphiQL served by the app itself: the page a browser gets at /graphql and every file it
loads, all from this origin, so that it works with no network beyond this server. The npm
files beside this module are refreshed by `python3 dev.py graphiql-assets` (devtasks.py pins
their versions); conduit-graphiql.js starts GraphiQL with the shipped operations
(docs/operations) as tabs, each with its example variables."""

from __future__ import annotations

import gzip
import hashlib
import html
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from schema.operations import OPERATIONS, examples

ASSET_PREFIX = "/graphiql"
HERE = Path(__file__).resolve().parent
# Shown in the headers editor; conduit-graphiql.js leaves it out of requests until it is
# replaced, as a token that is not one is refused (UNAUTHENTICATED), never taken as anonymous.
AUTHORIZATION_HINT = "Bearer <token from login>"
WELCOME = """\
# Conduit's operations, one per tab, each with example variables (Variables, below) that
# run as they are. Run one with Ctrl-Enter or the play button.
# Register (or Login) answers a token: put it in Headers below, in place of the hint,
# to act as that user:  {"Authorization": "Bearer <token>"}
"""
# Everything same-origin and no inline script: the configuration is a JSON block, which is
# data, not script; no inline style either (scripts may still set an element's style). Fonts are
# data: URLs in graphiql.min.css. connect-src 'self' covers the subscriptions' WebSocket too
# (ws: or wss: to this host and port, as CSP Level 3 has it and as Chromium 71, Safari 16 and
# Firefox do; the browser test runs one), so the policy needs no host of its own and stays static.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "font-src data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
# Asset URLs carry their content's digest, so a browser may keep each for good.
_ASSET_CACHE = "public, max-age=31536000, immutable"
_CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# In the order the page loads them: GraphiQL's bundle expects React and ReactDOM as globals.
_SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "conduit-graphiql.js",
)
_STYLES = ("graphiql.min.css", "conduit-graphiql.css")


@dataclass(frozen=True)
class Asset:
    name: str
    content: bytes
    content_type: str
    digest: str

    @classmethod
    def read(cls, name: str) -> Asset:
        content = (HERE / name).read_bytes()
        digest = hashlib.sha256(content).hexdigest()[:16]
        return cls(name, content, _CONTENT_TYPES[Path(name).suffix], digest)

    @property
    def url(self) -> str:
        return f"{ASSET_PREFIX}/{self.name}?v={self.digest}"

    @cached_property
    def gzipped(self) -> bytes:
        """Made on first request rather than at start, which a Lambda's cold start would pay:
        GraphiQL's 1.5 MB are 630 kB compressed."""
        return gzip.compress(self.content, mtime=0)

    async def serve(self, request: Request) -> Response:
        etag = f'"{self.digest}"'
        headers = {
            "Cache-Control": _ASSET_CACHE,
            "ETag": etag,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type=self.content_type, headers=headers)
        return Response(self.content, media_type=self.content_type, headers=headers)


class GraphiQL:
    """The page and its assets, read once."""

    def __init__(self, graphql_path: str) -> None:
        self.assets = {name: Asset.read(name) for name in (*_STYLES, *_SCRIPTS)}
        headers = json.dumps({"Authorization": AUTHORIZATION_HINT}, indent=2)
        config = {
            "url": graphql_path,
            "tabs": [{**tab, "headers": headers} for tab in example_tabs()],
            "defaultQuery": WELCOME,
            "headers": headers,
            "authorizationHint": AUTHORIZATION_HINT,
        }
        self.html = _PAGE.format(
            styles="".join(
                f'    <link rel="stylesheet" href="{html.escape(self.assets[n].url)}">\n'
                for n in _STYLES
            ),
            scripts="".join(
                f'    <script src="{html.escape(self.assets[n].url)}"></script>\n' for n in _SCRIPTS
            ),
            # "<" escaped: the JSON cannot end its script element early, whatever it holds.
            config=json.dumps(config).replace("<", "\\u003c"),
        )

    def routes(self) -> list[Route]:
        return [
            Route(f"{ASSET_PREFIX}/{name}", asset.serve, methods=["GET"])
            for name, asset in self.assets.items()
        ]

    def page(self) -> HTMLResponse:
        headers = {
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            # Revalidated each time: a new release's page names new asset digests.
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        }
        return HTMLResponse(self.html, headers=headers)


def example_tabs() -> list[dict[str, str]]:
    """A tab per shipped operation, its file's text and its example variables, in the
    examples' order; the first opens with WELCOME."""
    tabs = [
        {
            "query": (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8"),
            "variables": json.dumps(variables, indent=2),
        }
        for name, variables in examples().items()
    ]
    tabs[0]["query"] = WELCOME + "\n" + tabs[0]["query"]
    return tabs


_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Conduit GraphiQL</title>
    <link rel="icon" href="data:,">
{styles}  </head>
  <body>
    <div id="graphiql">Loading GraphiQL...</div>
    <script type="application/json" id="graphiql-config">{config}</script>
{scripts}  </body>
</html>
"""
