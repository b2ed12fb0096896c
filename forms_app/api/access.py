"""Who calls the API: the bearer token, checked before every view, and what it may reach."""

import hashlib

from flask import abort, g, request
from flask_smorest import abort as fail
from sqlalchemy import ColumnElement, true

from forms_app.api import tokens
from forms_app.db import get_session
from forms_app.models import ApiToken, Role, Submission, User
from workflows import states

# Reading requests takes a role that reads them in the back office.
CASE_ROLES = (Role.AGENT, Role.APPROVER, Role.FINANCE, Role.ADMIN)
FINANCE_ROLES = (Role.FINANCE, Role.ADMIN)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="guichet"'}


def authenticate() -> None:
    """Before every API view: a live token in `Authorization: Bearer …`, else 401."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    token = None
    if scheme.lower() == "bearer" and secret.strip():
        token = tokens.authenticate(get_session(), secret.strip())
    if token is None:
        fail(401, message="A valid API token is required.", headers=CHALLENGE)
    g.api_token = token


def rate_key() -> str:
    """Rate limits count per token (per address for requests without one)."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api:" + hashlib.sha256(header.encode()).hexdigest()[:24]
    return "api-anonymous:" + (request.remote_addr or "")


def token() -> ApiToken:
    return g.api_token


def user() -> User:
    return g.api_token.user


def require_roles(*roles: Role) -> None:
    if not user().has_role(*roles):
        fail(403, message="The token's account does not hold a role this needs.")


def require_write() -> None:
    if not token().write:
        fail(403, message="This token may only read.")


def form_filter(column) -> ColumnElement[bool]:
    """A condition keeping the rows of forms the token may see."""
    ids = tokens.form_ids(token())
    return true() if ids is None else column.in_(ids or [-1])


def may_see_form(form_id: int) -> bool:
    ids = tokens.form_ids(token())
    return ids is None or form_id in ids


def submission_or_404(reference: str) -> Submission:
    """A submitted request of a form the token sees (drafts are the applicants' own)."""
    from forms_app.submissions import get_by_reference

    if len(reference) > 30 or "\x00" in reference:
        abort(404)  # no reference is longer; PostgreSQL refuses NUL in text
    found = get_by_reference(get_session(), reference)
    if found is None or found.state == states.State.DRAFT or not may_see_form(found.form_id):
        abort(404)
    return found
