"""The files a newcomer reads before the code: the licence, and CONTRIBUTING.md and
SECURITY.md, held to what the code does."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import tomllib

from tests.conftest import PROJECT, Api


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
