"""Alembic's script directory: `env.py`, and one directory of revisions per domain. Run them
with `python -m stores.sql.migrate`; `stores.sql.versioning` is the programmatic side."""
