"""Staff sign-in: argon2 hashes, lockout, roles, sign-out, the users CLI."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from forms_app.db import get_session, utcnow
from forms_app.models import Role, User
from tests.support import PASSWORD, get_user, make_user


def test_password_is_stored_as_argon2(app):
    user = get_user(app, make_user(app, Role.AGENT))
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_and_logout(app, client, auth):
    user_id = make_user(app, Role.AGENT)
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/agents/"
    page = client.get("/agents/")
    assert page.status_code == 200
    assert "Instruction des demandes" in page.text
    assert get_user(app, user_id).last_login_at is not None
    assert auth.logout().status_code == 302
    assert client.get("/agents/").status_code == 302


def test_wrong_password_is_refused_with_a_french_message(app, client, auth):
    make_user(app, Role.AGENT)
    response = auth.login(password="not-the-password")
    assert response.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in response.text
    assert client.get("/agents/").status_code == 302


def test_unknown_email_gets_the_same_answer(app, auth):
    make_user(app, Role.AGENT)
    response = auth.login(email="nobody@example.nc")
    assert response.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in response.text


def test_empty_form_names_each_missing_field(app, client):
    response = client.post("/agents/connexion", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert 'href="#email"' in response.text
    assert "Saisissez votre adresse e-mail." in response.text
    assert "Saisissez votre mot de passe." in response.text
    assert "<title>Erreur : Connexion" in response.text


def test_lockout_after_repeated_failures(app, auth):
    user_id = make_user(app, Role.AGENT)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert auth.login(password="wrong-password").status_code == 401
    response = auth.login(password="wrong-password")
    assert "bloqué pendant 15 minutes" in response.text
    # Even the right password is refused while the lock lasts.
    response = auth.login()
    assert response.status_code == 401
    assert "bloqué" in response.text
    assert get_user(app, user_id).locked_until > utcnow()


def test_lock_expires(app, auth):
    user_id = make_user(app, Role.AGENT)
    with app.app_context():
        session = get_session()
        session.get(User, user_id).locked_until = utcnow() - timedelta(seconds=1)
        session.commit()
    assert auth.login().status_code == 302


def test_inactive_user_cannot_sign_in(app, auth):
    user_id = make_user(app, Role.AGENT)
    with app.app_context():
        session = get_session()
        session.get(User, user_id).active = False
        session.commit()
    assert auth.login().status_code == 401


def test_next_parameter_only_redirects_on_site(app, client):
    make_user(app, Role.AGENT)
    data = {"email": "agent@example.nc", "password": PASSWORD}
    response = client.post("/agents/connexion?next=https://evil.example/", data=data)
    assert response.headers["Location"] == "/agents/"
    client.post("/agents/deconnexion")
    response = client.post("/agents/connexion?next=//evil.example/", data=data)
    assert response.headers["Location"] == "/agents/"


def test_anonymous_is_sent_to_login(client):
    response = client.get("/agents/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/agents/connexion?next=")


def test_roles_required_refuses_other_roles(app, client, auth):
    from flask_login import current_user

    from forms_app.permissions import roles_required

    @app.get("/test-finance-only")
    @roles_required(Role.FINANCE)
    def finance_only():
        return current_user.email

    make_user(app, Role.AGENT)
    make_user(app, Role.FINANCE, Role.APPROVER, email="fin@example.nc")
    auth.login()
    assert client.get("/test-finance-only").status_code == 403
    assert "Accès refusé" in client.get("/test-finance-only").text
    auth.logout()
    auth.login(email="fin@example.nc")
    assert client.get("/test-finance-only").text == "fin@example.nc"


def test_csrf_is_required_on_login(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user(app, Role.AGENT)
    response = client.post(
        "/agents/connexion", data={"email": "agent@example.nc", "password": PASSWORD}
    )
    assert response.status_code == 400
    page = client.get("/agents/connexion")
    token = page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/agents/connexion",
        data={"email": "agent@example.nc", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


def test_cli_creates_user_with_several_roles(app, runner):
    result = runner.invoke(
        args=["users", "create", "--email", "Chef@Example.NC", "--name", "Chef",
              "--role", "approver", "--role", "agent", "--password", "a-long-password"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = get_session().scalar(select(User).where(User.email == "chef@example.nc"))
        assert user.roles == {Role.APPROVER, Role.AGENT}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "x@example.nc", "--role", "agent", "--password", "short"], "au moins 12"),
        (["--email", "x@example.nc", "--role", "agent", "--password", "iloveyou2026"], "utilisés"),
        (["--email", "no-at-sign", "--role", "agent", "--password", "a-long-password"], "Invalid"),
        (["--email", "x@example.nc", "--role", "boss", "--password", "a-long-password"], "boss"),
    ],
)
def test_cli_rejects_bad_input(runner, args, message):
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_cli_rejects_duplicate_email(app, runner):
    make_user(app, Role.AGENT)
    result = runner.invoke(
        args=["users", "create", "--email", "agent@example.nc", "--role", "agent",
              "--password", "a-long-password"]
    )  # fmt: skip
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_demo_load_creates_one_account_per_role(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["demo", "load"]).exit_code == 0  # idempotent
    with app.app_context():
        users = get_session().scalars(select(User)).all()
        assert {role for user in users for role in user.roles} == set(Role)
        assert len(users) == len(Role)
    assert "guichet-demo-2026" in result.output


def test_demo_load_is_refused_in_production(app, runner):
    app.config["ENV"] = "production"
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code != 0
