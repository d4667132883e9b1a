"""The files a newcomer reads before the code: the licence, and CONTRIBUTING.md and
SECURITY.md, held to what the code does."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import PROJECT, Api
from tests.live import uvicorn_server


def test_the_project_is_mit_licensed_and_says_so_in_its_metadata() -> None:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (PROJECT / "LICENSE").read_text().startswith("MIT License\n")


def test_every_module_contributing_runs_exists() -> None:
    text = (PROJECT / "CONTRIBUTING.md").read_text()
    modules = set(re.findall(r"\.venv/bin/python -m ([\w.]+)", text))
    assert {"stores.sql.migrate", "tests.test_schema_sdl", "bench.run"} <= modules
    missing = [m for m in sorted(modules) if importlib.util.find_spec(m) is None]
    assert missing == []
    for path in re.findall(r"`((?:tests|stores|bench)/[\w/.]+\.py)`", text):
        assert (PROJECT / path).is_file(), path


def test_the_changelog_and_security_policy_are_there() -> None:
    assert (PROJECT / "CHANGELOG.md").read_text().startswith("# Changelog\n")
    assert "Report a vulnerability" in (PROJECT / "SECURITY.md").read_text()


def test_a_token_carries_exactly_the_claims_security_md_lists(api: Api) -> None:
    """SECURITY.md tells users a token holds nothing secret: its table of claims must be the
    whole of what the API hands out."""
    table = (PROJECT / "SECURITY.md").read_text().split("| claim | what |", 1)[1]
    listed = set(re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE))
    api.register("claims")
    header, payload, _signature = api.tokens["claims"].split(".")
    assert json.loads(_unpadded(header)) == {"alg": "HS256", "typ": "JWT"}
    assert set(json.loads(_unpadded(payload))) == listed == {"sub", "iat", "exp", "ver"}


def _unpadded(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


DOCUMENTS = [
    PROJECT / "README.md",
    PROJECT / "CONTRIBUTING.md",
    PROJECT / "SECURITY.md",
    PROJECT / "CHANGELOG.md",
    *sorted((PROJECT / "docs").glob("*.md")),
]


def test_the_readme_is_short_and_the_rest_is_in_docs() -> None:
    readme = (PROJECT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", readme))
    assert linked == {p.name for p in (PROJECT / "docs").glob("*.md")}  # every page reachable


def test_every_relative_link_of_the_documents_resolves() -> None:
    broken = [
        f"{document.relative_to(PROJECT)}: {target}"
        for document in DOCUMENTS
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", document.read_text())
        if not (document.parent / target).exists()
    ]
    assert broken == []


def _readme_block(heading: str) -> str:
    section = (PROJECT / "README.md").read_text().split(f"\n## {heading}\n", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, heading
    return match.group(1)


@pytest.mark.slow  # starts a server
def test_the_readmes_first_graphql_query_and_rest_call_work_as_pasted(tmp_path: Path) -> None:
    env = {"CONDUIT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/conduit.db"}
    with uvicorn_server(env, workers=1, log=tmp_path / "server.log") as base_url:
        port = base_url.rsplit(":", 1)[1]
        # Each block on its own, in either order, and again: it signs up, or finds it did.
        for heading in ["A first GraphQL query", "A first REST call", "A first GraphQL query"]:
            script = _readme_block(heading).replace("localhost:8000", f"localhost:{port}")
            result = subprocess.run(  # noqa: S603 - bash running the README's own block
                ["bash", "-c", f"set -euo pipefail\n{script}"],  # noqa: S607 - bash from PATH
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            answers = [json.loads(line) for line in result.stdout.splitlines()]
            assert all("errors" not in a for a in answers[1:]), answers  # sign-up may refuse
    data = [a["data"] or {} for a in answers]
    [articles] = [d["articles"] for d in data if "articles" in d]
    assert articles["totalCount"] == 3
    assert {n["author"]["username"] for n in articles["nodes"]} == {"jake"}
    assert {"node": {"__typename": "Article", "title": "Hello GraphQL"}} in data
    viewer = next(d["viewer"] for d in data if "viewer" in d)
    assert viewer["profile"]["articles"]["totalCount"] == 3  # all jake's, REST's one too
    assert data[-2:] == [{"tags": ["intro"]}] * 2  # the text with its hash, then the hash alone
