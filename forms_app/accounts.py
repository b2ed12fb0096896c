"""Staff accounts: creation, argon2 password hashing, authentication with lockout."""

import enum
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms_app import passwords
from forms_app.db import utcnow
from forms_app.models import Role, User

_hasher = PasswordHasher()
# Verified against unknown e-mails so that an answer takes as long whether the account exists.
_DUMMY_HASH = _hasher.hash("guichet-no-such-account")


class AccountError(ValueError):
    """An account cannot be created as asked."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    roles: list[Role],
    min_length: int = 12,
) -> User:
    """Add a staff user; the caller commits."""
    email = User.normalise_email(email)
    if "@" not in email:
        raise AccountError(f"Invalid e-mail address: {email!r}")
    refused = passwords.problem(password, min_length=min_length, email=email, name=name)
    if refused:
        raise AccountError(refused)
    if not roles:
        raise AccountError("A staff user needs at least one role.")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"A user with the e-mail {email} already exists.")
    user = User(email=email, name=name.strip() or email, password_hash=hash_password(password))
    user.grant(*roles)
    session.add(user)
    return user


class LoginOutcome(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None


def authenticate(
    session: Session, email: str, password: str, *, max_failures: int, lockout_seconds: int
) -> LoginResult:
    """Check a password, counting failures and locking the account after too many."""
    user = session.scalar(select(User).where(User.email == User.normalise_email(email)))
    if user is None:
        _verify(_DUMMY_HASH, password)
        return LoginResult(LoginOutcome.INVALID)
    now = utcnow()
    if user.is_locked(now):
        return LoginResult(LoginOutcome.LOCKED, user)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(seconds=lockout_seconds)
            user.failed_logins = 0
            return LoginResult(LoginOutcome.LOCKED, user)
        return LoginResult(LoginOutcome.INVALID, user)
    if not user.active:
        return LoginResult(LoginOutcome.INACTIVE, user)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginResult(LoginOutcome.OK, user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
