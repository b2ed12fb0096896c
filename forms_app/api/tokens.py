"""API tokens: made by an admin for another system, shown once, kept as a hash, revocable.

A token acts as one staff account (its roles and the segregation of duties apply), narrowed
to some forms (or all) and to reading unless it may write. The secret is `gch_` and 43
URL-safe characters; only its SHA-256 is stored, and its first characters name it.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from forms_app import audit
from forms_app.db import utcnow
from forms_app.models import ApiToken, Form, User

SCHEME = "gch_"
PREFIX_LENGTH = 12  # "gch_" and 8 characters: enough to tell tokens apart in a list
# Writing the last use on every request would make each read a write: once a minute is kept.
LAST_USE_PRECISION = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    session: Session,
    *,
    name: str,
    user: User,
    write: bool,
    forms: list[Form] | None,
    actor: User,
) -> tuple[ApiToken, str]:
    """Make a token acting as `user` (forms None: every form); the row and its secret, which
    is never shown again. Audited; the caller commits."""
    secret = SCHEME + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        secret_sha256=digest(secret),
        user=user,
        write=write,
        all_forms=forms is None,
        forms=list(forms or []),
        created_by=actor,
    )
    session.add(token)
    session.flush()
    audit.record(
        session, token, "api_token_created", actor, name=name, user_id=user.id, write=write,
        forms=None if forms is None else sorted(form.slug for form in forms),
    )  # fmt: skip
    return token, secret


def revoke(session: Session, token: ApiToken, actor: User) -> bool:
    """Stop the token at once; False if it was revoked already. Audited; the caller commits."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    audit.record(session, token, "api_token_revoked", actor, name=token.name)
    return True


def authenticate(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret, its account active; its last use recorded."""
    if not secret.startswith(SCHEME) or len(secret) > 100:
        return None
    token = session.scalar(
        select(ApiToken)
        .where(ApiToken.secret_sha256 == digest(secret))
        .options(selectinload(ApiToken.user), selectinload(ApiToken.forms))
    )
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION:
        token.last_used_at = now
        session.commit()
    return token


def form_ids(token: ApiToken) -> set[int] | None:
    """The ids of the forms the token may see; None for every form."""
    return None if token.all_forms else {form.id for form in token.forms}


def listed(session: Session) -> list[ApiToken]:
    """Every token, live ones first, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .options(selectinload(ApiToken.user), selectinload(ApiToken.forms))
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )
