"""The second factor at sign-in: enrolment with recovery codes, codes good once, lockout."""

import re
import time
from html import unescape

import pyotp
import pytest
from sqlalchemy import func, select

from forms_app.db import get_session
from forms_app.models import Event, RecoveryCode, Role, User
from tests.support import PASSWORD, TOTP_SECRET, make_user, sign_in

LOGIN, CODE, ENROL = "/agents/connexion", "/agents/connexion/code", "/agents/connexion/activation"
SECRET_TEXT = re.compile(r'class="totp-secret"><code lang="en">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r'<li><code lang="en">([A-Z0-9-]+)</code></li>')
APPROVER = "valideur@example.nc"


def password_step(client, email: str = APPROVER):
    return client.post(LOGIN, data={"email": email, "password": PASSWORD})


def signed_in(client) -> bool:
    return client.get("/agents/").status_code == 200


def user(app, email: str = APPROVER) -> User:
    with app.app_context():
        return get_session().scalar(select(User).where(User.email == email))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.APPROVER, Role.FINANCE])
def test_deciding_paying_and_administering_roles_give_a_code_after_the_password(app, client, role):
    make_user(app, role, email=APPROVER)
    response = password_step(client)
    assert response.status_code == 302 and response.headers["Location"] == CODE
    assert not signed_in(client)  # the password alone opens nothing
    assert client.get(CODE).status_code == 200
    done = client.post(CODE, data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert done.status_code == 302 and done.headers["Location"] == "/agents/"
    assert signed_in(client)


def test_agents_and_designers_sign_in_with_their_password(app, client):
    make_user(app, Role.AGENT, Role.DESIGNER)
    response = client.post(LOGIN, data={"email": "agent@example.nc", "password": PASSWORD})
    assert response.headers["Location"] == "/agents/"
    assert signed_in(client)


def test_first_sign_in_enrols_the_app_and_shows_recovery_codes_once(app, client):
    make_user(app, Role.APPROVER, email=APPROVER, enrolled=False)
    assert password_step(client).headers["Location"] == ENROL
    page = client.get(ENROL)
    assert "<svg" in page.text and "Activer la double authentification" in page.text
    secret = SECRET_TEXT.search(page.text).group(1).replace(" ", "")
    assert SECRET_TEXT.search(client.get(ENROL).text).group(1).replace(" ", "") == secret
    generator = pyotp.TOTP(secret)
    wrong = f"{(int(generator.now()) + 1) % 1_000_000:06d}"
    refused = client.post(ENROL, data={"code": wrong})
    assert refused.status_code == 400 and "Ce code ne correspond pas" in unescape(refused.text)
    assert client.post(ENROL, data={"code": ""}).status_code == 400
    assert user(app).totp_secret is None and not signed_in(client)

    done = client.post(ENROL, data={"code": generator.now()})
    assert done.status_code == 200 and "Vos codes de secours" in done.text
    codes = RECOVERY.findall(done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}", code) for code in codes)
    assert signed_in(client)
    enrolled = user(app)
    assert enrolled.totp_secret == secret and enrolled.totp_enrolled_at is not None
    assert abs(enrolled.totp_last_step - int(time.time() // 30)) <= 1  # its code is used up
    with app.app_context():
        db = get_session()
        stored = db.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10 and not any(code in "".join(stored) for code in codes)
        actions = db.scalars(select(Event.action).where(Event.subject_id == enrolled.id)).all()
        assert {"totp_enrol", "recovery_codes_issued"} <= set(actions)
    client.post("/agents/deconnexion")
    assert password_step(client).headers["Location"] == CODE  # from now on, a code


def test_a_pending_secret_belongs_to_the_person_it_was_shown_to(app, client):
    make_user(app, Role.FINANCE, email="f1@example.nc", enrolled=False)
    make_user(app, Role.FINANCE, email="f2@example.nc", enrolled=False)
    password_step(client, "f1@example.nc")
    first = SECRET_TEXT.search(client.get(ENROL).text).group(1).replace(" ", "")
    password_step(client, "f2@example.nc")  # the same browser, someone else
    second = SECRET_TEXT.search(client.get(ENROL).text).group(1).replace(" ", "")
    assert second != first
    assert client.post(ENROL, data={"code": pyotp.TOTP(first).now()}).status_code == 400


def test_a_code_is_good_once(app, client):
    make_user(app, Role.APPROVER, email=APPROVER)
    code = pyotp.TOTP(TOTP_SECRET).now()
    password_step(client)
    assert client.post(CODE, data={"code": code}).status_code == 302
    other = app.test_client()  # someone who saw the code
    password_step(other)
    replayed = other.post(CODE, data={"code": code})
    assert replayed.status_code == 401
    assert "Code incorrect ou déjà utilisé" in unescape(replayed.text)
    assert not signed_in(other)


def test_a_recovery_code_stands_in_once_for_a_lost_phone(app, client):
    make_user(app, Role.APPROVER, email=APPROVER, enrolled=False)
    password_step(client)
    secret = SECRET_TEXT.search(client.get(ENROL).text).group(1).replace(" ", "")
    codes = RECOVERY.findall(client.post(ENROL, data={"code": pyotp.TOTP(secret).now()}).text)
    client.post("/agents/deconnexion")

    password_step(client)
    used = client.post(
        CODE, data={"code": codes[3].lower().replace("-", " ")}, follow_redirects=True
    )
    assert used.status_code == 200 and "Il vous en reste 9" in unescape(used.text)
    assert signed_in(client)
    client.post("/agents/deconnexion")
    password_step(client)
    assert client.post(CODE, data={"code": codes[3]}).status_code == 401  # used up
    with app.app_context():
        db = get_session()
        left = select(func.count()).where(RecoveryCode.used_at.is_(None))
        assert db.scalar(left.select_from(RecoveryCode)) == 9
        assert db.scalar(select(Event.details).where(Event.action == "recovery_code_used")) == {
            "left": 9
        }


def test_wrong_codes_lock_the_account_like_wrong_passwords(app, client):
    make_user(app, Role.APPROVER, email=APPROVER)
    password_step(client)
    generator = pyotp.TOTP(TOTP_SECRET)
    wrong = f"{(int(generator.now()) + 500_000) % 1_000_000:06d}"
    answers = [client.post(CODE, data={"code": wrong}) for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 5
    assert "ce compte est bloqué" in unescape(answers[-1].text)
    right = client.post(CODE, data={"code": generator.now()})
    assert right.status_code == 401 and "ce compte est bloqué" in unescape(right.text)
    assert user(app).locked_until is not None and not signed_in(client)


def test_the_code_step_without_a_fresh_password_starts_again(app, client):
    make_user(app, Role.APPROVER, email=APPROVER)
    for path in (CODE, ENROL):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith(LOGIN)
    password_step(client)
    with client.session_transaction() as session:
        pending = session["sign_in_pending"]
        session["sign_in_pending"] = {**pending, "at": pending["at"] - 301}
    late = client.post(CODE, data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert late.status_code == 302 and late.headers["Location"].startswith(LOGIN)
    assert not signed_in(client)


def test_the_page_asked_for_comes_after_the_code(app, client):
    make_user(app, Role.APPROVER, email=APPROVER)
    client.post(f"{LOGIN}?next=/agents/demandes/", data={"email": APPROVER, "password": PASSWORD})
    done = client.post(CODE, data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert done.headers["Location"] == "/agents/demandes/"


def test_the_tests_sign_in_helper_goes_through_the_code_page(app, client):
    make_user(app, Role.FINANCE, email=APPROVER)
    assert sign_in(client, APPROVER).headers["Location"] == "/agents/"
    client.post("/agents/deconnexion")
    assert sign_in(client, APPROVER).status_code == 302  # again, within the same 30 seconds
    assert signed_in(client)
