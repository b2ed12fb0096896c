"""Staff sessions: nothing carries over a sign-in, and an idle session ends."""

import time
from html import unescape

from forms_app.auth import LAST_SEEN_KEY
from forms_app.models import Role
from tests.support import make_user, sign_in


def test_nothing_from_before_the_sign_in_carries_over(app, client, auth):
    make_user(app, Role.AGENT)
    with client.session_transaction() as session:  # e.g. planted by someone else
        session["planted"] = "by an attacker"
        session["_user_id"] = "999"
    before = client.get_cookie("session").value
    assert auth.login().status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] != "999"
    assert client.get_cookie("session").value != before


def test_an_idle_staff_session_ends_and_says_why(app, client, auth):
    make_user(app, Role.AGENT)
    auth.login()
    minutes = app.config["STAFF_IDLE_MINUTES"]
    with client.session_transaction() as session:
        session[LAST_SEEN_KEY] = int(time.time()) - (minutes - 1) * 60
    assert client.get("/agents/").status_code == 200  # still active, and seen again now
    with client.session_transaction() as session:
        assert session[LAST_SEEN_KEY] >= int(time.time()) - 5
        session[LAST_SEEN_KEY] = int(time.time()) - minutes * 60 - 1

    response = client.get("/agents/?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/agents/connexion?next=/agents/?page%3D2"
    page = client.get(response.headers["Location"])
    assert f"après {minutes} minutes d’inactivité" in unescape(page.text)
    assert client.get("/agents/").status_code == 302  # signed out for good
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_a_request_shortly_after_another_does_not_rewrite_the_cookie(app, client, auth):
    make_user(app, Role.AGENT)
    auth.login()
    client.get("/agents/")
    assert "Set-Cookie" not in client.get("/agents/").headers


def test_the_session_cookie_is_httponly_samesite_and_secure_in_production(app, client, auth):
    make_user(app, Role.AGENT)
    cookie = auth.login().headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; production sets it (test_config)
    app.config["SESSION_COOKIE_SECURE"] = True  # as create_app sets it in production
    secure = app.test_client()
    assert "Secure" in sign_in(secure, "agent@example.nc").headers["Set-Cookie"]
