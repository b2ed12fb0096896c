"""Signed, expiring links sent by e-mail: resume a draft, open the applicant space.

A link carries a signed payload and the time it was signed; the purpose is part of the
signature, so a link made for one purpose never opens another. No account, no password.
"""

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"guichet-{purpose}")


def make(purpose: str, payload: Any) -> str:
    """A URL-safe token for `payload`, valid for `purpose` only."""
    return _serializer(purpose).dumps(payload)


def read(purpose: str, token: str, max_age_seconds: int) -> Any | None:
    """The payload of a valid, unexpired token for `purpose`, else None."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age_seconds)
    except BadSignature:  # includes SignatureExpired
        return None
