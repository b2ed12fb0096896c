"""Retention (RGPD): how long personal data is kept, and the pass that erases it when due.

- A draft lives its form's `draft_lifetime_days` (DRAFT_LIFETIME_DAYS by default) after its
  last save; the draft sweep (`draft_notices.sweep`) deletes it once expired.
- A request that reached a final state (paid, refused, closed, withdrawn, cancelled) is kept
  its form's `retention_months` (RETENTION_MONTHS by default) after it ended, then
  anonymised: answers, typed values, address, messages, private notes, flags, files, receipt
  and the duplicate-check keys are erased. The row keeps its reference, form, state, dates
  and amounts: statistics, and the link from finance's records. Payment acts, bordereaux and
  their PDFs are accounting documents and are never touched here (docs/privacy.md).
- Delivered e-mails (done outbox rows) and delivered webhook deliveries go after
  OUTBOX_KEEP_DAYS; problem reports lose their text and contact address after
  REPORT_RETENTION_MONTHS; the API's idempotent answers go after IDEMPOTENCY_KEEP_HOURS.

`sweep` runs in the worker's dispatcher every RETENTION_SWEEP_INTERVAL seconds and from
`flask retention sweep`. Each request is anonymised in its own transaction, with its audit
event; its files are deleted after the commit, once no row names them any more.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, exists, or_, select, union_all, update
from sqlalchemy.orm import Session

from forms_app import audit, storage
from forms_app.db import utcnow
from forms_app.models import (
    ApplicantAccess,
    Approval,
    Attachment,
    Bordereau,
    DeadlineExtension,
    DeliveryStatus,
    Flag,
    Form,
    IdempotentAnswer,
    Message,
    Note,
    OutboxMessage,
    OutboxStatus,
    PaymentAct,
    ProblemReport,
    Submission,
    WebhookDelivery,
)

# Bounds a form's settings may take (the builder's form checks them).
DRAFT_LIFETIME_RANGE = (1, 365)
RETENTION_RANGE = (1, 120)
REPORT_ERASED = "[effacé]"


def draft_lifetime(form: Form) -> timedelta:
    """How long a draft of `form` lives after its last save."""
    days = form.draft_lifetime_days or current_app.config["DRAFT_LIFETIME_DAYS"]
    return timedelta(days=days)


def retention_months(form: Form) -> int:
    """How many months an ended request of `form` is kept before it is anonymised."""
    return form.retention_months or current_app.config["RETENTION_MONTHS"]


def months_before(moment: datetime, months: int) -> datetime:
    """`moment` moved back by calendar months (31 March less one month: 28 or 29 February)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=moment.tzinfo)
    last_day = (following - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def months_after(moment: datetime, months: int) -> datetime:
    return months_before(moment, -months)


def erasure_date(submission: Submission) -> datetime | None:
    """When an ended request will be anonymised (None while it is still being processed)."""
    if submission.ended_at is None:
        return None
    return months_after(submission.ended_at, retention_months(submission.form))


def due(session: Session, now: datetime, batch: int) -> list[int]:
    """Ids of ended requests past their form's retention period, not yet anonymised."""
    found: list[int] = []
    for form in session.scalars(select(Form).order_by(Form.id)):
        cutoff = months_before(now, retention_months(form))
        found += session.scalars(
            select(Submission.id)
            .where(
                Submission.form_id == form.id,
                Submission.anonymised_at.is_(None),
                Submission.ended_at <= cutoff,
            )
            .order_by(Submission.ended_at, Submission.id)
            .limit(batch - len(found))
        )
        if len(found) >= batch:
            break
    return found


def anonymise(session: Session, submission_id: int, now: datetime) -> set[str] | None:
    """Erase one ended request's personal data and audit it; the caller commits.

    Returns the storage keys its files and receipt used (to delete after the commit), or None
    if the request is no longer due (another pass did it first). The row is locked first.
    """
    row = session.get(Submission, submission_id, with_for_update=True, populate_existing=True)
    if row is None or row.anonymised_at is not None or row.ended_at is None:
        return None
    files = list(session.scalars(select(Attachment).where(Attachment.submission_id == row.id)))
    keys = {found.storage_key for found in files} | ({row.receipt_key} - {None})
    email = row.applicant_email
    counts = {
        "files": len(files),
        "messages": _erase(session, Message, row.id),
        "notes": _erase(session, Note, row.id),
        "flags": _erase(session, Flag, row.id),
    }
    session.execute(delete(Attachment).where(Attachment.submission_id == row.id))
    session.execute(
        update(Approval).where(Approval.submission_id == row.id).values(bank_fingerprint=None)
    )
    row.answers, row.rule_results, row.draft_data = {}, {}, None
    row.applicant_email = row.search_text = row.decision_reason = None
    row.dup_rid = row.dup_iban = row.dup_identity = None
    row.receipt_key = row.receipt_sha256 = row.resume_token_hash = None
    row.anonymised_at = now
    audit.record(session, row, "anonymised", None, **counts)
    if email:
        _forget_address(session, email, now)
    return keys


def _erase(session: Session, model, submission_id: int) -> int:
    return session.execute(delete(model).where(model.submission_id == submission_id)).rowcount


def _forget_address(session: Session, email: str, now: datetime) -> None:
    """Once no request of an address is left, drop what Guichet kept about the address."""
    session.flush()
    if session.scalar(select(exists().where(Submission.applicant_email == email))):
        return
    session.execute(delete(ApplicantAccess).where(ApplicantAccess.email == email))
    session.execute(
        update(DeadlineExtension)
        .where(DeadlineExtension.applicant_email == email, DeadlineExtension.new_closes_at < now)
        .values(applicant_email=None)
    )


def referenced(session: Session, keys: set[str]) -> set[str]:
    """Which of `keys` a row still names (one stored object may serve several rows)."""
    if not keys:
        return set()
    columns = (
        Attachment.storage_key,
        Submission.receipt_key,
        PaymentAct.pdf_key,
        PaymentAct.decision_pdf_key,
        Bordereau.pdf_key,
        Bordereau.signed_pdf_key,
    )
    named = union_all(*(select(column.label("key")).where(column.in_(keys)) for column in columns))
    return set(session.scalars(select(named.subquery().c.key)))


def delete_files(session: Session, keys: set[str]) -> int:
    """Delete the stored objects no row names any more; return how many.

    Called after the commit that dropped the rows; it ends its own read transaction.
    """
    gone = keys - referenced(session, keys)
    session.commit()
    for key in sorted(gone):
        storage.delete(key)
    return len(gone)


def sweep(session: Session, batch: int = 200, now: datetime | None = None) -> dict[str, int]:
    """One retention pass: anonymise due requests, prune old e-mails, webhook deliveries,
    problem reports and idempotent answers; commits."""
    now = now or utcnow()
    config = current_app.config
    done = {"anonymised": 0, "files": 0}
    for submission_id in due(session, now, batch):
        keys = anonymise(session, submission_id, now)
        session.commit()
        if keys is not None:
            done["anonymised"] += 1
            done["files"] += delete_files(session, keys)
    kept_since = now - timedelta(days=config["OUTBOX_KEEP_DAYS"])
    done["emails"] = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.DONE, OutboxMessage.finished_at < kept_since
        )
    ).rowcount
    done["webhook_deliveries"] = session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status == DeliveryStatus.DELIVERED,
            WebhookDelivery.delivered_at < kept_since,
        )
    ).rowcount
    done["reports"] = session.execute(
        update(ProblemReport)
        .where(
            ProblemReport.created_at < months_before(now, config["REPORT_RETENTION_MONTHS"]),
            or_(
                ProblemReport.contact_email.is_not(None),
                ProblemReport.description != REPORT_ERASED,
            ),
        )
        .values(contact_email=None, description=REPORT_ERASED, answer=None)
    ).rowcount
    done["answers"] = session.execute(
        delete(IdempotentAnswer).where(
            IdempotentAnswer.created_at < now - timedelta(hours=config["IDEMPOTENCY_KEEP_HOURS"])
        )
    ).rowcount
    session.commit()
    return done
