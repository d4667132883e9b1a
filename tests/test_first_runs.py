"""What a newcomer meets first: dev.py on an older Python, and the server's start-up log."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.live import uvicorn_server

DEV_PY = PROJECT / "dev.py"
# dev.py run by an older python3: sys.version_info and sys.version as that Python has them.
AS_PYTHON_3_10 = """
import sys
sys.version_info = (3, 10, 12, "final", 0)
sys.version = "3.10.12 (main) [GCC 11.4.0]"
sys.argv = ["dev.py", "serve"]
try:
    exec(compile(open("dev.py").read(), "dev.py", "exec"), {"__name__": "__main__"})
finally:
    print("devtasks imported" if "devtasks" in sys.modules else "devtasks not imported")
"""


def test_dev_py_is_written_in_syntax_every_python_3_parses() -> None:
    source = DEV_PY.read_text()
    tree = ast.parse(source, feature_version=(3, 4))  # walrus, match, `/` params: refused
    nodes = list(ast.walk(tree))
    # What ast.parse lets through whatever the feature version: f-strings (3.6), variable
    # annotations (3.6), `from __future__ import annotations` (3.7), annotations at all.
    late = [type(n).__name__ for n in nodes if isinstance(n, ast.JoinedStr | ast.AnnAssign)]
    late += [
        "__future__" for n in nodes if isinstance(n, ast.ImportFrom) and n.module == "__future__"
    ]
    late += ["annotation" for n in nodes if isinstance(n, ast.arg) and n.annotation]
    late += ["annotation" for n in nodes if isinstance(n, ast.FunctionDef) and n.returns]
    assert late == []


def test_an_older_python_gets_one_line_naming_the_version_needed() -> None:
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", AS_PYTHON_3_10],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "dev.py needs Python 3.11 or newer; this is Python 3.10.12 "
        "(run it with python3.11 or newer, e.g. `python3.11 dev.py serve`)"
    ]
    assert result.stdout.strip() == "devtasks not imported"  # refused before any other import


@pytest.mark.slow  # two servers started
def test_alembic_speaks_only_when_a_migration_runs(tmp_path: Path) -> None:
    env = {"CONDUIT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/conduit.db"}
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    with uvicorn_server(env, workers=1, log=first):
        pass
    with uvicorn_server(env, workers=1, log=second):
        pass
    migrating = [line for line in first.read_text().splitlines() if " alembic." in line]
    assert migrating
    assert all("Running upgrade" in line for line in migrating), migrating
    assert " alembic." not in second.read_text()  # at the latest migration: nothing to say
