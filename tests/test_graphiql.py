"""GraphiQL from the app itself: its page names only this server's files, each served as what it
is, under a Content-Security-Policy that allows nothing else; its tabs are the shipped
operations with their example variables; and in a real browser with no network but this server
it runs them, a subscription too."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

import devtasks
from app import create_app
from schema.graphiql import ASSET_PREFIX, AUTHORIZATION_HINT, HERE, WELCOME, example_tabs
from schema.operations import OPERATIONS, examples
from tests.browser import Page, chromium_page, find_browser
from tests.conftest import PROJECT, separate_sqlite_files
from tests.live import uvicorn_server

CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
BROWSER_SECONDS = 30
# Scripts run in the page: each finds one of GraphiQL's CodeMirror editors by where it sits.
QUERY_EDITOR = "document.querySelector('.graphiql-query-editor .CodeMirror')?.CodeMirror"
HEADERS_EDITOR = (
    "[...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')]"
    ".map((e) => e.CodeMirror).find((cm) => cm.getValue().includes('Authorization'))"
)
TAB = (
    "[...document.querySelectorAll('.graphiql-tab-button')]"
    ".find((b) => b.innerText.trim() === {name})"
)
RESULT = "document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"
RUN = "document.querySelector('.graphiql-execute-button').click()"
# How long a comment may take to show in a running subscription's result pane before another
# is posted: the subscription starts listening a moment after its subscribe message.
PROBE_SECONDS = 0.3


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = separate_sqlite_files(tmp_path_factory.mktemp("graphiql"))
    with TestClient(create_app(settings)) as client:
        yield client


def _page(http: TestClient) -> httpx2.Response:
    response = http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response


def _referenced(page: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', page)


def test_the_page_names_nothing_of_another_origin(http: TestClient) -> None:
    page = _page(http).text
    assert "//" not in page  # neither https://… nor a scheme-relative //host/…
    assets = [url for url in _referenced(page) if not url.startswith("data:")]
    assert len(assets) == 6
    assert all(url.startswith(f"{ASSET_PREFIX}/") for url in assets), assets


def test_every_file_the_page_names_is_served_as_what_it_is(http: TestClient) -> None:
    for url in _referenced(_page(http).text):
        if url.startswith("data:"):
            continue
        response = http.get(url)  # asking for gzip, as browsers do
        assert response.status_code == 200, url
        assert response.headers["content-encoding"] == "gzip", url
        name = url.split("?")[0].removeprefix(f"{ASSET_PREFIX}/")
        assert response.content == (HERE / name).read_bytes(), url
        assert response.headers["content-type"] == CONTENT_TYPES[Path(name).suffix], url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "immutable" in response.headers["cache-control"]
        again = http.get(url, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""
        plain = http.get(url, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.content == response.content


def test_no_other_file_beside_them_is_served(http: TestClient) -> None:
    for name in ["__init__.py", "graphiql.LICENSE", "graphiql.min.js.map"]:
        assert http.get(f"{ASSET_PREFIX}/{name}").status_code == 404, name


def test_the_page_runs_scripts_and_styles_of_this_origin_only(http: TestClient) -> None:
    response = _page(http)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert "unsafe" not in response.headers["content-security-policy"]
    # The only inline script element is data: GraphiQL's configuration.
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.text)
    assert inline == [' type="application/json" id="graphiql-config"']
    assert " style=" not in response.text
    assert response.headers["cache-control"] == "no-cache"


def test_the_tabs_are_the_shipped_operations_with_their_example_variables() -> None:
    """The variables are checked against each operation in tests/test_operations.py."""
    tabs = example_tabs()
    queries = [tab["query"] for tab in tabs]
    assert queries[0].startswith(WELCOME)
    queries[0] = queries[0].removeprefix(WELCOME).lstrip("\n")
    assert queries == [(OPERATIONS / f"{name}.graphql").read_text() for name in examples()]
    assert [json.loads(tab["variables"]) for tab in tabs] == list(examples().values())


def test_the_vendored_files_are_the_pinned_packages_with_their_licences() -> None:
    docs = (PROJECT / "docs" / "graphql.md").read_text()
    for package, (version, files) in devtasks.GRAPHIQL_PACKAGES.items():
        for name in files.values():
            assert (HERE / name).is_file(), name
        assert (HERE / f"{package}.LICENSE").read_text().startswith("MIT License\n")
        assert f"`{package}` {version}" in docs, package
        assert not re.match(r"[\^~<>]", version), version  # exact, not a range


def test_the_lambda_package_carries_them_and_their_licences() -> None:
    setuptools = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packaged = set(devtasks.lambda_files(setuptools))
    shipped = {p.relative_to(PROJECT).as_posix() for p in HERE.iterdir() if p.is_file()}
    assert shipped <= packaged


def test_graphiql_assets_takes_each_pinned_package_from_npm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`dev.py graphiql-assets` with npm stood in for: each package's tarball, as `npm pack`
    leaves it, holds its files with a source map comment, which is left out."""
    packed: list[str] = []

    def npm_pack(args: list[str], **options: object) -> subprocess.CompletedProcess[str]:
        destination, spec = Path(args[args.index("--pack-destination") + 1]), args[-1]
        packed.append(spec)
        package = spec.rsplit("@", 1)[0]
        tarball = destination / f"{package}.tgz"
        with tarfile.open(tarball, "w:gz") as archive:
            for source in devtasks.GRAPHIQL_PACKAGES[package][1]:
                content = f"{source} of {spec}\n//# sourceMappingURL=x.map\n".encode()
                entry = tarfile.TarInfo(f"package/{source}")
                entry.size = len(content)
                archive.addfile(entry, io.BytesIO(content))
        return subprocess.CompletedProcess(args, 0, stdout=f"{tarball.name}\n")

    monkeypatch.setattr("devtasks.subprocess.run", npm_pack)
    monkeypatch.setattr(devtasks, "GRAPHIQL_DIR", tmp_path)
    assert devtasks.main(["graphiql-assets"]) == 0
    pins = devtasks.GRAPHIQL_PACKAGES
    assert packed == [f"{package}@{version}" for package, (version, _) in pins.items()]
    assert (tmp_path / "react.production.min.js").read_text() == (
        "umd/react.production.min.js of react@18.3.1\n"
    )
    written = {p.name for p in tmp_path.iterdir()}
    assert written == {name for _, files in pins.values() for name in files.values()}


@pytest.mark.slow  # starts a server and a browser: 4 to 10 s
def test_graphiql_runs_operations_with_no_network_but_this_server(tmp_path: Path) -> None:
    if find_browser() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    env = {"CONDUIT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/conduit.db"}
    with (
        uvicorn_server(env, workers=1, log=tmp_path / "server.log") as base_url,
        chromium_page() as page,
    ):
        page.send("Page.navigate", url=f"{base_url}/")  # the URL uvicorn prints: on to /graphql
        page.wait_for(f"{QUERY_EDITOR}?.operationName === 'Register'", BROWSER_SECONDS)
        headers = page.wait_for(f"{HEADERS_EDITOR}?.getValue()", 5)
        assert json.loads(headers) == {"Authorization": AUTHORIZATION_HINT}

        # The first tab, as it opens: its example variables are sent (the operation holds no
        # values of its own), and the hint in the headers is not sent as a token.
        registered = _run(page)
        assert registered["data"]["register"]["user"]["username"] == "jake", registered
        token = registered["data"]["register"]["token"]

        # The Feed tab, with the token in its headers as the first tab's comment says.
        _open_tab(page, "Feed", token)
        feed = _run(page)
        assert feed.get("data") == {"feed": {"nodes": []}}, feed

        # A subscription, over a WebSocket with the token as its connection_init payload,
        # shows the comments posted meanwhile through the API.
        slug = _graphql(base_url, "CreateArticle", token)["createArticle"]["slug"]
        _open_tab(page, "CommentAdded", token)
        page.evaluate(RESULT.replace(".getValue()", ".setValue('')"))
        page.evaluate(RUN)
        shown = _until_shown(
            page, lambda n: _graphql(base_url, "AddComment", token, slug=slug, body=f"Live {n}")
        )
        assert "errors" not in shown, shown
        assert shown["data"]["commentAdded"]["author"] == {"username": "jake"}, shown
        assert shown["data"]["commentAdded"]["body"].startswith("Live "), shown

        requests = [
            e["params"]["request"]["url"]
            for e in page.events
            if e["method"] == "Network.requestWillBeSent"
        ]
        problems = _problems(page.events)
    sockets = [e["params"]["url"] for e in page.events if e["method"] == "Network.webSocketCreated"]
    outside = [u for u in requests if not u.startswith((f"{base_url}/", "data:"))]
    assert outside == []
    assert sockets == [base_url.replace("http://", "ws://") + "/graphql"]
    sent = [
        json.loads(e["params"]["response"]["payloadData"])
        for e in page.events
        if e["method"] == "Network.webSocketFrameSent"
    ]
    assert sent[0] == {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    assert sum(u.startswith(f"{base_url}{ASSET_PREFIX}/") for u in requests) == 6
    assert problems == []  # no script error, no request or style the page's policy refused


def _run(page: Page) -> dict[str, Any]:
    """Runs the query editor's operation and returns its result once the result pane shows
    one (the pane is emptied first, so that the previous result is not taken for it)."""
    page.evaluate(RESULT.replace(".getValue()", ".setValue('')"))
    page.evaluate(RUN)
    shown = page.wait_for(RESULT, BROWSER_SECONDS)
    result: dict[str, Any] = json.loads(shown)
    return result


def _open_tab(page: Page, name: str, token: str) -> None:
    """Opens the tab of the operation `name` and puts the token in its headers."""
    page.evaluate(f"{TAB.format(name=json.dumps(name))}.click()")
    page.wait_for(f"{QUERY_EDITOR}?.operationName === {json.dumps(name)}", BROWSER_SECONDS)
    bearer = json.dumps({"Authorization": f"Bearer {token}"})
    page.evaluate(f"{HEADERS_EDITOR}.setValue({json.dumps(bearer)})")


def _graphql(base_url: str, name: str, token: str, **variables: Any) -> dict[str, Any]:
    """The data of the shipped operation `name` with its example variables (and `variables`),
    run as the token's user."""
    query = (OPERATIONS / f"{name}.graphql").read_text()
    body = {"query": query, "variables": examples()[name] | variables}
    answer = httpx2.post(
        f"{base_url}/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


def _until_shown(page: Page, post: Callable[[int], object]) -> dict[str, Any]:
    """What the result pane shows once a posted comment reaches it, posting one after another
    until then: graphql-transport-ws does not say when a subscription starts listening."""
    for attempt in range(int(BROWSER_SECONDS / PROBE_SECONDS)):
        post(attempt)
        try:
            shown = page.wait_for(RESULT, PROBE_SECONDS)
        except TimeoutError:
            continue
        result: dict[str, Any] = json.loads(shown)
        return result
    pytest.fail("no comment reached the subscription's result pane")


def _problems(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Script errors, failed loads, and what the page logged as an error: a request or a style
    its Content-Security-Policy refused, say."""
    return [
        e["params"]
        for e in events
        if e["method"] in ("Runtime.exceptionThrown", "Network.loadingFailed")
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
