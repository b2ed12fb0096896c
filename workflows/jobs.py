"""RQ entry points and the table of jobs the outbox may run; jobs are thin, domain code works."""

import logging
import time
from collections.abc import Callable

from flask import Flask
from rq import get_current_job

from forms_app import logs, mail
from workflows import outbox

log = logging.getLogger("guichet.jobs")

_app: Flask | None = None


def bind_app(app: Flask) -> None:
    """Use this app for jobs run in this process (the worker preloads it before forking)."""
    global _app
    _app = app


def app_for_jobs() -> Flask:
    """Return the bound app, creating one from the environment under a plain `rq worker`."""
    if _app is None:
        from forms_app import create_app

        bind_app(create_app())
    return _app


def run_outbox_message(message_id: int) -> str:
    """Run one outbox message; what RQ calls for every job the outbox pushes.

    Every line logged meanwhile carries the RQ job id and the outbox message id.
    """
    rq_job = get_current_job()
    job_id = rq_job.id if rq_job is not None else f"outbox-{message_id}"
    with logs.job_context(job_id, message_id), app_for_jobs().app_context():
        started = time.perf_counter()
        outcome = outbox.execute(message_id)
        duration = round((time.perf_counter() - started) * 1000, 1)
        log.info("outbox message %s: %s", message_id, outcome, extra={"duration_ms": duration})
        return outcome


def send_email(
    to: str, subject: str, body: str, reply_to: str | None = None, form_id: int | None = None
) -> None:
    """Send one plain-text e-mail (with the notice of `form_id`'s active announcements)."""
    mail.send(mail.build(to, subject, body, reply_to, form_id=form_id))


def send_receipt(submission_id: int) -> None:
    """Render a submission's receipt PDF (once) and e-mail it to the applicant."""
    from forms_app import receipts
    from forms_app.db import get_session
    from forms_app.models import Submission

    session = get_session()
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise LookupError(f"no submission {submission_id}")
    receipts.send_receipt(session, submission)


def check_submission(submission_id: int, recheck: bool = False) -> None:
    """Recompute a submission's rules with its pinned version; fill its keys; raise its flags.

    The first check, queued by the submit, also tells the webhooks of the submission (the
    submit itself stays one statement); a `recheck` (after a resubmission or new bank
    details) does not.
    """
    from forms_app import checks, webhooks
    from forms_app.db import get_session
    from forms_app.models import Submission

    session = get_session()
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise LookupError(f"no submission {submission_id}")
    checks.check_submission(session, submission)
    if not recheck:
        webhooks.submitted(session, submission)


def notify_state_change(event_id: int) -> None:
    """E-mail the applicant about the state change this audit event records."""
    from forms_app import notifications
    from forms_app.db import get_session

    notifications.send_state_change(get_session(), event_id)


def remind_agents() -> None:
    """E-mail agents the requests idle for too long (the worker's dispatcher also runs it)."""
    from forms_app import notifications
    from forms_app.db import get_session

    notifications.remind_agents(get_session())


def issue_payment_act(submission_id: int) -> None:
    """Number and record the payment act of an approved request (once); queue its PDF."""
    from forms_app import payment_acts
    from forms_app.db import get_session

    payment_acts.issue_act(get_session(), submission_id)


def render_payment_act(act_id: int) -> None:
    """Render and store a payment act's PDF, unless it is stored already."""
    from forms_app import payment_acts
    from forms_app.db import get_session

    payment_acts.render_act_pdf(get_session(), act_id)


def render_bordereau(bordereau_id: int) -> None:
    """Render and store a bordereau's (unsigned) PDF, unless it is stored already."""
    from forms_app import bordereaux
    from forms_app.db import get_session

    bordereaux.render_bordereau_pdf(get_session(), bordereau_id)


def notify_extension(extension_id: int, email: str) -> None:
    """E-mail one draft holder that their deadline is extended, with their resume links."""
    from forms_app import extension_notices
    from forms_app.db import get_session

    extension_notices.send(get_session(), extension_id, email)


def deliver_webhook(delivery_id: int) -> None:
    """POST one webhook delivery, signed, unless it was delivered already.

    The attempt is claimed and committed before the request, so no transaction (nor SQLite's
    write lock) is held while the receiver answers; a failure raises for the outbox's retry.
    """
    from forms_app import webhook_delivery
    from forms_app.db import get_session

    session = get_session()
    attempt = webhook_delivery.claim(session, delivery_id)
    session.commit()
    if attempt is not None:
        webhook_delivery.send(session, attempt)


def webhook_attempt_failed(session, message, exc: Exception | None) -> None:
    """Mirror on the delivery what the outbox decided after a failed attempt."""
    from forms_app import webhook_delivery

    webhook_delivery.attempt_failed(session, message, exc)


JOBS: dict[str, Callable[..., None]] = {
    "send_email": send_email,
    "send_receipt": send_receipt,
    "check_submission": check_submission,
    "notify_state_change": notify_state_change,
    "remind_agents": remind_agents,
    "issue_payment_act": issue_payment_act,
    "render_payment_act": render_payment_act,
    "render_bordereau": render_bordereau,
    "notify_extension": notify_extension,
    "deliver_webhook": deliver_webhook,
}
# Called by the outbox, in the transaction that records a failed run (retry or give-up), for
# jobs whose own rows show their progress.
ON_FAILURE: dict[str, Callable[..., None]] = {"deliver_webhook": webhook_attempt_failed}
