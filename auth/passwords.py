"""Argon2id password hashes. Hashing is slow on purpose (~0.2 s of CPU each here), so it runs off
the event loop, in a small pool of threads of its own: a flood of logins waits in that pool's
queue instead of taking every core from the requests that need none."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config import DEFAULT_PASSWORD_HASH_CONCURRENCY

# argon2-cffi's defaults are Argon2id, RFC 9106 low-memory profile. libargon2 starts a thread
# per lane (parallelism=4) for each pass, so one hash may briefly take up to 4 cores; measured
# on 2 cores, they barely overlap (0.23 s of CPU in 0.21 s), so a hash costs about one core,
# and the pool's size is about how many cores hashing may take. Lowering parallelism would
# change the hashes' parameters (old hashes would still verify): not worth it for this.
_hasher = PasswordHasher()
_THREAD_NAME = "argon2"
_pool = ThreadPoolExecutor(DEFAULT_PASSWORD_HASH_CONCURRENCY, _THREAD_NAME)


def limit_concurrency(hashes: int) -> None:
    """Run at most `hashes` hashes or verifications at once in this process (set at start)."""
    global _pool  # one pool per process, sized once from the settings
    previous, _pool = _pool, ThreadPoolExecutor(hashes, _THREAD_NAME)
    previous.shutdown(wait=False)


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that a wrong email costs as long as a
    wrong password and response times do not reveal which emails are registered. Made on first
    use, not at import: a Lambda cold start should not pay for it."""
    return _hasher.hash("not-a-real-password")


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.get_running_loop().run_in_executor(_pool, verify)
