"""Registering, signing in, and the signed-in user's own settings."""

from __future__ import annotations

from dataclasses import dataclass

from auth.passwords import hash_password, verify_password
from events import UserUpdated
from models import users as rules
from models.errors import Unauthenticated
from models.users import User, UserRow
from models.validation import MISSING, FieldErrors, Maybe, is_clean_text
from resolvers import limits
from resolvers.context import Context


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str


async def register(ctx: Context, username: object, email: object, password: object) -> SignedIn:
    new = rules.validate_registration(username, email, password)
    await limits.charge_sign_up(ctx)
    row = UserRow(
        username=new.username, email=new.email, password_hash=await hash_password(new.password)
    )
    user = await ctx.stores.users.create(row)
    return SignedIn(user, _token_for(ctx, user))


async def login(ctx: Context, email: object, password: object) -> SignedIn:
    errors = FieldErrors()
    mail = errors.text("email", email, max_length=rules.MAX_EMAIL)
    if password is None or password is MISSING or password == "":
        errors.add("password", "can't be blank")
    elif not isinstance(password, str):
        errors.add("password", "must be a string")
    errors.raise_if_any()
    assert mail is not None
    assert isinstance(password, str)
    account = rules.normalize_email(mail)
    async with limits.login_attempt(ctx, account):
        user = await ctx.stores.users.by_email(account)
        # Text that no password can hold (a lone surrogate cannot even be hashed) never matches.
        if (
            not is_clean_text(password)
            or not await verify_password(user.password_hash if user else None, password)
            or user is None
        ):
            raise Unauthenticated.bad_credentials()
    return SignedIn(user, _token_for(ctx, user))


async def current_user(ctx: Context) -> User:
    """The signed-in user; Unauthenticated when no valid token names an existing user. Kept
    in the request's loader, for the views of what they write."""
    user = ctx.signed_in_user()
    ctx.loaders.user_by_id.prime(user.id, user)
    return user


async def viewer(ctx: Context) -> SignedIn | None:
    """The signed-in user with their token, or None for an anonymous request."""
    if ctx.viewer_id() is None:
        return None
    user = await current_user(ctx)
    assert ctx.token is not None
    return SignedIn(user, ctx.token)


async def update_settings(
    ctx: Context,
    username: Maybe[object] = MISSING,
    email: Maybe[object] = MISSING,
    password: Maybe[object] = MISSING,
    bio: Maybe[object] = MISSING,
    image: Maybe[object] = MISSING,
) -> SignedIn:
    user = await current_user(ctx)
    await limits.charge_write(ctx, user.id)
    changes = rules.validate_changes(username, email, password, bio, image)
    row = UserRow(
        username=changes.username,
        email=changes.email,
        password_hash=MISSING
        if changes.password is MISSING
        else await hash_password(changes.password),
        bio=changes.bio,
        image=changes.image,
        new_credentials=rules.changes_credentials(user, changes),
    )
    changed = UserUpdated(user.id)
    updated = await ctx.stores.users.update(user.id, row, events=[changed])
    ctx.loaders.user_by_id.clear(user.id).prime(user.id, updated)
    await ctx.relay.deliver([changed])
    if updated.credential_version == user.credential_version:
        assert ctx.token is not None
        return SignedIn(updated, ctx.token)
    # The request's own token has just stopped being valid: the answer carries its successor.
    return SignedIn(updated, _token_for(ctx, updated))


def _token_for(ctx: Context, user: User) -> str:
    return ctx.tokens.issue(user.id, user.credential_version)
