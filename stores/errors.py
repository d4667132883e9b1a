"""The one failure every store backend may raise besides the domain errors of its interface."""

from __future__ import annotations


class StoreUnavailable(Exception):
    """The store's database cannot be reached right now, or dropped the connection mid-way:
    nothing the client did wrong, and worth retrying shortly. Whatever the operation was
    writing did not commit. The message names the cause, for the log only: it may describe
    the database's whereabouts, so adapters show clients a fixed message instead."""
