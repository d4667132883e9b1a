"""Argon2id password hashes; hashing runs off the event loop because it is slow on purpose."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id, RFC 9106 low-memory profile


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that a wrong email costs as long as a
    wrong password and response times do not reveal which emails are registered. Made on first
    use, not at import: a Lambda cold start should not pay for it."""
    return _hasher.hash("not-a-real-password")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)
