"""Issuing payment acts (once, only when there is something to pay) and the act's pages."""

import pytest
from sqlalchemy import func, select

from forms_app import approvals, casework, payment_acts
from forms_app.db import get_session
from forms_app.formdefs.nc import format_xpf
from forms_app.models import Event, NumberSeries, OutboxMessage, PaymentAct, Submission, User
from tests import support
from tests.finance_support import (
    ADMIN,
    AGENT,
    APPROVER,
    FIELDS,
    FINANCE,
    IBAN,
    SETTINGS,
    approved_request,
    issued_act,
    publish_payment_form,
)
from tests.support import publish_form
from workflows import jobs


def request_id(app, reference: str) -> int:
    with app.app_context():
        return get_session().scalar(select(Submission.id).where(Submission.reference == reference))


def run_issue_job(app, submission_id: int) -> int | None:
    """The issue job's body in its own transaction, as the outbox runs it; the act's id."""
    with app.test_request_context():
        db = get_session()
        jobs.issue_payment_act(submission_id)
        db.commit()
        act = payment_acts.live_act(db, submission_id)
        return act.id if act else None


def counts(app, submission_id: int) -> dict:
    with app.app_context():
        db = get_session()

        def count(model, *where):
            return db.scalar(select(func.count()).select_from(model).where(*where))

        return {
            "acts": count(PaymentAct, PaymentAct.submission_id == submission_id),
            "issue_events": count(
                Event,
                Event.subject_type == "submission",
                Event.subject_id == submission_id,
                Event.action == "issue_act",
            ),
            "act_events": count(Event, Event.subject_type == "payment_act"),
            "renders": count(OutboxMessage, OutboxMessage.job == payment_acts.RENDER_JOB),
            "numbers": db.scalar(select(func.coalesce(func.sum(NumberSeries.last_value), 0))),
        }


def as_staff(app, reference: str, email: str, action, *args, **kwargs):
    with app.test_request_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        user = db.scalar(select(User).where(User.email == email))
        result = action(db, found, user, *args, **kwargs)
        db.commit()
        return result


def test_the_approval_queues_the_act(app):
    publish_payment_form(app)
    submission_id = request_id(app, approved_request(app))
    with app.app_context():
        queued = get_session().scalars(
            select(OutboxMessage.args).where(OutboxMessage.job == payment_acts.ISSUE_JOB)
        )
        assert list(queued) == [{"submission_id": submission_id}]


def test_the_job_run_twice_issues_one_act(app):
    publish_payment_form(app)
    submission_id = request_id(app, approved_request(app))
    first = run_issue_job(app, submission_id)
    assert run_issue_job(app, submission_id) == first
    assert counts(app, submission_id) == {
        "acts": 1,
        "issue_events": 1,
        "act_events": 1,
        "renders": 1,
        "numbers": 1,
    }
    with app.app_context():
        db = get_session()
        act = db.get(PaymentAct, first)
        assert (act.state, act.sequence, act.amount) == ("issued", 1, 150_000)
        assert act.live_submission_id == submission_id
        assert db.get(Submission, submission_id).state == "act_issued"


def test_the_act_keeps_a_snapshot_of_the_request(app):
    publish_payment_form(app)
    reference = approved_request(app, amount=178_950)
    act_id = run_issue_job(app, request_id(app, reference))
    with app.app_context():
        act = get_session().get(PaymentAct, act_id)
        assert act.beneficiary == {
            "name": "SARL LAGON BLEU TOURS",
            "ridet": "1234567.001",
            "address": None,
            "email": "gerant@lagon-bleu.nc",
        }
        assert act.bank == {
            "holder": "SARL LAGON BLEU TOURS",
            "iban": IBAN,
            "bic": "BCADNCNN",
            "domiciliation": "BCI Nouméa",
        }
        details = act.details
        assert details["dossier_no"] == reference
        assert details["montant_lettres"] == (
            "cent soixante-dix-huit mille neuf cent cinquante francs CFP"
        )
        assert details["visas"] == SETTINGS["legal_references"]
        assert details["signataire"] == SETTINGS["signer_title"]
        assert details["exercice"] == act.year and details["budget"] == "Budget principal"
        assert details["service_fait"].endswith("– Test User")  # the deciding approver


def test_a_request_cancelled_before_the_job_gets_no_act(app):
    publish_payment_form(app)
    reference = approved_request(app)
    as_staff(app, reference, ADMIN, lambda db, s, u: casework.cancel(db, s, u, s.revision, "X"))
    submission_id = request_id(app, reference)
    assert run_issue_job(app, submission_id) is None
    assert counts(app, submission_id) == {
        "acts": 0,
        "issue_events": 0,
        "act_events": 0,
        "renders": 0,
        "numbers": 0,  # no number taken
    }


def test_a_request_voided_before_the_job_gets_no_act(app):
    publish_payment_form(app)
    reference = approved_request(app)
    as_staff(
        app,
        reference,
        AGENT,
        approvals.change_bank_details,
        iban="FR76 3000 4000 0312 3456 7890 143",
        holder="SARL LAGON BLEU TOURS",
    )
    submission_id = request_id(app, reference)
    assert run_issue_job(app, submission_id) is None
    assert counts(app, submission_id)["acts"] == 0
    with app.app_context():
        assert get_session().get(Submission, submission_id).state == "proposed"


def test_nothing_to_pay_means_no_act(app):
    """No IBAN field on the form, or an amount of zero: no job queued, and the job issues none."""
    publish_form(
        app,
        [field for field in FIELDS if field["type"] != "iban"],
        slug="aide",
        settings=SETTINGS,
        rules={"amount": {"expression": "montant", "cap": 50_000_000}},
    )
    publish_payment_form(app, slug="aide-banque")
    no_iban = request_id(app, approved_request(app))
    zero = request_id(app, approved_request(app, amount=0, slug="aide-banque"))
    with app.app_context():
        queued = get_session().scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.job == payment_acts.ISSUE_JOB)
        )
        assert queued == 0
    for submission_id in (no_iban, zero):
        assert run_issue_job(app, submission_id) is None
        assert counts(app, submission_id)["acts"] == 0


def test_an_unknown_request_is_an_error(app):
    with app.app_context(), pytest.raises(LookupError):
        payment_acts.issue_act(get_session(), 999_999)


# -- The act's pages ----------------------------------------------------------------------


def sign_in(app, client, email: str) -> None:
    """Sign in (staff of these tests have their second factor, see tests.support.make_user)."""
    response = support.sign_in(client, email)
    assert response.status_code == 302 and "/connexion" not in response.headers["Location"]


@pytest.fixture
def act_id(app) -> int:
    publish_payment_form(app)
    return issued_act(app)


@pytest.mark.parametrize(
    ("email", "status"),
    [(FINANCE, 200), (ADMIN, 200), (AGENT, 403), (APPROVER, 403)],
)
def test_who_sees_the_act_page(app, client, act_id, email, status):
    sign_in(app, client, email)
    page = client.get(f"/agents/finances/actes/{act_id}")
    assert page.status_code == status
    pdf = client.get(f"/agents/finances/actes/{act_id}/mandat.pdf")
    assert pdf.status_code == status
    pdf.close()


def test_anonymous_visitors_are_sent_to_sign_in(client, act_id):
    page = client.get(f"/agents/finances/actes/{act_id}")
    assert page.status_code == 302 and "/agents/connexion" in page.headers["Location"]


def test_the_act_page(app, client, act_id):
    sign_in(app, client, FINANCE)
    page = client.get(f"/agents/finances/actes/{act_id}")
    with app.app_context():
        act = get_session().get(PaymentAct, act_id)
        number, reference, sha = act.number, act.details["dossier_no"], act.pdf_sha256
    for expected in (
        f"Mandat de paiement n° {number}",
        "Émis – en attente d’un bordereau",
        "SARL LAGON BLEU TOURS",
        "RIDET 1234567.001",
        format_xpf(150_000),
        "cent cinquante mille francs CFP",
        "FR76 9999 9000 0100 0123 4567 809",
        f"/agents/demandes/{reference}",
        f"/agents/finances/actes/{act_id}/mandat.pdf",
        sha,
        "Acte émis et numéroté",
        "Annuler l’acte de paiement",
    ):
        assert expected in page.text, expected
    assert client.get("/agents/finances/actes/999999").status_code == 404


def test_the_pdf_is_shown_inline_once_rendered(app, client):
    publish_payment_form(app)
    reference = approved_request(app)
    act_id = run_issue_job(app, request_id(app, reference))
    sign_in(app, client, FINANCE)
    for document in ("mandat.pdf", "arrete.pdf"):
        pending = client.get(f"/agents/finances/actes/{act_id}/{document}")
        assert pending.status_code == 202
        assert "en préparation" in pending.text and pending.headers["Retry-After"] == "10"
    assert "Arrêté attributif" not in client.get(f"/agents/finances/actes/{act_id}").text
    with app.test_request_context():
        db = get_session()
        content = payment_acts.render_act_pdf(db, act_id)
        db.commit()
        number = db.get(PaymentAct, act_id).number
    response = client.get(f"/agents/finances/actes/{act_id}/mandat.pdf")
    try:
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("inline")
        assert f"mandat-{number}.pdf" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.data == content
    finally:
        response.close()
    assert "Arrêté attributif (aperçu PDF)" in client.get(f"/agents/finances/actes/{act_id}").text
    decision = client.get(f"/agents/finances/actes/{act_id}/arrete.pdf")
    try:
        assert decision.status_code == 200 and decision.mimetype == "application/pdf"
        assert decision.headers["Content-Disposition"].startswith("inline")
        assert decision.data.startswith(b"%PDF") and decision.data != content
    finally:
        decision.close()


@pytest.mark.parametrize(("email", "linked"), [(FINANCE, True), (ADMIN, True), (AGENT, False)])
def test_the_dossier_shows_the_act(app, client, act_id, email, linked):
    with app.app_context():
        act = get_session().get(PaymentAct, act_id)
        number, reference = act.number, act.details["dossier_no"]
    sign_in(app, client, email)
    page = client.get(f"/agents/demandes/{reference}")
    assert page.status_code == 200
    assert "Acte de paiement" in page.text and f"n° {number}" in page.text
    assert (f"/agents/finances/actes/{act_id}" in page.text) is linked
    assert "Demander un nouvel acte de paiement" not in page.text
