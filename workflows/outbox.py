"""The transactional outbox: write a job in the caller's transaction, run it once after commit.

`add()` writes an OutboxMessage in the caller's session. The session's own commit writes it
already claimed (`enqueued`), and right after the commit it is pushed to RQ with no further
database work; if Redis cannot be reached the row goes back to pending and `dispatch()` (run
by the worker's dispatcher and by `flask outbox dispatch`) pushes it later. A process that
dies between the commit and the push leaves an `enqueued` row with no RQ job: `reconcile()`
puts it back after OUTBOX_STALE_AFTER.
`reconcile()` puts back rows whose RQ job was lost. `execute()` claims a row with a
conditional UPDATE, so a message dispatched twice still runs once.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from flask import Flask, current_app
from redis.exceptions import RedisError
from rq.job import Job, JobStatus
from sqlalchemy import and_, case, event, inspect, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from forms_app import mail, metrics
from forms_app.db import get_db, get_session, utcnow
from forms_app.models import OutboxMessage, OutboxStatus
from workflows.queue import RUN_OUTBOX_MESSAGE, get_queue, get_redis

log = logging.getLogger(__name__)

_NEW_MESSAGES = "guichet.outbox.new"
_WRITTEN_CLAIMED = "guichet.outbox.written"
_UNREACHABLE, _FAILED = "Redis unreachable", "Push failed"
_LIVE_RQ_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


# Jobs that render one-request PDFs get their own (shorter) limit: a stuck render must not
# hold a worker. A bordereau's render grows with the acts it lists (10,000 acts take about
# 80 s on a quiet 2-core machine), so it keeps JOB_TIMEOUT.
PDF_JOBS = frozenset({"send_receipt", "render_payment_act"})


def job_timeout(job: str, config) -> int:
    """Seconds RQ lets `job` run before stopping it."""
    return config["PDF_JOB_TIMEOUT"] if job in PDF_JOBS else config["JOB_TIMEOUT"]


# Jobs with a retry schedule of their own, by the prefix of its settings (<PREFIX>_MAX_ATTEMPTS,
# <PREFIX>_RETRY_BASE_SECONDS, <PREFIX>_RETRY_MAX_SECONDS); the others follow OUTBOX_*.
RETRY_SCHEDULES = {"deliver_webhook": "WEBHOOK"}


def max_attempts(job: str, config) -> int:
    """How many times `job` runs before its row is marked failed."""
    return config[f"{RETRY_SCHEDULES.get(job, 'OUTBOX')}_MAX_ATTEMPTS"]


def retry_delay(job: str, attempts: int, config) -> float:
    """Seconds before the next run of `job` after its `attempts`-th failed one: doubling."""
    prefix = RETRY_SCHEDULES.get(job, "OUTBOX")
    delay = config[f"{prefix}_RETRY_BASE_SECONDS"] * 2 ** (attempts - 1)
    return min(delay, config.get(f"{prefix}_RETRY_MAX_SECONDS") or delay)


class UnknownJob(ValueError):
    """The job name is not in workflows.jobs.JOBS."""


def add(session: Session, job: str, **args) -> OutboxMessage:
    """Write a job to run once the caller's transaction commits (never before, never if not)."""
    from workflows.jobs import JOBS

    if job not in JOBS:
        raise UnknownJob(job)
    message = OutboxMessage(job=job, args=args, next_attempt_at=utcnow())
    session.add(message)
    session.info.setdefault(_NEW_MESSAGES, []).append(message)
    return message


def written_claimed(session: Session, rows: Iterable[tuple[int, str]]) -> None:
    """Push these (id, job) rows after the commit: a statement wrote them already `enqueued`
    in the caller's transaction (see forms_app.submit_statement), as `add`'s hook does."""
    session.info.setdefault(_WRITTEN_CLAIMED, []).extend(rows)


def watch(factory: sessionmaker, app: Flask) -> None:
    """Claim the messages a session wrote in its own commit, and push them right after it."""

    @event.listens_for(factory, "before_flush")
    def _before_flush(session: Session, _context, _instances) -> None:
        # Written claimed: the push after commit needs no second connection nor statement.
        now = None
        for message in session.info.get(_NEW_MESSAGES, ()):
            if message.status is None and message in session.new:
                now = now or utcnow()
                message.status, message.enqueued_at = OutboxStatus.ENQUEUED, now

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint was released: the real commit comes later
        messages = session.info.pop(_NEW_MESSAGES, None) or ()
        claimed = [
            (inspect(m).identity[0], m.job)
            for m in messages
            if inspect(m).identity and m.status is OutboxStatus.ENQUEUED
        ]
        claimed.extend(session.info.pop(_WRITTEN_CLAIMED, ()))
        if claimed:
            push(app, claimed)

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        if session.in_nested_transaction():
            return  # only a savepoint: rows it added are gone, the others will be committed
        session.info.pop(_NEW_MESSAGES, None)
        session.info.pop(_WRITTEN_CLAIMED, None)


def dispatch(app: Flask, ids: Iterable[int] | None = None) -> int:
    """Push due pending rows (or just `ids`) to RQ; return how many were pushed."""
    config = app.config
    now = utcnow()
    claim = (
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(status=OutboxStatus.ENQUEUED, enqueued_at=now)
        .returning(OutboxMessage.id, OutboxMessage.job)
    )
    if ids is not None:
        claim = claim.where(OutboxMessage.id.in_(list(ids)))
    else:
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.id)
            .limit(config["OUTBOX_BATCH_SIZE"])
        )
        claim = claim.where(OutboxMessage.id.in_(due.scalar_subquery()))
    factory = get_db(app).sessionmaker
    with factory() as session:
        claimed = session.execute(claim).all()
        session.commit()
    return push(app, claimed)


def push(app: Flask, claimed: list[tuple[int, str]]) -> int:
    """Push claimed (`enqueued`) rows, given as (id, job), to RQ; return how many were pushed.

    If the push fails the rows go back to pending for the dispatcher; the caller's commit
    already succeeded, so nothing is raised and nobody waits for Redis.
    """
    if not claimed:
        return 0
    config = app.config
    try:
        queue = get_queue(app)
        queue.enqueue_many(
            [
                queue.prepare_data(
                    RUN_OUTBOX_MESSAGE,
                    args=(message_id,),
                    job_id=f"outbox-{message_id}",
                    timeout=job_timeout(job, config),
                    result_ttl=24 * 3600,
                    failure_ttl=7 * 24 * 3600,
                    description=f"outbox {job} #{message_id}",
                )
                for message_id, job in claimed
            ]
        )
    except Exception as exc:
        ids = [message_id for message_id, _ in claimed]
        try:
            _release(get_db(app).sessionmaker, ids, exc, config)
        except Exception as error:  # the reconciler takes them back after OUTBOX_STALE_AFTER
            log.error("outbox: push failed, rows not released (%s)", type(error).__name__)
        log.warning("outbox: push failed (%s); %d rows wait", type(exc).__name__, len(ids))
        return 0
    return len(claimed)


def _release(factory: sessionmaker, ids: list[int], exc: Exception, config) -> None:
    """Put claimed rows back to pending after a failed push."""
    with factory() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.ENQUEUED)
            .values(
                status=OutboxStatus.PENDING,
                enqueued_at=None,
                next_attempt_at=utcnow() + timedelta(seconds=config["OUTBOX_DISPATCH_INTERVAL"]),
                last_error=f"{_UNREACHABLE if isinstance(exc, RedisError) else _FAILED}: "
                f"{type(exc).__name__}",
            )
        )
        session.commit()


def reconcile(app: Flask) -> int:
    """Put back rows whose RQ job was lost or whose worker died; return how many."""
    config = app.config
    now = utcnow()
    factory = get_db(app).sessionmaker
    recovered = 0
    with factory() as session:
        stale = session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.status == OutboxStatus.ENQUEUED,
                OutboxMessage.enqueued_at < now - timedelta(seconds=config["OUTBOX_STALE_AFTER"]),
            )
        ).all()
        session.commit()
    lost = _lost_jobs(app, stale)
    dead = OutboxMessage.status == OutboxStatus.RUNNING, _past_its_timeout(now, config)
    most = case(
        {job: max_attempts(job, config) for job in RETRY_SCHEDULES},
        value=OutboxMessage.job,
        else_=config["OUTBOX_MAX_ATTEMPTS"],
    )
    with factory() as session:
        if lost:
            recovered += session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(lost), OutboxMessage.status == OutboxStatus.ENQUEUED)
                .values(status=OutboxStatus.PENDING, enqueued_at=None, next_attempt_at=now)
            ).rowcount
        recovered += session.execute(
            update(OutboxMessage)
            .where(*dead, OutboxMessage.attempts < most)
            .values(status=OutboxStatus.PENDING, next_attempt_at=now, last_error="Worker lost")
        ).rowcount
        given_up = session.scalars(
            update(OutboxMessage)
            .where(*dead, OutboxMessage.attempts >= most)
            .values(status=OutboxStatus.FAILED, finished_at=now, last_error="Worker lost")
            .returning(OutboxMessage.id)
        ).all()
        for message_id in given_up:
            _tell_owner(session, session.get(OutboxMessage, message_id), None)
        session.commit()
    if recovered:
        log.warning("outbox: %d rows recovered for another dispatch", recovered)
    return recovered


def _past_its_timeout(now, config):
    """Running rows started longer ago than their own job's timeout plus the grace."""
    grace = config["OUTBOX_DEAD_WORKER_GRACE"]
    pdf_before = now - timedelta(seconds=config["PDF_JOB_TIMEOUT"] + grace)
    other_before = now - timedelta(seconds=config["JOB_TIMEOUT"] + grace)
    return or_(
        and_(OutboxMessage.job.in_(PDF_JOBS), OutboxMessage.started_at < pdf_before),
        and_(OutboxMessage.job.not_in(PDF_JOBS), OutboxMessage.started_at < other_before),
    )


def _lost_jobs(app: Flask, ids: list[int]) -> list[int]:
    """Return the ids among `ids` whose RQ job no longer exists or will not run."""
    if not ids:
        return []
    try:
        jobs = Job.fetch_many([f"outbox-{i}" for i in ids], connection=get_redis(app))
        return [
            i
            for i, job in zip(ids, jobs, strict=True)
            if job is None or job.get_status(refresh=False) not in _LIVE_RQ_STATUSES
        ]
    except RedisError:
        return []  # Cannot tell while Redis is down; the dispatcher will try again.


def execute(message_id: int) -> str:
    """Run one outbox message in the current app context, at most once to completion."""
    from workflows.jobs import JOBS

    config = current_app.config
    factory = get_db().sessionmaker
    with factory() as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.ENQUEUED]),
            )
            .values(
                status=OutboxStatus.RUNNING,
                attempts=OutboxMessage.attempts + 1,
                started_at=utcnow(),
            )
        ).rowcount
        session.commit()
    if not claimed:
        log.info("outbox: message %s already taken; skipped", message_id)
        return "skipped"

    session = get_session()
    message = session.get(OutboxMessage, message_id)
    job = message.job  # read now: after a rollback the row would be reloaded (and locked)
    try:
        with mail.deliveries(f"outbox-{message_id}"):  # a re-run sends the same Message-IDs
            JOBS[job](**message.args)
        message.status = OutboxStatus.DONE
        message.finished_at = utcnow()
        message.last_error = None
        session.commit()
        metrics.job_finished(job, "done")
        return "done"
    except Exception as exc:
        session.rollback()
        # The message may hold personal data: it goes to the row (staff-only), not the log.
        log.error("outbox: job %s #%s failed: %s", job, message_id, type(exc).__name__)
        return _record_failure(factory, message_id, exc, config)


def _record_failure(factory: sessionmaker, message_id: int, exc: Exception, config) -> str:
    """Schedule a retry with backoff, or mark the row failed after the last attempt."""
    with factory() as session:
        message = session.get(OutboxMessage, message_id, with_for_update=True)
        now = utcnow()
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= max_attempts(message.job, config):
            message.status = OutboxStatus.FAILED
            message.finished_at = now
        else:
            delay = retry_delay(message.job, message.attempts, config)
            message.status = OutboxStatus.PENDING
            message.next_attempt_at = now + timedelta(seconds=delay)
        _tell_owner(session, message, exc)
        session.commit()
        metrics.job_finished(message.job, message.status.value)
        return message.status.value


def _tell_owner(session: Session, message: OutboxMessage, exc: Exception | None) -> None:
    """Let the job's own row follow a failed run (retry time, or given up), in this commit."""
    from workflows.jobs import ON_FAILURE

    hook = ON_FAILURE.get(message.job)
    if hook is not None:
        hook(session, message, exc)


def retry(session: Session, message_id: int) -> bool:
    """Give a failed message a fresh set of attempts; return whether it was failed."""
    return bool(
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.FAILED)
            .values(
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=utcnow(),
                finished_at=None,
            )
        ).rowcount
    )
