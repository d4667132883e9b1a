"""dev.py's set-up: what it installs for which command, and what `test --fast` runs. pip and
the tools are stood in for by a recorder; the venv, the stamp and pyproject.toml are a copy's."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import devtasks
from tests.conftest import PROJECT


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """The commands dev.py runs, each as its arguments; nothing is really run."""
    shutil.copy(PROJECT / "pyproject.toml", tmp_path / "pyproject.toml")
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
