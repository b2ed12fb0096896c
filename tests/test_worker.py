"""A long-running worker process with its dispatcher, against a Redis we can stop and start."""

import pytest

from forms_app.db import get_session
from forms_app.embedded_redis import EmbeddedRedis, free_port
from forms_app.models import OutboxMessage, OutboxStatus
from tests.support import sent_mails, start_worker, stop_process, wait_until
from workflows import outbox


@pytest.fixture
def private_redis(tmp_path):
    """A real Redis server of this test's own, not started yet."""
    server = EmbeddedRedis(tmp_path / "redis", free_port())
    yield server
    server.stop()


def test_message_written_while_redis_is_down_runs_once_redis_is_back(app, private_redis, tmp_path):
    app.config["REDIS_URL"] = private_redis.url
    with app.app_context():
        session = get_session()
        message = outbox.add(
            session, "send_email", to="a@example.nc", subject="Pendant la panne", body="-"
        )
        session.commit()  # Redis is down: the commit still succeeds
        message_id = message.id
    worker = start_worker(app, tmp_path / "worker.log")
    try:
        with app.app_context():
            assert get_session().get(OutboxMessage, message_id).status is OutboxStatus.PENDING
        private_redis.start()
        wait_until(lambda: sent_mails(app), timeout=45)
        with app.app_context():

            def done():
                session = get_session()
                session.expire_all()
                row = session.get(OutboxMessage, message_id)
                session.rollback()
                return row.status is OutboxStatus.DONE

            wait_until(done, timeout=15)
    finally:
        stop_process(worker)
    log = (tmp_path / "worker.log").read_text()
    assert worker.returncode == 0, log[-3000:]
    assert len(sent_mails(app)) == 1


def test_worker_survives_redis_restart(app, private_redis, tmp_path):
    app.config["REDIS_URL"] = private_redis.url
    private_redis.start()
    worker = start_worker(app, tmp_path / "worker.log")
    try:
        first = _send(app, "Avant le redémarrage")
        wait_until(lambda: len(sent_mails(app)) == 1, timeout=45)
        private_redis.stop()
        second = _send(app, "Pendant le redémarrage")
        private_redis.start()
        wait_until(lambda: len(sent_mails(app)) == 2, timeout=60)
    finally:
        stop_process(worker)
    with app.app_context():
        session = get_session()
        for message_id in (first, second):
            assert session.get(OutboxMessage, message_id).status is OutboxStatus.DONE


def _send(app, subject: str) -> int:
    with app.app_context():
        session = get_session()
        message = outbox.add(session, "send_email", to="a@example.nc", subject=subject, body="-")
        session.commit()
        return message.id
