"""dev.py's set-up: what it installs for which command, and what `test --fast` runs. pip and
the tools are stood in for by a recorder; the venv, the stamp and pyproject.toml are a copy's."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import devtasks
from config import SHIPPED_OPERATIONS
from schema.operations import EXAMPLES, OPERATIONS
from tests.conftest import PROJECT


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """The commands dev.py runs, each as its arguments; nothing is really run."""
    shutil.copy(PROJECT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(PROJECT / devtasks.LOCK_NAME, tmp_path / devtasks.LOCK_NAME)
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()  # a venv there already: none is created
    monkeypatch.setattr(devtasks, "ROOT", tmp_path)
    monkeypatch.setattr(devtasks, "VENV", venv)
    monkeypatch.setattr(devtasks, "BIN", venv / "bin")
    monkeypatch.setattr(devtasks, "STAMP", venv / ".installed-pyproject-sha256")
    recorded: list[list[str]] = []

    def run(args: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        env = options.get("env") or {}
        recorded.append([*args, *(f"{k}={v}" for k, v in env.items() if k.startswith("CONDUIT"))])
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setattr("devtasks.subprocess.run", run)
    monkeypatch.setattr("devtasks.os.execv", lambda path, args: recorded.append(list(args)))
    monkeypatch.setattr("devtasks.os.chdir", lambda path: None)
    return recorded


def installs(calls: list[list[str]]) -> list[str]:
    return [c[c.index("-e") + 1] for c in calls if "install" in c and "-e" in c]


def test_serve_installs_the_runtime_dependencies_only(calls: list[list[str]]) -> None:
    devtasks.main(["serve"])
    root = str(devtasks.ROOT)
    assert installs(calls) == [root]  # no [dev]: pytest, mypy, moto are not needed to serve
    assert [c[1:3] for c in calls if c[0].endswith("python")][-1] == ["-m", "server"]


def test_test_and_lint_add_the_dev_extras_once(calls: list[list[str]]) -> None:
    root = str(devtasks.ROOT)
    devtasks.main(["serve"])
    devtasks.main(["test"])
    devtasks.main(["lint"])
    devtasks.main(["serve"])
    assert installs(calls) == [root, f"{root}[dev]"]  # the extras on first need, then kept


def test_a_changed_pyproject_installs_again(calls: list[list[str]]) -> None:
    root = str(devtasks.ROOT)
    devtasks.main(["test"])
    with (devtasks.ROOT / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n# changed\n")
    devtasks.main(["test"])
    devtasks.main(["test"])
    assert installs(calls) == [f"{root}[dev]", f"{root}[dev]"]


def test_operations_writes_the_manifest_with_the_runtime_dependencies(
    calls: list[list[str]],
) -> None:
    devtasks.main(["operations"])
    assert installs(calls) == [str(devtasks.ROOT)]
    assert calls[-1][1:] == ["-m", "schema.operations"]


def test_the_lambda_package_holds_the_shipped_operations_where_the_app_reads_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`dev.py package` with pip stood in for, so that only the project's own files are in the
    zip: without docs/operations, GraphiQL could not build its page and
    CONDUIT_GRAPHQL_TRUSTED_DOCUMENTS=on would find no manifest."""
    monkeypatch.setattr("devtasks.subprocess.run", lambda args, **options: None)
    monkeypatch.setattr(devtasks, "LAMBDA_ZIP", tmp_path / "lambda.zip")
    assert devtasks.package() == 0
    with zipfile.ZipFile(tmp_path / "lambda.zip") as archive:
        names = set(archive.namelist())
    # The zip's root is the project's, where config.py and the packages sit.
    assert {"config.py", "schema/operations.py", "schema/graphiql/conduit-graphiql.js"} <= names
    read = {SHIPPED_OPERATIONS, EXAMPLES, *OPERATIONS.glob("*.graphql")}
    assert {p.relative_to(PROJECT).as_posix() for p in read} <= names
    shipped = {n for n in names if n.startswith("docs/")}
    assert shipped == {p.relative_to(PROJECT).as_posix() for p in OPERATIONS.iterdir()}


def test_fast_is_sqlite_only_without_the_slow_tests(calls: list[list[str]]) -> None:
    assert devtasks.main(["test", "--fast", "-q", "tests/test_smoke.py"]) == 0
    pytest_run = calls[-1]
    assert pytest_run[0].endswith("pytest")
    assert pytest_run[1:] == [
        "-m",
        "not slow",
        "-q",
        "tests/test_smoke.py",
        "CONDUIT_TEST_BACKENDS=sqlite",
    ]
    devtasks.main(["test", "-q"])
    assert calls[-1][1:] == ["-q"]  # the full run: every backend, slow tests too


def test_every_install_takes_the_locked_versions(calls: list[list[str]]) -> None:
    devtasks.main(["serve"])
    [install] = [c for c in calls if "install" in c and "-e" in c]
    assert install[install.index("-c") + 1] == str(devtasks.ROOT / devtasks.LOCK_NAME)


def test_the_lock_is_made_from_the_dependencies_as_they_are_now() -> None:
    """requirements.lock names the digest of pyproject.toml's dependencies it was made from,
    and pins every one of them at a version they allow: after a change of dependencies this
    fails until `python3 dev.py lock` is run."""
    text = (PROJECT / devtasks.LOCK_NAME).read_text()
    assert f"# dependencies-sha256: {devtasks.dependencies_digest()}\n" in text, (
        "requirements.lock is behind pyproject.toml: run python3 dev.py lock"
    )
    pins = dict(
        line.split("==", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    pinned = {canonicalize_name(name): version for name, version in pins.items()}
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    for requirement in map(Requirement, wanted):
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in the lock"
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)
