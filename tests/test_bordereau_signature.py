"""Signing a bordereau: password and code again, segregation of duties, a PAdES file that holds."""

import hashlib
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from forms_app import bordereaux, payments, pki, signing, storage, totp
from forms_app.db import get_session
from forms_app.models import (
    ActState,
    Bordereau,
    BordereauLine,
    BordereauState,
    Event,
    PaymentAct,
    Role,
)
from tests import finance_support
from tests.bordereau_support import (
    acts,
    build,
    enrol,
    fresh_code,
    load,
    login,
    pdfsig,
    render,
    unrendered_act,
    user_by_email,
    words_in_stamp_box,
)
from tests.finance_support import APPROVER, FINANCE, FINANCE2, issued_act, publish_payment_form
from tests.support import PASSWORD

VALID = "Signature Validation: Signature is Valid."


@pytest.fixture
def bordereau(app, client):
    """An open, rendered bordereau of two acts; a finance officer signed in with a code."""
    publish_payment_form(app)
    ids = [issued_act(app, amount=amount) for amount in (150_000, 90_000)]
    ident = build(app, ids)
    render(app, ident)
    enrol(app)
    login(client, FINANCE)
    return ident, ids


def post_signature(client, ident: int, *, password: str = PASSWORD, code: str):
    return client.post(
        f"/agents/finances/bordereaux/{ident}/signature",
        data={"password": password, "code": code},
    )


def user(app, email: str = FINANCE):
    with app.app_context():
        return user_by_email(get_session(), email)


def assert_nothing_signed(app, ident: int, ids: list[int]) -> None:
    found = load(app, ident)
    assert found.state == BordereauState.OPEN and found.signed_pdf_key is None
    assert found.signer_id is None and found.signed_at is None
    for act in acts(app, ids):
        assert act.state == ActState.ISSUED and act.submission.state == "act_issued"


def test_signing_orders_the_payments_and_keeps_a_valid_pades_file(app, client, bordereau, tmp_path):
    ident, ids = bordereau
    unsigned = render(app, ident)
    response = post_signature(client, ident, code=fresh_code(app))
    assert response.status_code == 302, response.text
    path = response.headers["Location"]
    assert path == f"/agents/finances/bordereaux/{ident}"

    found = load(app, ident)
    assert found.state == BordereauState.SIGNED and found.signed_at is not None
    assert found.signer_id == user(app).id
    for act in acts(app, ids):
        assert act.state == ActState.SIGNED and act.submission.state == "signed"
        assert act.bordereau_id == ident
    with app.app_context():
        db = get_session()
        signed_events = db.scalars(select(Event).where(Event.action == "sign")).all()
        kinds = sorted(event.subject_type for event in signed_events)
        assert kinds == ["bordereau", "payment_act", "payment_act", "submission", "submission"]

    page = client.get(path).text
    assert "Signé – paiement ordonné" in page and "Bordereau n°" in page
    assert f"Signature valide de {pki.SIGNER_NAME}, certificat reconnu." in page
    assert "Signer et ordonner" not in page and "Abandonner le bordereau" not in page

    download = client.get(f"{path}/bordereau-signe.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    assert f"bordereau-{found.number}-signe.pdf" in download.headers["Content-Disposition"]
    signed = download.data
    download.close()
    assert signed.startswith(unsigned)  # an incremental update of the rendered file
    assert hashlib.sha256(signed).hexdigest() == found.signed_pdf_sha256
    with app.app_context():
        check = signing.verify_pdf(signed)
    assert check.valid and check.trusted and check.intact and check.coverage
    assert check.signer == pki.SIGNER_NAME
    assert VALID in pdfsig(signed, tmp_path)
    assert words_in_stamp_box(unsigned, tmp_path) == []
    stamp = " ".join(words_in_stamp_box(signed, tmp_path))  # the stamp sits in its box
    assert f"Signé électroniquement par {user(app).name}" in stamp

    again = post_signature(client, ident, code=fresh_code(app))
    assert again.status_code == 409 and "n’est plus ouvert" in again.text


def test_a_wrong_password_signs_nothing_and_counts_as_a_failed_login(app, client, bordereau):
    ident, ids = bordereau
    code = fresh_code(app)
    response = post_signature(client, ident, password="not-the-password", code=code)
    assert response.status_code == 400
    assert "Mot de passe incorrect : rien n’a été signé." in response.text
    assert_nothing_signed(app, ident, ids)
    officer = user(app)
    assert officer.failed_logins == 1
    assert officer.totp_last_step is None  # the code is not used up by a mistyped password
    assert post_signature(client, ident, code=code).status_code == 302


def test_a_wrong_or_used_code_signs_nothing(app, client, bordereau):
    ident, ids = bordereau
    current = fresh_code(app)  # the sign-in used no code of this step
    wrong = f"{(int(current) + 1) % 1_000_000:06d}"
    response = post_signature(client, ident, code=wrong)
    assert response.status_code == 400 and "Code incorrect ou déjà utilisé" in response.text
    assert user(app).failed_logins == 1

    with app.app_context():  # the current code was just used (for instance to sign another)
        db = get_session()
        assert totp.verify(db, user_by_email(db, FINANCE), current)
        db.commit()
    replayed = post_signature(client, ident, code=current)
    assert replayed.status_code == 400 and "Code incorrect ou déjà utilisé" in replayed.text
    missing = post_signature(client, ident, password="", code="")
    assert missing.status_code == 400 and "Saisissez votre mot de passe." in missing.text
    assert_nothing_signed(app, ident, ids)


def test_repeated_wrong_codes_lock_the_account(app, client, bordereau):
    ident, ids = bordereau
    app.config["LOGIN_MAX_FAILURES"] = 3
    for _ in range(3):
        response = post_signature(client, ident, code="000000")
    assert response.status_code == 400 and "ce compte est bloqué" in response.text
    assert user(app).locked_until is not None
    locked = post_signature(client, ident, code=fresh_code(app))
    assert locked.status_code == 400 and "ce compte est bloqué" in locked.text
    assert_nothing_signed(app, ident, ids)


def test_an_officer_who_approved_one_request_cannot_sign(app, client, monkeypatch, tmp_path):
    publish_payment_form(app)
    finance_support.staff_users(app)
    with app.app_context():
        db = get_session()
        user_by_email(db, FINANCE2).grant(Role.APPROVER)
        db.commit()
    other = issued_act(app)
    monkeypatch.setattr(finance_support, "APPROVER", FINANCE2)  # FINANCE2 approves this one
    own = issued_act(app, name="EURL CORAIL")
    monkeypatch.setattr(finance_support, "APPROVER", APPROVER)
    ident = build(app, [other, own])
    render(app, ident)
    enrol(app, FINANCE2)
    login(client, FINANCE2)

    response = post_signature(client, ident, code=fresh_code(app, FINANCE2))
    assert response.status_code == 403
    own_act, other_act = acts(app, [own])[0], acts(app, [other])[0]
    error = re.search(r'<div class="error-summary".*?</div>', response.text, re.S).group(0)
    assert "Vous ne pouvez pas signer ce bordereau ; rien n’a été signé." in error
    assert "Vous avez validé cette demande" in error
    assert own_act.details["dossier_no"] in error
    assert other_act.details["dossier_no"] not in error
    assert_nothing_signed(app, ident, [other, own])
    assert user(app, FINANCE2).totp_last_step is None  # rolled back with the rest

    client.post("/agents/deconnexion")
    enrol(app, FINANCE)
    login(client, FINANCE)
    assert post_signature(client, ident, code=fresh_code(app)).status_code == 302


def test_a_bordereau_is_signed_only_once_its_pdf_is_rendered(app, client):
    publish_payment_form(app)
    ident = build(app, [issued_act(app)])
    enrol(app)
    login(client, FINANCE)
    response = post_signature(client, ident, code=fresh_code(app))
    assert response.status_code == 409 and "en préparation" in response.text
    assert load(app, ident).state == BordereauState.OPEN
    with app.test_request_context():
        db = get_session()
        with pytest.raises(bordereaux.BordereauError):
            bordereaux.build(db, [unrendered_act(app)], user_by_email(db, FINANCE))


def test_a_flipped_byte_breaks_the_signature(app, client, bordereau, tmp_path):
    ident, _ids = bordereau
    unsigned = render(app, ident)
    with app.test_request_context():
        db = get_session()
        found = bordereaux.sign(db, db.get(Bordereau, ident), user_by_email(db, FINANCE))
        db.commit()
        key = found.signed_pdf_key
        signed = bytearray(storage.read(key))
    contents = PdfReader(io.BytesIO(unsigned)).pages[0].raw_get("/Contents")
    header = signed.index(f"\n{contents.idnum} 0 obj".encode())
    position = signed.index(b"stream", header) + 40  # inside the first page's content stream
    assert position < len(unsigned)
    signed[position] ^= 0x01
    tampered = bytes(signed)

    with app.app_context():
        check = signing.verify_pdf(tampered)
    assert not check.intact and not check.valid and not check.ok
    report = pdfsig(tampered, tmp_path)
    assert VALID not in report

    with app.app_context():
        storage.backend().path(key).write_bytes(tampered)  # the stored file damaged on disk
    page = client.get(f"/agents/finances/bordereaux/{ident}").text
    assert "Signature invalide : le document a été modifié après la signature." in page


def test_an_act_rejected_by_the_bank_goes_on_a_new_bordereau(app, client, bordereau):
    ident, ids = bordereau
    assert post_signature(client, ident, code=fresh_code(app)).status_code == 302
    with app.test_request_context():
        db = get_session()
        rejected = db.get(PaymentAct, ids[0])
        payments.reject_act(
            db, db.get(Bordereau, ident), rejected, user_by_email(db, FINANCE), "Compte clos"
        )
        db.commit()

    index = client.get("/agents/finances/").text
    assert "Rejeté par la banque" in index and "Compte clos" in index
    again = build(app, [ids[0]])
    render(app, again)
    assert load(app, again).number != load(app, ident).number
    assert post_signature(client, again, code=fresh_code(app)).status_code == 302
    act = acts(app, [ids[0]])[0]
    assert act.state == ActState.SIGNED and act.bordereau_id == again
    assert act.submission.state == "signed"
    with app.app_context():
        history = get_session().scalars(
            select(BordereauLine.bordereau_id).where(BordereauLine.act_id == ids[0])
        )
        assert sorted(history) == [ident, again]  # both bordereaux keep their line
