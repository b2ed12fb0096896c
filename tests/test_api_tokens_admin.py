"""Administrators make API tokens in the UI (confirmed again, the secret shown once) and
revoke them; both audited."""

import re
from html import unescape

from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import ApiToken, Event
from tests.api_support import bearer
from tests.finance_support import publish_payment_form
from tests.test_staff_admin import ADMIN, AGENT, account, admin, confirm  # noqa: F401

TOKENS = "/agents/pilotage/jetons-api"


def test_a_token_is_made_once_confirmed_and_its_secret_shown_once(app, admin):  # noqa: F811
    publish_payment_form(app)
    agent = account(app, AGENT)
    form = {"name": "Cellule rapatriement", "user_id": agent.id, "forms": ["aide"]}
    refused = admin.post(f"{TOKENS}/nouveau", data={**form, "password": "non", "code": "000000"})
    assert refused.status_code == 400
    neither = admin.post(
        f"{TOKENS}/nouveau", data={"name": "X", "user_id": agent.id, **confirm(app)}
    )
    assert neither.status_code == 400 and "Tous les formulaires" in unescape(neither.text)
    with app.app_context():
        assert get_session().scalar(select(ApiToken)) is None

    made = admin.post(f"{TOKENS}/nouveau", data={**form, **confirm(app)})
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(gch_[^"]+)"', made.text)[1]
    listing = admin.get(TOKENS).text
    assert "Cellule rapatriement" in listing and secret[:12] in listing and secret not in listing
    assert admin.get("/api/v1/forms", headers=bearer(secret)).json["items"][0]["slug"] == "aide"
    with app.app_context():
        db = get_session()
        token = db.scalar(select(ApiToken))
        assert (token.write, token.all_forms, [f.slug for f in token.forms]) == (
            False,
            False,
            ["aide"],
        )
        created = db.scalars(select(Event).where(Event.action == "api_token_created")).one()
    assert created.details == {
        "name": "Cellule rapatriement", "user_id": agent.id, "write": False, "forms": ["aide"],
    }  # fmt: skip
    assert secret not in str(created.details)

    page = admin.get(TOKENS).text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"csrf_token": csrf[1]} if csrf else {}
    assert admin.post(f"{TOKENS}/{token.id}/revocation", data=data).status_code == 302
    assert admin.get("/api/v1/forms", headers=bearer(secret)).status_code == 401
    assert "révoqué le" in admin.get(TOKENS).text
    with app.app_context():
        actions = (
            get_session()
            .scalars(select(Event.action).where(Event.subject_type == "api_token"))
            .all()
        )
    assert actions == ["api_token_created", "api_token_revoked"]
