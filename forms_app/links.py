"""Signed, expiring links sent by e-mail: resume a draft, open the applicant space.

A link carries a signed payload and the time it was signed; the purpose is part of the
signature, so a link made for one purpose never opens another. No account, no password.
"""

from typing import Any

from flask import current_app, has_request_context, url_for
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


def absolute(endpoint: str, **values: Any) -> str:
    """The public address of a page, for e-mails (built on PUBLIC_URL, even in jobs)."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return current_app.config["PUBLIC_URL"].rstrip("/") + path
