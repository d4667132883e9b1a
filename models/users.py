"""Users and the rules for registering and changing them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from models.validation import MISSING, FieldErrors, Maybe, is_clean_text

USERNAME_PATTERN = re.compile(r"^[\w.\-]+$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_USERNAME = 40
MAX_EMAIL = 254
MIN_PASSWORD = 8
# Argon2 hashes any length, but an unbounded password is a cheap way to burn CPU.
MAX_PASSWORD = 256
MAX_BIO = 2000
MAX_IMAGE_URL = 2048


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    email: str
    password_hash: str
    bio: str | None
    image: str | None
    created_at: datetime
    updated_at: datetime
    # Moved on by every change of password or email: tokens name the version they were issued
    # for (auth/tokens.py), so the earlier ones stop being valid.
    credential_version: int = 0


@dataclass(frozen=True, slots=True)
class NewUser:
    """A validated registration; the password is still plain, the use case hashes it."""

    username: str
    email: str
    password: str


@dataclass(frozen=True, slots=True)
class UserChanges:
    """Validated settings changes; MISSING leaves a field as it is, None clears bio/image."""

    username: Maybe[str] = MISSING
    email: Maybe[str] = MISSING
    password: Maybe[str] = MISSING
    bio: Maybe[str | None] = MISSING
    image: Maybe[str | None] = MISSING


@dataclass(frozen=True, slots=True)
class UserRow:
    """What a store writes for a user: the changes with the password already hashed, and
    whether they change the credentials (the store then moves the credential version on)."""

    username: Maybe[str] = MISSING
    email: Maybe[str] = MISSING
    password_hash: Maybe[str] = MISSING
    bio: Maybe[str | None] = MISSING
    image: Maybe[str | None] = MISSING
    new_credentials: bool = False


@dataclass(frozen=True, slots=True)
class Follow:
    follower_id: int
    followee_id: int


@dataclass(frozen=True, slots=True)
class FollowCounts:
    followers: int = 0
    following: int = 0


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user with whom they follow: the users domain's unit of copying between backends."""

    user: User
    followee_ids: tuple[int, ...]


# Scripts a name may mix, as their languages write: Japanese (kanji with kana), Korean (hanja
# with hangul). Any other mix, such as a Cyrillic "a" (U+0430) among Latin letters, is a
# lookalike.
_SCRIPTS_WRITTEN_TOGETHER = ({"CJK", "HIRAGANA", "KATAKANA"}, {"CJK", "HANGUL"})
_OWN_SCRIPT = frozenset({"Lu", "Ll", "Lt", "Lo"})


def username_key(username: str) -> str:
    """What makes two usernames one account: equal after NFKC normalisation and case folding
    (Unicode's NFKC_Casefold, as the identifier rules of UTS #39 do it), so that "Alice",
    "alice" and "alice" in fullwidth letters (U+FF41...) are one name. The user's own spelling
    is kept for display; uniqueness and every lookup by username go by this key."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def _mixes_scripts(name: str) -> bool:
    """Whether the letters of `name` come from more than one script (by the first word of each
    letter's Unicode name: LATIN, CYRILLIC, GREEK, CJK, ...), beyond the mixes a language
    writes. Modifier letters (Lm, such as the kana "ー") belong to no one script."""
    scripts = {
        unicodedata.name(c, "?").split()[0] for c in name if unicodedata.category(c) in _OWN_SCRIPT
    }
    return len(scripts) > 1 and not any(scripts <= mix for mix in _SCRIPTS_WRITTEN_TOGETHER)


def is_plausible_username(username: str) -> bool:
    """A cheap check before any lookup, so junk from a URL never reaches a store."""
    return len(username) <= MAX_USERNAME and bool(USERNAME_PATTERN.match(username))


def changes_credentials(user: User, changes: UserChanges) -> bool:
    """A new password (even the same one again) or another email: what a stolen token must
    not survive."""
    return changes.password is not MISSING or changes.email not in (MISSING, user.email)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def validate_registration(username: object, email: object, password: object) -> NewUser:
    errors = FieldErrors()
    name = _username(errors, username)
    mail = _email(errors, email)
    secret = _password(errors, password)
    errors.raise_if_any()
    assert name is not None
    assert mail is not None
    assert secret is not None
    return NewUser(username=name, email=mail, password=secret)


def validate_changes(
    username: Maybe[object] = MISSING,
    email: Maybe[object] = MISSING,
    password: Maybe[object] = MISSING,
    bio: Maybe[object] = MISSING,
    image: Maybe[object] = MISSING,
) -> UserChanges:
    """A field left MISSING stays; username, email and password cannot be cleared; an empty
    bio or image clears it (clients send "" for an untouched image)."""
    errors = FieldErrors()
    changes = UserChanges(
        username=MISSING if username is MISSING else _username(errors, username) or "",
        email=MISSING if email is MISSING else _email(errors, email) or "",
        password=MISSING if password is MISSING else _password(errors, password) or "",
        bio=MISSING
        if bio is MISSING
        else errors.text("bio", bio, max_length=MAX_BIO, required=False, single_line=False),
        image=MISSING
        if image is MISSING
        else errors.text("image", image, max_length=MAX_IMAGE_URL, required=False),
    )
    errors.raise_if_any()
    return changes


def _username(errors: FieldErrors, value: object) -> str | None:
    """The name as the user spelled it, checked as sent and as its key (which NFKC can
    lengthen: "ﷺ" is 18 letters)."""
    name = errors.text("username", value, max_length=MAX_USERNAME)
    if name is None or "username" in errors.messages:
        return name
    key = username_key(name)
    if not is_plausible_username(name) or not USERNAME_PATTERN.match(key):
        errors.add("username", "can only contain letters, digits, '.', '_' and '-'")
    elif len(key) > MAX_USERNAME:
        errors.add("username", f"is too long (maximum is {MAX_USERNAME} characters)")
    elif _mixes_scripts(key):
        errors.add("username", "mixes letters of different scripts")
    return name


def _email(errors: FieldErrors, value: object) -> str | None:
    """The address as stored, checked as stored: lower-casing can lengthen it ("İ" becomes
    two characters)."""
    mail = errors.text("email", value, max_length=MAX_EMAIL)
    if mail is None or "email" in errors.messages:
        return mail
    stored = normalize_email(mail)
    if len(stored) > MAX_EMAIL:
        errors.add("email", f"is too long (maximum is {MAX_EMAIL} characters)")
    elif not EMAIL_PATTERN.match(stored):
        errors.add("email", "is invalid")
    return stored


def _password(errors: FieldErrors, value: object) -> str | None:
    if value is None or value is MISSING or value == "":
        errors.add("password", "can't be blank")
        return None
    if not isinstance(value, str):
        errors.add("password", "must be a string")
        return None
    if len(value) < MIN_PASSWORD:
        errors.add("password", f"is too short (minimum is {MIN_PASSWORD} characters)")
    elif len(value) > MAX_PASSWORD:
        errors.add("password", f"is too long (maximum is {MAX_PASSWORD} characters)")
    elif not is_clean_text(value):
        errors.add("password", "contains characters that are not allowed")
    return value
