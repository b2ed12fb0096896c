"""Second factor: codes good once; finance pages only with one (enrolment: test_second_factor)."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from forms_app import totp
from forms_app.db import get_session
from tests.bordereau_support import SECRET, enrol, login, user_by_email
from tests.finance_support import ADMIN, AGENT, FINANCE, FINANCE2, staff_users
from tests.support import PASSWORD


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
    forget(app, FINANCE2)
    with app.app_context():
        db = get_session()
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


def test_finance_staff_whose_second_factor_is_reset_are_signed_out(app, client, staff, runner):
    login(client, FINANCE)
    assert client.get("/agents/finances/").status_code == 200
    assert runner.invoke(args=["users", "reset-totp", FINANCE]).exit_code == 0  # a lost phone

    response = client.post("/agents/finances/bordereaux")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/agents/connexion?next=")
    assert client.get("/agents/").status_code == 302  # signed out
    again = client.post("/agents/connexion", data={"email": FINANCE, "password": PASSWORD})
    assert again.headers["Location"] == "/agents/connexion/activation"  # enrol to come back
    other = app.test_client()
    login(other, FINANCE2)  # the other finance officer is not concerned
    assert other.get("/agents/finances/").status_code == 200


def test_administrators_read_finance_pages_but_do_not_sign(app, client, staff):
    login(client, ADMIN)
    assert client.get("/agents/finances/").status_code == 200
    assert client.post("/agents/finances/bordereaux").status_code == 403


def test_other_staff_and_visitors_are_kept_out(app, client, staff):
    anonymous = client.get("/agents/finances/")
    assert anonymous.status_code == 302 and "/agents/connexion" in anonymous.headers["Location"]
    login(client, AGENT)
    assert client.get("/agents/finances/").status_code == 403


def test_the_home_page_links_to_payments_for_finance_and_admins(app, client, staff):
    for email, shown in ((FINANCE, True), (ADMIN, True), (AGENT, False)):
        login(client, email)
        assert ('href="/agents/finances/"' in client.get("/agents/").text) is shown, email
        client.post("/agents/deconnexion")


def forget(app, email: str, enrolled: bool = False) -> None:
    """Take a staff member's second factor away (or give the tests' one back)."""
    with app.app_context():
        db = get_session()
        user = finance_user(db, email)
        user.totp_secret = SECRET if enrolled else None
        user.totp_last_step = None
        db.commit()
