"""Set-up and everyday commands:

    python3 dev.py serve [uvicorn options]   run the server (embedded SQLite by default)
    python3 dev.py test [pytest options]     run the test suite
    python3 dev.py test --fast [options]     SQLite only, without the slow tests
    python3 dev.py lint                      ruff and mypy
    python3 dev.py package                   build dist/lambda.zip, the AWS Lambda package

They need Python 3.11 or newer. This file is kept to syntax that every Python 3 parses (no
f-strings, no annotations) and checks the version before importing anything else, so an older
python3 says so in one line instead of failing on a newer module or syntax; the commands
themselves are in devtasks.py.
"""

import sys

if sys.version_info < (3, 11):  # noqa: UP036 - the point: dev.py may be run by an older python3
    sys.exit(
        "dev.py needs Python 3.11 or newer; this is Python "
        + sys.version.split()[0]
        + " (run it with python3.11 or newer, e.g. `python3.11 dev.py serve`)"
    )

# Only after the version check: devtasks is written for Python 3.11.
from devtasks import ensure_environment, main, package

__all__ = ["ensure_environment", "main", "package"]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
