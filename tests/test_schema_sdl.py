"""The committed schema.graphql is exactly the schema the code builds, so clients and reviewers
read the real API. Regenerate it after any change to `schema/`:

    .venv/bin/strawberry export-schema schema:schema --output schema.graphql

(the CLI needs `strawberry-graphql[cli]`; `.venv/bin/python -m tests.test_schema_sdl` writes the
same file without it)."""

from __future__ import annotations

from pathlib import Path

from schema import schema

SDL_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"
REGENERATE = (
    "schema.graphql is out of date with schema/. Regenerate it with "
    "`.venv/bin/strawberry export-schema schema:schema --output schema.graphql` "
    "(or `.venv/bin/python -m tests.test_schema_sdl`) and commit the result."
)


def exported_sdl() -> str:
    """What `strawberry export-schema --output` writes: the printed schema and a newline."""
    return schema.as_str() + "\n"


def test_schema_graphql_is_up_to_date() -> None:
    assert SDL_FILE.exists(), REGENERATE
    committed = SDL_FILE.read_text(encoding="utf-8")
    assert committed == exported_sdl(), REGENERATE


def test_schema_graphql_has_every_operation() -> None:
    """A guard on the check above: the file is the real schema, not an empty or partial one."""
    committed = SDL_FILE.read_text(encoding="utf-8")
    for declaration in ("type Query {", "type Mutation {", "scalar DateTime"):
        assert declaration in committed, REGENERATE


if __name__ == "__main__":
    SDL_FILE.write_text(exported_sdl(), encoding="utf-8")
    print(f"wrote {SDL_FILE}")
