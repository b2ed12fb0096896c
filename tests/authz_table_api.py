"""Rows of ROUTES (tests/authz_table.py) for the JSON API and its tokens' pages.

The API reads no cookie: every caller of the table, signed in or not, gets 401 from every
route but the OpenAPI document (tests/test_api_access.py covers tokens, scopes and roles).
"""

from sqlalchemy import select

from forms_app.api import tokens
from forms_app.db import get_session
from forms_app.models import User
from tests.authz_callers import AGENT, GO, LOGIN, OK, STAFF, R, Route
from tests.authz_world import World

API_VALUES = {
    "slug": "dossier", "number": 1, "reference": "DOS-2026-000001", "attachment_id": 1,
    "act_id": 1, "bordereau_id": 1,
}  # fmt: skip
API = (
    ("GET", "/forms", "api_forms.forms"),
    ("GET", "/forms/<slug>", "api_forms.form"),
    ("GET", "/forms/<slug>/versions/<id:number>", "api_forms.version"),
    ("GET", "/submissions", "api_submissions.submissions"),
    ("GET", "/submissions/<reference>", "api_submissions.submission"),
    ("GET", "/submissions/<reference>/attachments/<id:attachment_id>", "api_submissions.attachment"),
    ("POST", "/submissions/<reference>/take", "api_actions.take"),
    ("POST", "/submissions/<reference>/propose", "api_actions.propose"),
    ("POST", "/submissions/<reference>/approve", "api_actions.approve"),
    ("POST", "/submissions/<reference>/reject", "api_actions.reject"),
    ("POST", "/submissions/<reference>/messages", "api_actions.message"),
    ("GET", "/finance/acts", "api_finance.acts"),
    ("GET", "/finance/acts/<id:act_id>", "api_finance.act"),
    ("GET", "/finance/acts/<id:act_id>/pdf", "api_finance.act_pdf"),
    ("GET", "/finance/bordereaux", "api_finance.bordereaux"),
    ("GET", "/finance/bordereaux/<id:bordereau_id>", "api_finance.bordereau"),
    ("GET", "/finance/bordereaux/<id:bordereau_id>/pdf", "api_finance.bordereau_pdf"),
)  # fmt: skip


def fresh_token(world: World) -> int:
    """A live token of its own, for a request that revokes it."""
    with world.app.app_context():
        db = get_session()
        user = db.scalar(select(User).filter_by(email=STAFF[AGENT]))
        token, _secret = tokens.create(db, name="Essai", user=user, write=False, forms=None,
                                       actor=user)  # fmt: skip
        db.commit()
        return token.id


# fmt: off
API_ROUTES: dict[str, Route] = {
    **{
        f"{method} /api/v1{path}": R(endpoint, *[401] * 9, params=API_VALUES)
        for method, path, endpoint in API
    },
    "GET /api/v1/openapi.json":
        R("api-docs.openapi_json",          OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    # API tokens, for admins; making one without the admin's password and code is a 400.
    "GET /agents/pilotage/jetons-api":
        R("ops.api_tokens",                 LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   403,   LOGIN),
    "GET /agents/pilotage/jetons-api/nouveau":
        R("ops.api_token_new",              LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/jetons-api/nouveau":
        R("ops.api_token_new",              LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/jetons-api/<int:token_id>/revocation":
        R("ops.api_token_revoke",           LOGIN, LOGIN, LOGIN, GO,    403,   403,   403,   403,   LOGIN,
          params={"token_id": fresh_token}),
}
# fmt: on
