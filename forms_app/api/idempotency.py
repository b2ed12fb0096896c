"""Idempotency keys: an action retried with the same `Idempotency-Key` answers as it did.

The answer is stored in the transaction of the action itself, so either both are kept or
neither. A key used again with another request (method, path or body) is refused (422);
two requests racing with one key: the second waits on the first's row, then replays it.
"""

import hashlib
from collections.abc import Callable

from flask import Response, json, request
from flask_smorest import abort as fail
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forms_app.api import access
from forms_app.db import get_session
from forms_app.models import IdempotentAnswer

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def _request_digest() -> str:
    seen = f"{request.method} {request.path}\n".encode() + request.get_data()
    return hashlib.sha256(seen).hexdigest()


def key() -> str | None:
    value = request.headers.get(HEADER)
    if value is None:
        return None
    value = value.strip()
    if not 1 <= len(value) <= 100 or not value.isprintable():
        fail(422, message=f"{HEADER} must be 1 to 100 printable characters.")
    return value


def answer(body: dict, status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def replay(found: IdempotentAnswer) -> Response:
    if found.request_sha256 != _request_digest():
        fail(422, message=f"This {HEADER} was used with another request.")
    response = answer(found.body, found.status)
    response.headers[REPLAYED] = "true"
    return response


def stored(value: str) -> IdempotentAnswer | None:
    return get_session().scalar(
        select(IdempotentAnswer).where(
            IdempotentAnswer.token_id == access.token().id, IdempotentAnswer.key == value
        )
    )


def run(action: Callable[[], tuple[dict, int]]) -> Response:
    """Run `action` (it changes the database and returns its JSON-ready body and status
    without committing), then commit; with a key, replay a stored answer, or store this one
    with the change."""
    value = key()
    session = get_session()
    if value is not None and (found := stored(value)) is not None:
        return replay(found)
    try:
        body, status = action()
    except Exception:
        session.rollback()
        if value is not None and (found := stored(value)) is not None:
            return replay(found)  # the same request, run by a racing twin, committed first
        raise
    if value is not None:
        session.add(
            IdempotentAnswer(
                token_id=access.token().id,
                key=value,
                request_sha256=_request_digest(),
                status=status,
                body=body,
            )
        )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        found = stored(value) if value is not None else None
        if found is None:
            raise
        return replay(found)
    return answer(body, status)
