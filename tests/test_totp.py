"""Second factor: codes good once, enrolment through the pages, finance pages behind it."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import select

from forms_app import totp
from forms_app.db import get_session
from forms_app.models import Event
from tests.bordereau_support import SECRET, enrol, login, user_by_email
from tests.finance_support import ADMIN, AGENT, FINANCE, FINANCE2, staff_users

ENROL = "/agents/finances/double-authentification"
SECRET_TEXT = re.compile(r'<code lang="en">([A-Z2-7 ]+)</code>')


@pytest.fixture
def staff(app):
    staff_users(app)


def finance_user(session, email: str = FINANCE):
    return user_by_email(session, email)


def test_a_new_secret_gives_an_otpauth_uri_and_an_inline_qr_code(app, staff):
    secret = totp.new_secret()
    assert len(secret) == 32 and re.fullmatch(r"[A-Z2-7]+", secret)
    assert secret != totp.new_secret()
    with app.app_context():
        uri = totp.provisioning_uri(finance_user(get_session()), secret)
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parse_qs(parts.query) == {"secret": [secret], "issuer": ["Guichet"]}
    assert parts.path == "/Guichet:finances%40example.nc"
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<path" in svg and "href" not in svg and "<image" not in svg and "<?xml" not in svg


def test_a_code_is_accepted_once_and_earlier_codes_never_again(app, staff):
    enrol(app)
    generator = pyotp.TOTP(SECRET)
    now = time.time()
    with app.app_context():
        db = get_session()
        user = finance_user(db)
        assert totp.verify(db, user, generator.at(now))
        assert user.totp_last_step == int(now // 30)
        db.commit()
        assert not totp.verify(db, user, generator.at(now))  # replay
        assert not totp.verify(db, user, generator.at(now - 30))  # an earlier step
        code = generator.at(now + 30)
        assert totp.verify(db, user, f"{code[:3]} {code[3:]}")  # the next step, with a space
        db.commit()
        assert finance_user(db).totp_last_step == int(now // 30) + 1


def test_wrong_or_malformed_codes_are_refused(app, staff):
    enrol(app)
    generator = pyotp.TOTP(SECRET)
    now = time.time()
    wrong = f"{(int(generator.at(now)) + 1) % 1_000_000:06d}"
    with app.app_context():
        db = get_session()
        user = finance_user(db)
        for code in (wrong, "", "12345", "abcdef", generator.at(now + 120), None):
            assert not totp.verify(db, user, code)
        assert user.totp_last_step is None
        other = finance_user(db, FINANCE2)  # no second factor at all
        assert not totp.verify(db, other, generator.at(now))


def test_a_rolled_back_transaction_gives_the_step_back(app, staff):
    enrol(app)
    code = pyotp.TOTP(SECRET).now()
    with app.app_context():
        db = get_session()
        assert totp.verify(db, finance_user(db), code)
        db.rollback()
        assert totp.verify(db, finance_user(db), code)


def test_finance_staff_enrol_on_first_visit(app, client, staff):
    login(client, FINANCE)
    response = client.get("/agents/finances/")
    assert response.status_code == 302 and response.headers["Location"] == ENROL

    page = client.get(ENROL)
    assert page.status_code == 200
    assert "<svg" in page.text and "Activer la double authentification" in page.text
    secret = SECRET_TEXT.search(page.text).group(1).replace(" ", "")
    assert client.get(ENROL).text.count(" ".join(re.findall(".{4}", secret))) == 1  # same one

    generator = pyotp.TOTP(secret)
    wrong = f"{(int(generator.now()) + 1) % 1_000_000:06d}"
    refused = client.post(ENROL, data={"code": wrong})
    assert refused.status_code == 400 and "Ce code ne correspond pas" in refused.text
    assert client.post(ENROL, data={"code": ""}).status_code == 400
    with app.app_context():
        assert finance_user(get_session()).totp_secret is None

    done = client.post(ENROL, data={"code": generator.now()})
    assert done.status_code == 302 and done.headers["Location"] == "/agents/finances/"
    with app.app_context():
        db = get_session()
        user = finance_user(db)
        assert user.totp_secret == secret and user.totp_enrolled_at is not None
        assert abs(user.totp_last_step - int(time.time() // 30)) <= 1  # its code is used up
        event = db.scalar(select(Event).where(Event.action == "totp_enrol"))
        assert (event.subject_type, event.subject_id, event.actor_id) == ("user", user.id, user.id)
    assert client.get("/agents/finances/").status_code == 200

    again = client.get(ENROL)  # enrolled: the page says so and offers no new secret
    assert again.status_code == 200 and "<svg" not in again.text
    assert "Double authentification active" in again.text


def test_every_finance_page_waits_for_the_second_factor(app, client, staff):
    login(client, FINANCE)
    for method, path in (
        ("get", "/agents/finances/bordereaux/1"),
        ("post", "/agents/finances/bordereaux"),
        ("post", "/agents/finances/bordereaux/1/signature"),
    ):
        response = getattr(client, method)(path)
        assert response.status_code == 302 and response.headers["Location"] == ENROL, path


def test_administrators_read_finance_pages_without_a_second_factor(app, client, staff):
    login(client, ADMIN)
    assert client.get("/agents/finances/").status_code == 200
    assert client.get(ENROL).status_code == 403  # only finance staff sign, so only they enrol
    assert client.post("/agents/finances/bordereaux").status_code == 403


def test_other_staff_and_visitors_are_kept_out(app, client, staff):
    anonymous = client.get("/agents/finances/")
    assert anonymous.status_code == 302 and "/agents/connexion" in anonymous.headers["Location"]
    assert client.get(ENROL).status_code == 302
    login(client, AGENT)
    assert client.get("/agents/finances/").status_code == 403
    assert client.get(ENROL).status_code == 403


def test_the_home_page_links_to_payments_for_finance_and_admins(app, client, staff):
    enrol(app)
    for email, shown in ((FINANCE, True), (ADMIN, True), (AGENT, False)):
        login(client, email)
        assert ('href="/agents/finances/"' in client.get("/agents/").text) is shown, email
        client.post("/agents/deconnexion")


def test_a_pending_secret_belongs_to_the_person_it_was_shown_to(app, client, staff):
    login(client, FINANCE)
    first = SECRET_TEXT.search(client.get(ENROL).text).group(1)
    client.post("/agents/deconnexion")
    login(client, FINANCE2)  # the same browser, someone else
    second = SECRET_TEXT.search(client.get(ENROL).text).group(1)
    assert second != first
    code = pyotp.TOTP(first.replace(" ", "")).now()
    assert client.post(ENROL, data={"code": code}).status_code == 400
