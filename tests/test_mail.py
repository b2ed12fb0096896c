"""Outgoing e-mail through both backends: .eml files, and SMTP to a local server."""

from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from forms_app import mail
from forms_app.embedded_redis import free_port
from tests.support import run_worker_burst, sent_mails
from workflows import outbox


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_file_backend_writes_one_eml_per_message(app):
    with app.app_context():
        mail.send(mail.build("a@example.nc", "Objet", "Corps du message"))
        mail.send(mail.build("a@example.nc", "Objet", "Corps du message"))
    files = sent_mails(app)
    assert len(files) == 2
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["From"] == app.config["MAIL_FROM"]
    assert parsed.get_content().strip() == "Corps du message"


def test_smtp_backend_delivers_to_the_relay(app, smtp_server):
    controller, inbox = smtp_server
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    with app.app_context():
        mail.send(mail.build("b@example.nc", "Réponse à votre demande", "Merci."))
    [(recipients, content)] = inbox.messages
    assert recipients == ["b@example.nc"]
    parsed = message_from_bytes(content, policy=policy.default)
    assert parsed["Subject"] == "Réponse à votre demande"


def test_outbox_job_sends_through_smtp_from_a_real_worker(app, smtp_server):
    from forms_app.db import get_session

    controller, inbox = smtp_server
    with app.app_context():
        session = get_session()
        outbox.add(session, "send_email", to="c@example.nc", subject="Reçu", body="OK")
        session.commit()
    run_worker_burst(
        app,
        GUICHET_MAIL_BACKEND="smtp",
        GUICHET_SMTP_HOST="127.0.0.1",
        GUICHET_SMTP_PORT=str(controller.port),
    )
    assert [rcpt for rcpt, _ in inbox.messages] == [["c@example.nc"]]


def test_unknown_backend_is_an_error(app):
    app.config["MAIL_BACKEND"] = "pigeon"
    with app.app_context(), pytest.raises(ValueError, match="pigeon"):
        mail.send(mail.build("a@example.nc", "x", "y"))
