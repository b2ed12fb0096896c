"""A long-running worker process with its dispatcher, against a Redis we can stop and start."""

import asyncio
import threading
import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

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


class HeldRelay:
    """An SMTP relay that keeps the first message's DATA waiting until the test releases it."""

    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.subjects = []

    async def handle_DATA(self, server, session, envelope):
        if not self.entered.is_set():
            self.entered.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.subjects.append(message["Subject"])
        return "250 OK"


@pytest.mark.parametrize("outage", [0, 2])
def test_worker_survives_losing_redis_in_the_middle_of_a_job(app, private_redis, tmp_path, outage):
    """RQ's work loop gives up when Redis goes away under a running job; ours starts it again."""
    relay = HeldRelay()
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config["REDIS_URL"] = private_redis.url
    private_redis.start()
    worker = start_worker(
        app,
        tmp_path / "worker.log",
        GUICHET_MAIL_BACKEND="smtp",
        GUICHET_SMTP_HOST="127.0.0.1",
        GUICHET_SMTP_PORT=str(controller.port),
    )
    try:
        first = _send(app, "Pendant le travail")
        assert relay.entered.wait(45), "the worker never started the first job"
        private_redis.stop()  # the job finishes while Redis is gone
        relay.release.set()
        second = _send(app, "Après la panne")
        wait_until(lambda: "Pendant le travail" in relay.subjects, timeout=15)
        time.sleep(outage)  # back at once (RQ's loop may end cleanly), or after it failed
        private_redis.start()
        wait_until(lambda: "Après la panne" in relay.subjects, timeout=60)
        assert worker.poll() is None, "the worker process exited"
    finally:
        relay.release.set()
        stop_process(worker)
        controller.stop()
    log = (tmp_path / "worker.log").read_text()
    assert worker.returncode == 0, log[-3000:]
    assert sorted(relay.subjects) == ["Après la panne", "Pendant le travail"]
    with app.app_context():
        session = get_session()
        for message_id in (first, second):
            assert session.get(OutboxMessage, message_id).status is OutboxStatus.DONE
