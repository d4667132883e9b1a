"""JWTs signed with HS256 (pinned: a token naming any other algorithm is rejected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


class TokenService:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._ttl = timedelta(seconds=ttl_seconds)

    def issue(self, user_id: int) -> str:
        issued = datetime.now(UTC)
        claims = {"sub": str(user_id), "iat": issued, "exp": issued + self._ttl}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def user_id(self, token: str) -> int:
        """The user a valid token names; InvalidToken for anything else."""
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
        return int(subject)


def token_from_header(authorization: str | None) -> str | None:
    """The token of `Token <jwt>` or `Bearer <jwt>`; None when no header was sent.
    A header of any other shape yields "" so that it fails as an invalid token."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer"):
        return ""
    return token.strip()
