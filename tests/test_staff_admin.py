"""Administrators manage staff accounts in the UI: each change confirmed again and audited."""

from html import unescape

import pytest
from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import Event, RecoveryCode, Role, User
from tests.support import PASSWORD, TOTP_SECRET, fresh_code, make_user, sign_in

ADMIN, OTHER_ADMIN, AGENT = "admin@example.nc", "admin2@example.nc", "agent@example.nc"
ACCOUNTS = "/agents/pilotage/comptes"


@pytest.fixture
def admin(app, client):
    make_user(app, Role.ADMIN, email=ADMIN)
    make_user(app, Role.AGENT, email=AGENT)
    assert sign_in(client, ADMIN).status_code == 302
    return client


def account(app, email: str) -> User:
    with app.app_context():
        return get_session().scalar(select(User).where(User.email == email))


def confirm(app, prefix: str = "", code: str | None = None) -> dict:
    """The administrator's password and a fresh code, as the forms name them."""
    name = f"{prefix}-" if prefix else ""
    return {f"{name}password": PASSWORD, f"{name}code": code or fresh_code(app, ADMIN)}


def events(app, email: str) -> list[tuple[str, int | None, dict]]:
    user = account(app, email)
    with app.app_context():
        found = get_session().scalars(
            select(Event)
            .where(Event.subject_type == "user", Event.subject_id == user.id)
            .order_by(Event.id)
        )
        return [(e.action, e.actor_id, e.details) for e in found]


def test_the_list_shows_every_account_to_administrators_only(app, admin):
    page = admin.get(ACCOUNTS)
    assert page.status_code == 200
    assert AGENT in page.text and ADMIN in page.text and "Instruction" in page.text
    agent = app.test_client()
    sign_in(agent, AGENT)
    assert agent.get(ACCOUNTS).status_code == 403
    assert app.test_client().get(ACCOUNTS).status_code == 302


def test_roles_change_once_confirmed_and_the_change_is_audited(app, admin):
    user = account(app, AGENT)
    url = f"{ACCOUNTS}/{user.id}/roles"
    unconfirmed = admin.post(url, data={"roles-roles": ["agent", "approver"]})
    assert unconfirmed.status_code == 400
    assert "Saisissez votre mot de passe." in unescape(unconfirmed.text)
    wrong = {"roles-password": "not-it", "roles-code": fresh_code(app, ADMIN)}
    refused = admin.post(url, data={"roles-roles": ["agent", "approver"], **wrong})
    assert refused.status_code == 400
    assert "Mot de passe incorrect : rien n’a été modifié." in unescape(refused.text)
    assert account(app, AGENT).roles == {Role.AGENT}
    assert account(app, ADMIN).failed_logins == 1  # counted like a failed sign-in

    done = admin.post(url, data={"roles-roles": ["agent", "approver"], **confirm(app, "roles")})
    assert done.status_code == 302 and done.headers["Location"] == f"{ACCOUNTS}/{user.id}"
    assert account(app, AGENT).roles == {Role.AGENT, Role.APPROVER}
    admin_id = account(app, ADMIN).id
    assert events(app, AGENT)[-1] == (
        "roles_changed", admin_id, {"before": ["agent"], "after": ["agent", "approver"]}
    )  # fmt: skip
    page = admin.get(f"{ACCOUNTS}/{user.id}").text
    assert "roles_changed" in page and "agent, approver" in page


def test_a_used_code_confirms_nothing(app, admin):
    user = account(app, AGENT)
    code = fresh_code(app, ADMIN)
    data = {"roles-roles": ["designer"], **confirm(app, "roles", code)}
    assert admin.post(f"{ACCOUNTS}/{user.id}/roles", data=data).status_code == 302
    replay = {"roles-roles": ["finance"], "roles-password": PASSWORD, "roles-code": code}
    refused = admin.post(f"{ACCOUNTS}/{user.id}/roles", data=replay)
    assert refused.status_code == 400 and "déjà utilisé" in unescape(refused.text)
    assert account(app, AGENT).roles == {Role.DESIGNER}


def test_an_administrator_cannot_change_their_own_rights(app, admin):
    me = account(app, ADMIN)
    for path, data in (
        ("roles", {"roles-roles": ["agent"], **confirm(app, "roles")}),
        ("etat", {"etat-active": "0", **confirm(app, "etat")}),
        ("double-authentification", confirm(app, "facteur")),
    ):
        refused = admin.post(f"{ACCOUNTS}/{me.id}/{path}", data=data)
        assert refused.status_code == 400, path
        assert "demandez-le à un autre administrateur" in unescape(refused.text)
    mine = account(app, ADMIN)
    assert mine.roles == {Role.ADMIN} and mine.active and mine.totp_secret == TOTP_SECRET
    assert "Vos propres rôles" in admin.get(f"{ACCOUNTS}/{me.id}").text


def test_a_deactivated_account_is_signed_out_and_can_come_back(app, admin):
    agent = app.test_client()
    sign_in(agent, AGENT)
    assert agent.get("/agents/").status_code == 200
    user = account(app, AGENT)
    off = admin.post(
        f"{ACCOUNTS}/{user.id}/etat", data={"etat-active": "0", **confirm(app, "etat")}
    )
    assert off.status_code == 302 and not account(app, AGENT).active
    assert agent.get("/agents/").status_code == 302  # signed out at its next request
    assert sign_in(app.test_client(), AGENT).status_code == 401
    on = admin.post(f"{ACCOUNTS}/{user.id}/etat", data={"etat-active": "1", **confirm(app, "etat")})
    assert on.status_code == 302 and account(app, AGENT).active
    assert [action for action, _, _ in events(app, AGENT)][-2:] == [
        "user_deactivated", "user_reactivated"
    ]  # fmt: skip


def test_a_lost_phone_is_reset_and_the_person_enrols_again(app, admin):
    make_user(app, Role.FINANCE, email="finances@example.nc")
    user = account(app, "finances@example.nc")
    with app.app_context():
        db = get_session()
        db.add(RecoveryCode(user_id=user.id, code_hash="0" * 64))
        db.commit()
    done = admin.post(f"{ACCOUNTS}/{user.id}/double-authentification", data=confirm(app, "facteur"))
    assert done.status_code == 302
    reset = account(app, "finances@example.nc")
    assert reset.totp_secret is None and reset.totp_enrolled_at is None
    with app.app_context():
        assert get_session().scalars(select(RecoveryCode)).all() == []
    assert events(app, "finances@example.nc")[-1][:2] == ("totp_reset", account(app, ADMIN).id)
    again = app.test_client().post(
        "/agents/connexion", data={"email": "finances@example.nc", "password": PASSWORD}
    )
    assert again.headers["Location"] == "/agents/connexion/activation"


def test_a_locked_account_is_unlocked(app, admin):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        app.test_client().post("/agents/connexion", data={"email": AGENT, "password": "wrong"})
    user = account(app, AGENT)
    assert user.locked_until is not None
    page = admin.get(f"{ACCOUNTS}/{user.id}").text
    assert "Déverrouiller le compte" in page
    assert admin.post(f"{ACCOUNTS}/{user.id}/deverrouillage").status_code == 302
    assert account(app, AGENT).locked_until is None
    assert sign_in(app.test_client(), AGENT).status_code == 302
    assert events(app, AGENT)[-1][0] == "user_unlocked"


def test_a_new_account_follows_the_password_policy_and_enrols_at_first_sign_in(app, admin):
    form = {
        "email": "nouveau@example.nc",
        "name": "Nadia Nouveau",
        "roles": ["approver"],
        "initial_password": "azerty123456",
        **confirm(app),
    }
    weak = admin.post(f"{ACCOUNTS}/nouveau", data=form)
    assert weak.status_code == 400 and "parmi les plus utilisés" in unescape(weak.text)
    assert account(app, "nouveau@example.nc") is None
    form.update(initial_password="lagon-bleu-récif-2026", **confirm(app))
    created = admin.post(f"{ACCOUNTS}/nouveau", data=form)
    assert created.status_code == 302
    user = account(app, "nouveau@example.nc")
    assert user.roles == {Role.APPROVER} and user.totp_secret is None
    assert events(app, "nouveau@example.nc")[0] == (
        "user_created", account(app, ADMIN).id, {"roles": ["approver"]}
    )  # fmt: skip
    first = app.test_client().post(
        "/agents/connexion",
        data={"email": "nouveau@example.nc", "password": form["initial_password"]},
    )
    assert first.headers["Location"] == "/agents/connexion/activation"
