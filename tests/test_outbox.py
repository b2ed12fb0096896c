"""The outbox against real Redis and real worker processes: nothing lost, nothing run twice."""

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from rq import Queue
from sqlalchemy import func, select, update

from forms_app.db import get_session, utcnow
from forms_app.models import OutboxMessage, OutboxStatus
from tests.support import run_worker_burst, sent_mails
from workflows import outbox
from workflows.queue import RUN_OUTBOX_MESSAGE, get_queue, get_redis


def write_email(app, subject: str = "Accusé de réception") -> int:
    """Write one send_email message in a committed transaction, as a view would."""
    with app.app_context():
        session = get_session()
        message = outbox.add(
            session, "send_email", to="demandeur@example.nc", subject=subject, body="Bonjour."
        )
        session.commit()
        return message.id


def load(app, message_id: int) -> OutboxMessage:
    with app.app_context():
        return get_session().get(OutboxMessage, message_id)


def queued(app) -> int:
    with app.app_context():
        return get_queue().count


def test_committed_message_is_pushed_and_runs(app):
    message_id = write_email(app)
    assert load(app, message_id).status is OutboxStatus.ENQUEUED
    assert queued(app) == 1
    run_worker_burst(app)
    message = load(app, message_id)
    assert message.status is OutboxStatus.DONE
    assert message.attempts == 1
    [mail] = sent_mails(app)
    parsed = message_from_bytes(mail.read_bytes(), policy=policy.default)
    assert parsed["To"] == "demandeur@example.nc"
    assert parsed["Subject"] == "Accusé de réception"


def test_rolled_back_message_never_runs(app):
    with app.app_context():
        session = get_session()
        outbox.add(session, "send_email", to="a@example.nc", subject="Jamais", body="-")
        session.flush()  # the row exists inside the transaction...
        session.rollback()  # ...and is gone with it
        session.commit()  # a later empty commit must not resurrect it
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert queued(app) == 0
    run_worker_burst(app)
    assert sent_mails(app) == []


def test_job_runs_once_even_if_dispatched_twice(app):
    message_id = write_email(app)
    with app.app_context():
        # A second push of the same message, as a reconciler that thought it lost would do.
        get_queue().enqueue(RUN_OUTBOX_MESSAGE, message_id)
        assert outbox.dispatch(app, [message_id]) == 0  # not pending any more: not pushed
    assert queued(app) == 2
    run_worker_burst(app)
    assert len(sent_mails(app)) == 1
    message = load(app, message_id)
    assert message.status is OutboxStatus.DONE
    assert message.attempts == 1


def test_message_waits_when_redis_is_down_and_cli_pushes_it_later(app, redis_url):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    app.extensions.pop("guichet.redis", None)
    message_id = write_email(app)  # the commit succeeds all the same
    message = load(app, message_id)
    assert message.status is OutboxStatus.PENDING
    assert "Redis unreachable" in message.last_error

    app.config["REDIS_URL"] = redis_url  # Redis is back
    app.extensions.pop("guichet.redis", None)
    with app.app_context():
        get_session().execute(
            update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        get_session().commit()
    result = app.test_cli_runner().invoke(args=["outbox", "dispatch"])
    assert "pushed 1" in result.output
    run_worker_burst(app)
    assert load(app, message_id).status is OutboxStatus.DONE
    assert len(sent_mails(app)) == 1


def test_reconciler_recovers_a_job_redis_lost(app):
    message_id = write_email(app)
    with app.app_context():
        get_redis().flushdb()  # Redis restarted without persistence: the job is gone
        get_session().execute(
            update(OutboxMessage).values(enqueued_at=utcnow() - timedelta(minutes=5))
        )
        get_session().commit()
        assert outbox.reconcile(app) == 1
    assert load(app, message_id).status is OutboxStatus.PENDING
    run_worker_burst(app)  # the worker's dispatcher pushes it again
    assert load(app, message_id).status is OutboxStatus.DONE
    assert len(sent_mails(app)) == 1


def test_reconciler_leaves_queued_jobs_alone(app):
    message_id = write_email(app)
    with app.app_context():
        get_session().execute(
            update(OutboxMessage).values(enqueued_at=utcnow() - timedelta(minutes=5))
        )
        get_session().commit()
        assert outbox.reconcile(app) == 0
    assert load(app, message_id).status is OutboxStatus.ENQUEUED


@pytest.mark.parametrize(("attempts", "expected"), [(1, "pending"), (5, "failed")])
def test_reconciler_takes_back_rows_of_a_dead_worker(app, attempts, expected):
    message_id = write_email(app)
    long_ago = utcnow() - timedelta(seconds=app.config["JOB_TIMEOUT"] + 120)
    with app.app_context():
        get_session().execute(
            update(OutboxMessage).values(
                status=OutboxStatus.RUNNING, started_at=long_ago, attempts=attempts
            )
        )
        get_session().commit()
        outbox.reconcile(app)
    message = load(app, message_id)
    assert message.status.value == expected
    assert message.last_error == "Worker lost"


def test_failing_job_is_retried_later_then_marked_failed(app):
    message_id = write_email(app)
    smtp_down = {"GUICHET_MAIL_BACKEND": "smtp", "GUICHET_SMTP_PORT": "1"}
    run_worker_burst(app, **smtp_down)
    message = load(app, message_id)
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at > utcnow()

    with app.app_context():
        get_session().execute(
            update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        get_session().commit()
    run_worker_burst(app, GUICHET_OUTBOX_MAX_ATTEMPTS="2", **smtp_down)
    message = load(app, message_id)
    assert message.status is OutboxStatus.FAILED
    assert message.attempts == 2
    assert sent_mails(app) == []

    result = app.test_cli_runner().invoke(args=["outbox", "status"])
    assert f"#{message_id} send_email attempts=2" in result.output
    result = app.test_cli_runner().invoke(args=["outbox", "retry", str(message_id)])
    assert result.exit_code == 0, result.output
    run_worker_burst(app)  # the mail relay is back
    assert load(app, message_id).status is OutboxStatus.DONE
    assert len(sent_mails(app)) == 1


def test_retry_refuses_a_message_that_did_not_fail(app):
    message_id = write_email(app)
    result = app.test_cli_runner().invoke(args=["outbox", "retry", str(message_id)])
    assert result.exit_code != 0


def test_unknown_job_is_refused_at_write_time(app):
    with app.app_context(), pytest.raises(outbox.UnknownJob):
        outbox.add(get_session(), "no_such_job")


def test_queue_is_the_configured_one(app):
    with app.app_context():
        assert isinstance(get_queue(), Queue)
        assert get_queue().name == app.config["QUEUE_NAME"]


def test_each_job_runs_under_its_own_timeout(app):
    """Receipts and acts have the short PDF limit; a bordereau's render grows with its acts."""
    config = app.config
    assert outbox.job_timeout("send_receipt", config) == config["PDF_JOB_TIMEOUT"]
    assert outbox.job_timeout("render_payment_act", config) == config["PDF_JOB_TIMEOUT"]
    assert outbox.job_timeout("render_bordereau", config) == config["JOB_TIMEOUT"]
    assert outbox.job_timeout("check_submission", config) == config["JOB_TIMEOUT"]
    assert config["JOB_TIMEOUT"] > config["PDF_JOB_TIMEOUT"]
