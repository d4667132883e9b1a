"""Set-up and everyday commands, needing nothing but Python 3.11+.

    python3 dev.py serve [uvicorn options]   run the server (embedded SQLite by default)
    python3 dev.py test [pytest options]     run the test suite
    python3 dev.py lint                      ruff and mypy

Each first creates `.venv` in the repo root and installs the project into it, again only when
pyproject.toml has changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed-pyproject-sha256"


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (dev.py may be run by an older python3)
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("installing dependencies into .venv ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def run(tool: str, *args: str) -> int:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command not in ("serve", "test", "lint"):
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    ensure_environment()
    if command == "serve":
        args = ["app:app", *(rest or ["--host", "127.0.0.1", "--port", "8000"])]
        if os.name != "nt":  # become the server, so signals (Ctrl-C, SIGTERM) reach it directly
            os.chdir(ROOT)
            os.execv(BIN / "uvicorn", [str(BIN / "uvicorn"), *args])
        return run("uvicorn", *args)
    if command == "test":
        return run("pytest", *rest)
    return run("ruff", "check", ".") or run("ruff", "format", "--check", ".") or run("mypy", ".")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
