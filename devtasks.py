"""What `python3 dev.py` runs, once dev.py has checked the Python version (dev.py itself is
kept to syntax any Python 3 parses, so that an older one gets its message rather than a
SyntaxError or an ImportError).

Each command first creates `.venv` in the repo root and installs the project into it (with the
dev extras for test and lint), again only when pyproject.toml has changed since the last install.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import venv
import zipfile
from pathlib import Path
from typing import Any

USAGE = """Set-up and everyday commands, on Python 3.11 or newer:

    python3 dev.py serve [uvicorn options]   run the server (embedded SQLite by default)
    python3 dev.py test [pytest options]     run the test suite (every backend: CI's run)
    python3 dev.py test --fast [options]     SQLite only, without the tests marked slow
    python3 dev.py lint                      ruff and mypy
    python3 dev.py package                   build dist/lambda.zip, the AWS Lambda package
    python3 dev.py lock                      pin every dependency again (requirements.lock)
    python3 dev.py operations                write docs/operations/manifest.json again
    python3 dev.py graphiql-assets           fetch GraphiQL's pinned files again (npm pack)
"""
ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed-pyproject-sha256"
# The version of every dependency, direct or not, that .venv, CI and the Lambda package install:
# pip constraints made by `dev.py lock` from pyproject.toml.
LOCK_NAME = "requirements.lock"
LOCK_HEADER = """\
# Every dependency's version, for every install: .venv (dev.py), CI and the Lambda package.
# Made by `python3 dev.py lock` from pyproject.toml's dependencies; run it again after
# changing them (a test fails while this file is behind them).
"""
PROJECT_NAME = "conduit-graphql"
LAMBDA_ZIP = ROOT / "dist" / "lambda.zip"
# The Lambda runtime the package is for; Terraform's runtime and architecture must match.
LAMBDA_PYTHON = "3.11"
LAMBDA_PLATFORM = "manylinux2014_x86_64"
# Every entry gets the same time and mode, so equal inputs always give an equal zip.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_FILE_MODE = 0o100644
# Console scripts name this machine's interpreter in their #! line, and bytecode is for this
# machine's Python: neither serves on Lambda, and both would differ from build to build.
LEFT_OUT = ("bin/*", "*/__pycache__/*", "*.pyc")
# Files the app reads beside its code that are in no package: the shipped operations, which are
# the trusted documents of CONDUIT_GRAPHQL_TRUSTED_DOCUMENTS=on and GraphiQL's tabs.
LAMBDA_DATA = ("docs/operations",)
# Runtime dependencies the Lambda does without: Mangum takes the place of the ASGI server, and
# uvicorn[standard] alone would add 6 MB to the zip (20 MB unpacked).
NOT_FOR_LAMBDA = ("uvicorn",)
# GraphiQL's files, served by the app itself (schema/graphiql) so that it works offline: each
# npm package at its exact version, and what of it is kept under which name. GraphiQL 4 is the
# last line with a UMD bundle (5 is ES modules with Monaco's web workers: a bundler or an import
# map); it takes React 18's UMD builds, the last React to have them.
GRAPHIQL_DIR = ROOT / "schema" / "graphiql"
GRAPHIQL_PACKAGES: dict[str, tuple[str, dict[str, str]]] = {
    "graphiql": (
        "4.1.2",
        {
            "graphiql.min.js": "graphiql.min.js",
            "graphiql.min.css": "graphiql.min.css",
            "LICENSE": "graphiql.LICENSE",
        },
    ),
    "react": (
        "18.3.1",
        {"umd/react.production.min.js": "react.production.min.js", "LICENSE": "react.LICENSE"},
    ),
    "react-dom": (
        "18.3.1",
        {
            "umd/react-dom.production.min.js": "react-dom.production.min.js",
            "LICENSE": "react-dom.LICENSE",
        },
    ),
}
# The source maps are not shipped: a browser's developer tools would ask for them in vain.
_SOURCE_MAP_COMMENT = re.compile(rb"\n//# sourceMappingURL=\S+\s*$")


def ensure_environment(*, dev: bool = True) -> None:
    """.venv with the project's runtime dependencies, and with `dev` its dev extras (pytest,
    ruff, mypy, moto, the stubs) too; installed again only when pyproject.toml has changed, or
    when the extras are wanted and not yet there. The stamp holds pyproject.toml's sha256 and
    "dev" once the extras are installed."""
    if not (BIN / "python").exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pinned = _lock().read_bytes() if _lock().exists() else b""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + pinned).hexdigest()
    installed = STAMP.read_text().split() if STAMP.exists() else []
    if installed[:1] == [wanted] and (not dev or "dev" in installed[1:]):
        return
    print(f"installing {'dev and ' if dev else ''}runtime dependencies into .venv ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    target = f"{ROOT}[dev]" if dev else str(ROOT)
    subprocess.run([*pip, "install", *_constraints(), "-e", target], check=True, cwd=ROOT)
    STAMP.write_text(f"{wanted} dev" if dev else wanted)


def run(tool: str, *args: str, env: dict[str, str] | None = None) -> int:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, env=env).returncode


def arguments_for_test(rest: list[str]) -> tuple[list[str], dict[str, str] | None]:
    """pytest's arguments and environment for `dev.py test [--fast] [pytest options]`:
    --fast is SQLite only and leaves out the tests marked slow (the full run is CI's)."""
    if "--fast" not in rest:
        return rest, None
    others = [a for a in rest if a != "--fast"]
    return ["-m", "not slow", *others], {**os.environ, "CONDUIT_TEST_BACKENDS": "sqlite"}


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command not in ("serve", "test", "lint", "package", "lock", "operations", "graphiql-assets"):
        print(USAGE)
        return 0 if command in ("help", "-h", "--help") else 2
    if command == "graphiql-assets":  # npm's work alone: no .venv needed
        return graphiql_assets()
    # Serving and packaging need the runtime dependencies only; testing and linting the tools.
    ensure_environment(dev=command in ("test", "lint"))
    if command == "serve":
        # server.py runs uvicorn with the options every start of the server shares.
        args = ["-m", "server", *(rest or ["--host", "127.0.0.1", "--port", "8000"])]
        if os.name != "nt":  # become the server, so signals (Ctrl-C, SIGTERM) reach it directly
            os.chdir(ROOT)
            os.execv(BIN / "python", [str(BIN / "python"), *args])
        return run("python", *args)
    if command == "test":
        args, env = arguments_for_test(rest)
        return run("pytest", *args, env=env)
    if command == "package":
        return package()
    if command == "lock":
        return lock()
    if command == "operations":
        return run("python", "-m", "schema.operations")
    return run("ruff", "check", ".") or run("ruff", "format", "--check", ".") or run("mypy", ".")


def package() -> int:
    """dist/lambda.zip: the runtime dependencies of pyproject.toml as wheels for Lambda's
    platform, and the project's own modules, packages and LAMBDA_DATA. boto3 is included, as
    AWS advises: the runtime's copy is whatever version AWS last put there (often older than
    the one pinned here) and changes under the function without notice."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    with tempfile.TemporaryDirectory(prefix="conduit-lambda-") as directory:
        target = Path(directory)
        print(f"installing the dependencies for {LAMBDA_PLATFORM}, Python {LAMBDA_PYTHON} ...")
        pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q", "install"]
        platform = ["--platform", LAMBDA_PLATFORM, "--implementation", "cp"]
        wheels = ["--python-version", LAMBDA_PYTHON, "--only-binary=:all:", "--no-compile"]
        dependencies = [
            d
            for d in project["project"]["dependencies"]
            if requirement_name(d) not in NOT_FOR_LAMBDA
        ]
        target_option = ["--target", str(target), *_constraints()]
        subprocess.run([*pip, *target_option, *platform, *wheels, *dependencies], check=True)
        files = {p.relative_to(target).as_posix(): p for p in target.rglob("*") if p.is_file()}
        ours = lambda_files(project["tool"]["setuptools"])
        clashes = sorted(set(files) & set(ours))
        if clashes:
            sys.exit(f"a dependency installs files of the project's own: {', '.join(clashes)}")
        files.update(ours)
        kept = {
            n: p for n, p in files.items() if not any(fnmatch.fnmatchcase(n, x) for x in LEFT_OUT)
        }
        write_zip(LAMBDA_ZIP, kept)
    digest = hashlib.sha256(LAMBDA_ZIP.read_bytes()).hexdigest()
    size = LAMBDA_ZIP.stat().st_size / 1e6
    print(f"{os.path.relpath(LAMBDA_ZIP, ROOT)}: {len(kept)} files, {size:.1f} MB, sha256 {digest}")
    return 0


def lock() -> int:
    """requirements.lock: what pip resolves for the project with its dev extras, from nothing
    installed, pinned exactly, with the digest of the dependencies it was made from."""
    with tempfile.TemporaryDirectory(prefix="conduit-lock-") as directory:
        report = Path(directory) / "report.json"
        pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q", "install"]
        resolve = ["--dry-run", "--ignore-installed", "--report", str(report)]
        subprocess.run([*pip, *resolve, "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)
        resolved = json.loads(report.read_text())["install"]
    pins = sorted(
        f"{item['metadata']['name'].lower()}=={item['metadata']['version']}"
        for item in resolved
        if item["metadata"]["name"].lower() != PROJECT_NAME
    )
    digest = f"# dependencies-sha256: {dependencies_digest()}\n"
    _lock().write_text(LOCK_HEADER + digest + "".join(f"{pin}\n" for pin in pins))
    print(f"{_lock().relative_to(ROOT)}: {len(pins)} pinned")
    return 0


def graphiql_assets() -> int:
    """GRAPHIQL_PACKAGES' files into schema/graphiql, each from its package's tarball as the
    npm registry has it (`npm pack`), without its source map comment."""
    with tempfile.TemporaryDirectory(prefix="conduit-graphiql-") as directory:
        for package, (version, files) in GRAPHIQL_PACKAGES.items():
            spec = f"{package}@{version}"
            packed = subprocess.run(
                ["npm", "pack", "--silent", "--pack-destination", directory, spec],  # noqa: S607 - npm from PATH
                check=True,
                capture_output=True,
                text=True,
            )
            tarball = Path(directory) / packed.stdout.split()[-1]
            with tarfile.open(tarball) as archive:
                for source, name in files.items():
                    member = archive.extractfile(f"package/{source}")
                    if member is None:
                        sys.exit(f"{spec} has no file {source}")
                    content = _SOURCE_MAP_COMMENT.sub(b"\n", member.read())
                    (GRAPHIQL_DIR / name).write_bytes(content)
            print(f"{spec}: {', '.join(files.values())}")
    return 0


def dependencies_digest() -> str:
    """The sha256 of pyproject.toml's dependencies and optional dependencies, as written."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {"dependencies": project["dependencies"], "optional": project["optional-dependencies"]}
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


def _lock() -> Path:
    return ROOT / LOCK_NAME


def _constraints() -> list[str]:
    """pip's options to install the locked versions (none before the first lock is made)."""
    return ["-c", str(_lock())] if _lock().exists() else []


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    return match.group(0).lower() if match else requirement


def project_files(setuptools: dict[str, Any]) -> dict[str, Path]:
    """What pyproject's setuptools configuration installs of the project: its top-level
    modules and every file of the packages it includes, found as setuptools finds them
    (directories with an __init__.py, looked for below packages only)."""
    files = {f"{module}.py": ROOT / f"{module}.py" for module in setuptools["py-modules"]}
    patterns = setuptools["packages"]["find"]["include"]
    pending = [d for d in ROOT.iterdir() if (d / "__init__.py").is_file()]
    while pending:
        package = pending.pop()
        contents = list(package.iterdir())
        name = ".".join(package.relative_to(ROOT).parts)
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
            files.update({p.relative_to(ROOT).as_posix(): p for p in contents if p.is_file()})
        pending += [d for d in contents if (d / "__init__.py").is_file()]
    return files


def lambda_files(setuptools: dict[str, Any]) -> dict[str, Path]:
    """The project's own files in the Lambda package: what setuptools installs, and
    LAMBDA_DATA where the code looks for it (beside config.py, at the zip's root)."""
    files = project_files(setuptools)
    for directory in LAMBDA_DATA:
        data = (p for p in (ROOT / directory).rglob("*") if p.is_file())
        files.update({p.relative_to(ROOT).as_posix(): p for p in data})
    return files


def write_zip(destination: Path, files: dict[str, Path]) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files):
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            entry.create_system = 3  # Unix, whatever system builds it
            entry.external_attr = ZIP_FILE_MODE << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, files[name].read_bytes(), compresslevel=9)
    partial.replace(destination)
