"""Jobs that gave up: what the queue looks like, the failed outbox rows, and running them again.

An outbox message ends `failed` after OUTBOX_MAX_ATTEMPTS (`workflows.outbox`). Admins see
those rows in the ops area and retry them, one or every failed row of a job at once; each
retry is audited in the same transaction. Functions here never commit: the request does.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forms_app import audit
from forms_app.models import OutboxMessage, OutboxStatus, Submission, User
from workflows import outbox

PAGE_SIZE = 50
RETRIED = "job_retried"
# What each job does, in words; a job missing here is shown by its name.
JOB_LABELS = {
    "send_receipt": _l("Accusé de réception"),
    "check_submission": _l("Contrôles"),
    "issue_payment_act": _l("Émission de l’acte"),
    "render_payment_act": _l("Rendu de l’acte"),
    "render_bordereau": _l("Rendu du bordereau"),
    "send_email": _l("Courriel"),
    "notify_state_change": _l("Avis de changement d’état"),
    "notify_extension": _l("Avis de prolongation"),
    "remind_agents": _l("Relance des agents"),
    "deliver_webhook": _l("Livraison de webhook"),
}
WAITING = (OutboxStatus.PENDING, OutboxStatus.ENQUEUED, OutboxStatus.RUNNING)


def job_label(job: str) -> str:
    """The job in words, or its name when it has no label."""
    label = JOB_LABELS.get(job)
    return str(label) if label is not None else job


def age_text(age: timedelta) -> str:
    """A duration as people read it: 40 s, 12 min, 3 h 05, 2 j 4 h."""
    seconds = int(age.total_seconds())
    if seconds < 60:
        return _("%(num)s s", num=seconds)
    if seconds < 3600:
        return _("%(num)s min", num=seconds // 60)
    if seconds < 24 * 3600:
        return _("%(hours)s h %(minutes)02d", hours=seconds // 3600, minutes=seconds % 3600 // 60)
    return _("%(days)s j %(hours)s h", days=seconds // 86400, hours=seconds % 86400 // 3600)


@dataclass
class QueueState:
    """Rows per status (waiting ones and failed ones) and the age of the oldest pending row."""

    counts: dict[OutboxStatus, int]
    oldest_pending: timedelta | None


@dataclass
class FailedRow:
    """A failed outbox message and the reference of the request it is about, if any."""

    message: OutboxMessage
    reference: str | None


def queue_state(session: Session, now: datetime) -> QueueState:
    """Count the rows still to run and the failed ones, in one grouped query."""
    rows = session.execute(
        select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_([*WAITING, OutboxStatus.FAILED]))
        .group_by(OutboxMessage.status)
    ).all()
    counts = dict.fromkeys((*WAITING, OutboxStatus.FAILED), 0)
    oldest = None
    for status, count, first in rows:
        counts[OutboxStatus(status)] = count
        if status == OutboxStatus.PENDING and first is not None:
            oldest = max(now - first, timedelta(0))
    return QueueState(counts, oldest)


def failed_count(session: Session) -> int:
    """How many messages are failed (the ops navigation shows it to admins)."""
    query = select(func.count()).where(OutboxMessage.status == OutboxStatus.FAILED)
    return session.scalar(query) or 0


def failed_per_job(session: Session) -> list[tuple[str, int]]:
    """(job, number of failed messages) for every job with some, most failures first."""
    rows = session.execute(
        select(OutboxMessage.job, func.count())
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .group_by(OutboxMessage.job)
    ).all()
    return sorted(((job, count) for job, count in rows), key=lambda row: (-row[1], row[0]))


def failed_page(
    session: Session, *, job: str | None = None, before: int | None = None
) -> tuple[list[FailedRow], int | None]:
    """Failed messages, newest first, PAGE_SIZE at a time (keyset on id), and the next cursor.

    The references of the requests the messages name (`submission_id` in their arguments)
    come in one more query, whatever the number of rows.
    """
    query = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
    if job:
        query = query.where(OutboxMessage.job == job)
    if before is not None:
        query = query.where(OutboxMessage.id < before)
    messages = list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(PAGE_SIZE + 1)))
    following = messages[PAGE_SIZE - 1].id if len(messages) > PAGE_SIZE else None
    messages = messages[:PAGE_SIZE]
    wanted = {_submission_id(m) for m in messages} - {None}
    references = {}
    if wanted:
        references = dict(
            session.execute(
                select(Submission.id, Submission.reference).where(Submission.id.in_(wanted))
            ).all()
        )
    rows = [FailedRow(m, references.get(_submission_id(m))) for m in messages]
    return rows, following


def _submission_id(message: OutboxMessage) -> int | None:
    value = (message.args or {}).get("submission_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def retry(session: Session, message: OutboxMessage, actor: User) -> bool:
    """Give a failed message a fresh set of attempts and audit it; False if it is not failed."""
    if not outbox.retry(session, message.id):
        return False
    audit.record(
        session,
        message,
        RETRIED,
        actor,
        from_state=OutboxStatus.FAILED.value,
        to_state=OutboxStatus.PENDING.value,
        message_id=message.id,
        job=message.job,
    )
    return True


def retry_job(session: Session, job: str, actor: User) -> list[int]:
    """Retry every failed message of `job`, each audited; return the ids retried."""
    failed = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED, OutboxMessage.job == job)
        .order_by(OutboxMessage.id)
    )
    return [message.id for message in list(failed) if retry(session, message, actor)]
