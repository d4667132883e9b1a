"""One contract every store backend must pass (see `conftest.BACKENDS`)."""
