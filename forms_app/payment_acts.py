"""Payment acts: issued by a job once a request is approved, rendered once, never changed.

`issue_act` (job "issue_payment_act", queued by the approval through the outbox) locks the
request, returns the live act if there is one (a job may run twice), else takes the next
number of the budget's series, snapshots what the act says, moves the request to act_issued
and queues the PDF render — all in the job's one transaction. `render_act_pdf` (job
"render_payment_act") renders outside any lock and stores the file with a conditional
UPDATE: the first stored PDF stays the act's PDF for good.
"""

import hashlib

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forms_app import act_snapshot, audit, payment_numbers, pdf, storage
from forms_app.db import utcnow
from forms_app.formdefs import definition as definitions
from forms_app.formdefs.nc import format_xpf
from forms_app.models import ActState, PaymentAct, Submission
from workflows import outbox
from workflows.states import Action, State

ISSUE_JOB = "issue_payment_act"
RENDER_JOB = "render_payment_act"


def queue_issue(session: Session, submission: Submission) -> None:
    """Queue the act of a request that was just approved, if it pays anything; no commit."""
    if act_snapshot.pays_anything(submission):
        outbox.add(session, ISSUE_JOB, submission_id=submission.id)


def live_act(session: Session, submission_id: int) -> PaymentAct | None:
    """The request's act that is not cancelled, if any."""
    return session.scalar(select(PaymentAct).where(PaymentAct.live_submission_id == submission_id))


def issue_act(session: Session, submission_id: int) -> PaymentAct | None:
    """Issue the request's payment act (once); None when it has nothing to pay now.

    The caller (the job's transaction) commits.
    """
    submission = session.get(Submission, submission_id, with_for_update=True)
    if submission is None:
        raise LookupError(f"no submission {submission_id}")
    existing = live_act(session, submission_id)
    if existing is not None:
        return existing
    if submission.state != State.APPROVED or not act_snapshot.pays_anything(submission):
        return None  # cancelled, voided or decided otherwise since the job was queued
    now = utcnow()
    snapshot = act_snapshot.take(session, submission, now)
    definition = definitions.of_version(submission.form_version)
    code = payment_numbers.budget_code(act_snapshot.budget_label(definition))
    year = snapshot["details"]["exercice"]
    sequence, number = payment_numbers.next_number(session, payment_numbers.MANDAT, code, year)
    act = PaymentAct(
        number=number,
        budget_code=code,
        year=year,
        sequence=sequence,
        submission_id=submission.id,
        live_submission_id=submission.id,
        form_id=submission.form_id,
        state=ActState.ISSUED.value,
        amount=submission.approved_amount,
        issued_at=now,
        **snapshot,
    )
    session.add(act)
    session.flush()
    event = submission.apply(session, Action.ISSUE_ACT, None)
    event.details = {**event.details, "act_id": act.id, "act_number": number}
    audit.record(
        session,
        act,
        "issue",
        None,
        to_state=ActState.ISSUED.value,
        number=number,
        amount=act.amount,
        submission_id=submission.id,
    )
    outbox.add(session, RENDER_JOB, act_id=act.id)
    return act


def render_act_pdf(session: Session, act_id: int) -> bytes:
    """The act's PDF: rendered and stored the first time, read back every other time."""
    act = session.get(PaymentAct, act_id)
    if act is None:
        raise LookupError(f"no payment act {act_id}")
    if act.pdf_key:
        return storage.read(act.pdf_key)
    content = pdf.render("payment_act.html", act=act, amount=format_xpf(act.amount))
    sha256 = hashlib.sha256(content).hexdigest()
    key = storage.store(content, sha256)
    stored = session.execute(
        update(PaymentAct)
        .where(PaymentAct.id == act_id, PaymentAct.pdf_key.is_(None))
        .values(pdf_key=key, pdf_sha256=sha256, rendered_at=utcnow())
    ).rowcount
    if not stored:  # another run stored its render first: that one is the act
        session.refresh(act)
        return storage.read(act.pdf_key)
    session.refresh(act)
    return content


def act_pdf(act: PaymentAct) -> bytes | None:
    """The stored PDF of an act, or None while it is being rendered."""
    return storage.read(act.pdf_key) if act.pdf_key else None


def filename(act: PaymentAct) -> str:
    return f"mandat-{act.number}.pdf"
