"""People and tokens: create, authenticate, change passwords, reset them by mail, revoke.

Passwords are hashed with argon2id, at the cost the session carries (:mod:`kip.passwords`);
a hash made at another cost still verifies, and is made again at the current one when its
owner logs in. API tokens are random secrets of 256 bits shown once; only their SHA-256 is
stored (a fast hash is right for a secret with that much entropy).
A failed login takes as long for an unknown address as for a wrong password, and every
message about it is the same, so nobody learns which addresses have an account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import passwords, policy
from ..actors import Actor
from ..audit import audit
from ..errors import Conflict, NotFound, ValidationError
from ..models import ApiToken, Organisation, Role, TokenScope, User

MIN_PASSWORD_LENGTH = 10
RESET_LINK_SECONDS = 3600
TOKEN_PREFIX = "kip_"


def now() -> datetime:
    return datetime.now(UTC)


# -- passwords ----------------------------------------------------------------------------


def check_password_strength(password: str, *, email: str = "") -> None:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    if email and password.lower() == email.lower():
        problems.append("not your e-mail address")
    if len(set(password)) < 4:
        problems.append("more than a few different characters")
    if problems:
        raise ValidationError(
            "the password is too weak: " + ", ".join(problems),
            errors={"password": "; ".join(problems)},
        )


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise ValidationError(f"{email!r} is not an e-mail address", errors={"email": "invalid"})
    return email


def create_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    name: str,
    organisation: Organisation,
    role: Role | str,
    password: str,
) -> User:
    policy.require_administrator(actor)
    email = normalise_email(email)
    role = Role(role)
    if not name.strip():
        raise ValidationError("a user needs a name", errors={"name": "required"})
    check_password_strength(password, email=email)
    if session.execute(select(User.id).where(User.email == email)).first():
        raise Conflict(f"there is already an account for {email}")
    user = User(
        email=email,
        name=name.strip(),
        organisation_id=organisation.id,
        role=role,
        password_hash=passwords.hashing(session).hasher.hash(password),
    )
    session.add(user)
    session.flush()
    audit(session, actor, "user.create", "user", user.id, email=email, role=role.value)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this address and password, or None (same cost either way)."""
    user = session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    hashing = passwords.hashing(session)
    # Verified against the dummy when the address is unknown: both paths cost one verification.
    stored = user.password_hash if user is not None and user.active else hashing.dummy_hash
    try:
        hashing.hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if hashing.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hashing.hasher.hash(password)
    user.last_login_at = now()
    session.flush()
    return user


def change_password(session: Session, actor: Actor, user: User, current: str, new: str) -> None:
    try:
        passwords.hashing(session).hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise ValidationError(
            "the current password is not right", errors={"current_password": "not right"}
        ) from None
    _set_password(session, actor, user, new)


def _set_password(session: Session, actor: Actor, user: User, new: str) -> None:
    check_password_strength(new, email=user.email)
    user.password_hash = passwords.hashing(session).hasher.hash(new)
    user.password_changed_at = now()
    session.flush()
    audit(session, actor, "user.password", "user", user.id)


# -- password reset -----------------------------------------------------------------------


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="kip.password-reset")


def reset_token(secret_key: str, user: User) -> str:
    """A signed link token, valid for an hour and until the password changes."""
    return _serializer(secret_key).dumps({"u": user.id, "p": user.password_changed_at.timestamp()})


def user_for_reset(session: Session, secret_key: str, token: str) -> User:
    try:
        data = _serializer(secret_key).loads(token, max_age=RESET_LINK_SECONDS)
    except SignatureExpired:
        raise ValidationError("this reset link has expired; ask for a new one") from None
    except BadSignature:
        raise ValidationError("this reset link is not valid; ask for a new one") from None
    user = session.get(User, data.get("u"))
    if user is None or not user.active or user.password_changed_at.timestamp() != data.get("p"):
        raise ValidationError("this reset link has been used or is no longer valid")
    return user


def reset_password(session: Session, secret_key: str, token: str, new: str) -> User:
    user = user_for_reset(session, secret_key, token)
    actor = Actor.for_user(user.id, user.organisation_id, user.role)
    _set_password(session, actor, user, new)
    return user


def find_user_for_reset(session: Session, email: str) -> User | None:
    """The active account with this address, if any. Callers must answer the same either way."""
    try:
        email = normalise_email(email)
    except ValidationError:
        return None
    return session.execute(
        select(User).where(User.email == email, User.active.is_(True))
    ).scalar_one_or_none()


# -- API tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    actor: Actor,
    *,
    organisation: Organisation,
    scope: TokenScope | str,
    name: str,
    days: int = 365,
) -> NewToken:
    policy.require_administrator(actor)
    scope = TokenScope(scope)
    if not 1 <= days <= 3650:
        raise ValidationError("a token lives 1 to 3650 days", errors={"days": "1 to 3650"})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organisation_id=organisation.id,
        name=name.strip() or f"{organisation.name} ({scope.value})",
        prefix=secret[:12],
        token_hash=_digest(secret),
        scope=scope,
        created_by_id=actor.user_id,
        expires_at=now() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit(
        session,
        actor,
        "token.create",
        "api_token",
        token.id,
        scope=scope.value,
        organisation_id=organisation.id,
    )
    return NewToken(token, secret)


def authenticate_token(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret, or None (unknown, revoked or expired)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(secret))
    ).scalar_one_or_none()
    moment = now()
    if token is None or token.revoked_at is not None or token.expires_at <= moment:
        return None
    if token.last_used_at is None or moment - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = moment
        session.flush()
    return token


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    policy.require_administrator(actor)
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now()
        session.flush()
        audit(session, actor, "token.revoke", "api_token", token.id)
    return token


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    policy.require_administrator(actor)
    return list(session.execute(select(ApiToken).order_by(ApiToken.id)).scalars())


def list_users(session: Session, actor: Actor) -> list[User]:
    policy.require_administrator(actor)
    return list(session.execute(select(User).order_by(User.email)).scalars())


def actor_for_user(user: User) -> Actor:
    return Actor.for_user(user.id, user.organisation_id, user.role)


def actor_for_token(token: ApiToken) -> Actor:
    return Actor.for_token(token.id, token.organisation_id, token.scope)
