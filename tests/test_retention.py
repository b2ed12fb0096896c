"""Retention: ended requests are anonymised after their form's period, finance keeps its acts."""

import hashlib
from datetime import date, timedelta

from sqlalchemy import select, update

from forms_app import audit_chain, casework, payments, retention, storage
from forms_app.db import Base, get_db, get_session, utcnow
from forms_app.models import (
    ApiToken,
    Attachment,
    Bordereau,
    Event,
    Form,
    IdempotentAnswer,
    Message,
    Note,
    OutboxMessage,
    OutboxStatus,
    PaymentAct,
    ProblemReport,
    Role,
    Submission,
)
from forms_app.payment_files import local_date
from tests.api_support import make_token
from tests.backoffice_support import run
from tests.finance_support import AGENT, FINANCE, IBAN, approved_request, publish_payment_form
from tests.payments_support import load, signed_bordereau, staff
from tests.support import make_user, sign_in, start_worker, stop_process, wait_until

# What the applicant typed (tests/finance_support.py): none of it may survive anonymisation,
# except in finance's records.
MARKERS = ("sarl lagon bleu tours", "gerant@lagon-bleu.nc", IBAN.lower(), "1234567001")
FINANCE_TABLES = {"payment_act"}
FINANCE_ADMIN = "admin@example.nc"  # admins cancel requests
PIECE = b"%PDF-1.4\n% bilan 2019 de la SARL\n%%EOF\n"


def tables_holding(app, markers=MARKERS) -> dict[str, set[str]]:
    """Every table whose rows contain one of `markers` (any column, any case): which ones."""
    found: dict[str, set[str]] = {}
    with app.app_context():
        db = get_session()
        for table in Base.metadata.sorted_tables:
            text = " ".join(repr(tuple(row)) for row in db.execute(select(table))).lower()
            hits = {marker for marker in markers if marker in text}
            if hits:
                found[table.name] = hits
    return found


def add_file(app, reference: str, content: bytes = PIECE) -> str:
    """A file sent with the request (stored, then named by an attachment row); its key."""
    with app.app_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        sha256 = hashlib.sha256(content).hexdigest()
        key = storage.store(content, sha256)
        db.add(
            Attachment(
                submission_id=found.id,
                field_key="bilan",
                original_name="bilan SARL LAGON BLEU TOURS.pdf",
                content_type="application/pdf",
                size=len(content),
                sha256=sha256,
                storage_key=key,
            )
        )
        db.commit()
        return key


def paid_request(app) -> tuple[str, int]:
    """A request taken to payment, with a message, a note and a file: its reference, act id."""
    bordereau_id = signed_bordereau(app, [150_000])
    with app.test_request_context():
        db = get_session()
        bordereau = db.get(Bordereau, bordereau_id)
        payments.mark_paid(db, bordereau, staff(db, FINANCE), local_date(bordereau.signed_at))
        act = db.scalar(select(PaymentAct).where(PaymentAct.bordereau_id == bordereau_id))
        reference = act.submission.reference
        db.commit()
    run(app, reference, AGENT, lambda db, s, user, rev: casework.add_note(
        db, s, user, "Gérant joint au 77 12 34 : SARL LAGON BLEU TOURS"))  # fmt: skip
    run(app, reference, AGENT, lambda db, s, user, rev: casework.write_to_applicant(
        db, s, user, "Merci gerant@lagon-bleu.nc, dossier complet."))  # fmt: skip
    add_file(app, reference)
    return reference, act.id


def age(app, reference: str, **delta) -> None:
    """Move the request's end back in time, and its e-mails to long delivered."""
    with app.app_context():
        db = get_session()
        db.execute(
            update(Submission)
            .where(Submission.reference == reference)
            .values(ended_at=utcnow() - timedelta(**delta))
        )
        db.execute(
            update(OutboxMessage).values(
                status=OutboxStatus.DONE, finished_at=utcnow() - timedelta(days=40)
            )
        )
        db.commit()


def sweep(app) -> dict[str, int]:
    with app.app_context():
        return retention.sweep(get_session())


def test_a_paid_request_past_its_retention_keeps_nothing_personal_but_its_act(app):
    reference, act_id = paid_request(app)
    key = add_file(app, reference, b"%PDF-1.4\n% RIB\n%%EOF\n")
    assert set(tables_holding(app)) >= {"submission", "attachment", "note", "outbox_message"}

    age(app, reference, days=36 * 31)
    done = sweep(app)

    assert done["anonymised"] == 1 and done["files"] == 2 and done["emails"] >= 2
    left = tables_holding(app)
    assert set(left) == FINANCE_TABLES, left  # the act's snapshot: beneficiary and bank
    with app.app_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        assert found.state == "paid" and found.approved_amount == 150_000
        assert found.answers == {} and found.applicant_email is None and found.anonymised_at
        assert db.scalar(select(Attachment).where(Attachment.submission_id == found.id)) is None
        assert db.scalar(select(Message).where(Message.submission_id == found.id)) is None
        assert db.scalar(select(Note).where(Note.submission_id == found.id)) is None
        assert not storage.exists(key)
        act = db.get(PaymentAct, act_id)
        assert act.state == "paid" and act.beneficiary["name"] == "SARL LAGON BLEU TOURS"
        assert storage.read(act.pdf_key).startswith(b"%PDF")  # finance's record stays
        erased = db.scalars(
            select(Event).where(Event.subject_id == found.id, Event.action == "anonymised")
        ).all()
        assert [event.details for event in erased] == [
            {"files": 2, "messages": 1, "notes": 1, "flags": 0}
        ]
        db.rollback()  # SQLite: the sealer's own transaction needs the write lock
        audit_chain.seal_all(get_db(app).sessionmaker)
        assert audit_chain.verify(db).broken is None
    assert sweep(app)["anonymised"] == 0  # done once


def test_open_requests_and_recent_ones_are_kept_and_each_form_has_its_period(app):
    publish_payment_form(app)
    short = publish_payment_form(app, slug="courte")
    kept_open = approved_request(app)
    recent = approved_request(app)
    due_short = approved_request(app, slug=short)
    for reference in (recent, due_short):
        run(app, reference, FINANCE_ADMIN, casework.cancel, "Doublon")
    with app.app_context():
        db = get_session()
        db.execute(update(Form).where(Form.slug == short).values(retention_months=1))
        db.commit()
    age(app, recent, days=300)
    age(app, due_short, days=40)

    assert sweep(app)["anonymised"] == 1

    with app.app_context():
        db = get_session()
        by_reference = {
            row.reference: row
            for row in db.scalars(
                select(Submission).where(Submission.reference.in_([kept_open, recent, due_short]))
            )
        }
        assert by_reference[due_short].anonymised_at is not None
        assert by_reference[recent].anonymised_at is None and by_reference[recent].answers
        assert by_reference[kept_open].ended_at is None and by_reference[kept_open].answers
        assert by_reference[recent].ended_at is not None  # the cancel started its clock


def test_a_file_two_requests_share_stays_until_no_row_names_it(app):
    publish_payment_form(app)
    first, second = approved_request(app), approved_request(app)
    key = add_file(app, first)
    assert add_file(app, second) == key
    for reference in (first, second):
        run(app, reference, FINANCE_ADMIN, casework.cancel, "Doublon")
    age(app, first, days=40 * 31)

    done = sweep(app)
    assert (done["anonymised"], done["files"]) == (1, 0)
    with app.app_context():
        assert storage.read(key) == PIECE  # the second request still names it
    age(app, second, days=40 * 31)
    assert sweep(app)["files"] == 1
    with app.app_context():
        assert not storage.exists(key)


def test_old_delivered_emails_problem_reports_and_idempotent_answers_are_erased(app):
    make_user(app, Role.AGENT, email="outil@example.nc")
    make_token(app, "outil@example.nc", write=True)
    with app.app_context():
        db = get_session()
        token_id = db.scalar(select(ApiToken.id))
        for key, hours in (("ancienne", 25), ("récente", 23)):
            db.add(IdempotentAnswer(token_id=token_id, key=key, request_sha256="0" * 64,
                                    status=200, body={}, created_at=utcnow() - timedelta(hours=hours)))  # fmt: skip
        old, recent = utcnow() - timedelta(days=40), utcnow() - timedelta(days=2)
        for status, finished in ((OutboxStatus.DONE, old), (OutboxStatus.DONE, recent)):
            db.add(
                OutboxMessage(
                    job="send_email",
                    args={"to": "x@example.nc", "body": "b"},
                    status=status,
                    finished_at=finished,
                )
            )
        db.add(OutboxMessage(job="send_email", args={"to": "y@example.nc"}, created_at=old))
        db.add(
            ProblemReport(
                page="/", description="Je suis Marie Dubois", contact_email="marie@example.nc",
                created_at=utcnow() - timedelta(days=400),
            )
        )  # fmt: skip
        db.add(ProblemReport(page="/", description="Page blanche", contact_email="l@example.nc"))
        db.commit()

    assert sweep(app) == {
        "anonymised": 0,
        "files": 0,
        "emails": 1,
        "webhook_deliveries": 0,
        "reports": 1,
        "answers": 1,
    }

    with app.app_context():
        db = get_session()
        left = db.scalars(select(OutboxMessage.args["to"].as_string())).all()
        assert sorted(left) == ["x@example.nc", "y@example.nc"]
        reports = db.scalars(select(ProblemReport).order_by(ProblemReport.id)).all()
        assert db.scalars(select(IdempotentAnswer.key)).all() == ["récente"]
        assert [(r.description, r.contact_email) for r in reports] == [
            (retention.REPORT_ERASED, None),
            ("Page blanche", "l@example.nc"),
        ]
    assert sweep(app)["reports"] == 0


def test_months_are_calendar_months():
    moment = utcnow().replace(year=2026, month=3, day=31, hour=12)
    assert retention.months_before(moment, 1).date() == date(2026, 2, 28)
    assert retention.months_before(moment, 13).date() == date(2025, 2, 28)
    assert retention.months_after(moment, 11).date() == date(2027, 2, 28)
    assert retention.months_after(moment, 36).date() == date(2029, 3, 31)
    assert retention.months_before(moment.replace(month=1, day=15), 1).date() == date(2025, 12, 15)


def test_the_worker_applies_retention_by_itself(app, tmp_path):
    publish_payment_form(app)
    reference = approved_request(app)
    run(app, reference, FINANCE_ADMIN, casework.cancel, "Doublon")
    age(app, reference, days=40 * 31)
    log = tmp_path / "worker.log"
    worker = start_worker(app, log, GUICHET_RETENTION_SWEEP_INTERVAL="0.5")
    try:
        wait_until(lambda: load(app, Submission, _id(app, reference)).anonymised_at, timeout=60)
    finally:
        stop_process(worker)
    text = log.read_text().lower()
    assert "retention pass: {'anonymised': 1" in text
    assert not [marker for marker in MARKERS if marker in text]


def _id(app, reference: str) -> int:
    with app.app_context():
        return get_session().scalar(select(Submission.id).where(Submission.reference == reference))


def test_the_case_page_says_when_personal_data_goes_and_that_it_went(app, client):
    publish_payment_form(app)
    reference = approved_request(app)
    run(app, reference, FINANCE_ADMIN, casework.cancel, "Doublon")
    make_user(app, Role.AGENT, email="lecteur@example.nc")
    sign_in(client, "lecteur@example.nc")
    page = client.get(f"/agents/demandes/{reference}").get_data(as_text=True)
    assert "Conservées jusqu’au" in page and "Accusé de réception (PDF)" in page

    age(app, reference, days=40 * 31)
    sweep(app)
    answer = client.get(f"/agents/demandes/{reference}")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Effacées le" in page and "SARL LAGON BLEU TOURS" not in page
    assert "Accusé de réception (PDF)" not in page
    assert client.get(f"/agents/demandes/{reference}/recu.pdf").status_code == 404
