"""JWTs signed with HS256 (pinned: a token naming any other algorithm is rejected). A token
names its user and the version of their credentials it was issued for: changing the password
or the email moves the version on, and every token issued before stops being valid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
# The claim holding the credential version; tokens issued before there was one have none and
# stand for version 0, what every user had then.
VERSION_CLAIM = "ver"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Bearer:
    """Whom a validly signed, unexpired token names: valid while the user exists and their
    credentials are still at `credential_version`."""

    user_id: int
    credential_version: int


class TokenService:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._ttl = timedelta(seconds=ttl_seconds)

    def issue(self, user_id: int, credential_version: int) -> str:
        issued = datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            VERSION_CLAIM: credential_version,
            "iat": issued,
            "exp": issued + self._ttl,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def bearer(self, token: str) -> Bearer:
        """Whom a validly signed, unexpired token names; InvalidToken for anything else."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from None
        subject = claims["sub"]
        # Ids fit in 53 bits; a longer number could only overflow a database integer.
        valid = isinstance(subject, str) and subject.isascii() and subject.isdigit()
        if not valid or len(subject) > 16:
            raise InvalidToken("subject is not a user id")
        version = claims.get(VERSION_CLAIM, 0)
        if type(version) is not int or not 0 <= version < 2**31:
            raise InvalidToken("credential version is not a whole number")
        return Bearer(int(subject), version)


def token_from_header(authorization: str | None) -> str | None:
    """The token of `Token <jwt>` or `Bearer <jwt>`; None when no header was sent.
    A header of any other shape yields "" so that it fails as an invalid token."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer"):
        return ""
    return token.strip()
