"""Outgoing e-mail: .eml files in development, SMTP in production.

Jobs send e-mail at least once: a job whose worker died after sending runs again. Inside
`deliveries(key)` (the outbox wraps every job in it) the messages get Message-IDs derived
from the key and their order, so a second run sends the same Message-IDs: the file backend
keeps one file per Message-ID, and mail clients show a message delivered twice once.
"""

import contextvars
import hashlib
import hmac
import json
import logging
import smtplib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app

from forms_app import announcements
from forms_app.db import utcnow

log = logging.getLogger(__name__)
MESSAGE_ID_DOMAIN = "guichet.localhost"
# (key, messages built so far per recipient and subject) inside `deliveries(key)`
_delivery: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("delivery", default=None)


@contextmanager
def deliveries(key: str) -> Iterator[None]:
    """Give the messages built in this block stable Message-IDs derived from `key`."""
    token = _delivery.set((key, Counter()))
    try:
        yield
    finally:
        _delivery.reset(token)


def _message_id(to: str, subject: str) -> str:
    """A fresh Message-ID, or a stable one inside a `deliveries` block.

    The stable one depends on the block's key, the recipient, the subject and how many
    messages with both this block built before: the same job run again gives the same ids.
    """
    current = _delivery.get()
    if current is None:
        return make_msgid(domain=MESSAGE_ID_DOMAIN)
    key, built = current
    built[to, subject] += 1
    secret = current_app.config["SECRET_KEY"].encode()  # unique per installation, not guessable
    seed = json.dumps([key, to, subject, built[to, subject]], ensure_ascii=False).encode()
    return f"<{hmac.new(secret, seed, hashlib.sha256).hexdigest()[:40]}@{MESSAGE_ID_DOMAIN}>"


def build(
    to: str,
    subject: str,
    body: str,
    reply_to: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # (file name, content type, bytes)
    form_id: int | None = None,
) -> EmailMessage:
    """Build a plain-text UTF-8 message from the configured sender, with attached files.

    While announcements are active (global ones, and `form_id`'s), their notice ends the body.
    """
    notice = _announcement_notice(form_id)
    if notice:
        body = f"{body.rstrip()}\n\n{notice}\n"
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = _message_id(to, subject)
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(body)
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def _announcement_notice(form_id: int | None) -> str:
    """The active announcements' notice; "" when there is none or the database is away."""
    try:
        with announcements.reading() as session:
            return announcements.mail_notice(session, utcnow(), form_id)
    except Exception as exc:  # an e-mail goes out without the notice rather than not at all
        log.warning("mail: announcements unavailable: %s", type(exc).__name__)
        return ""


def send(message: EmailMessage) -> None:
    """Hand the message to the configured backend; raise if it cannot be delivered."""
    config = current_app.config
    if config["MAIL_BACKEND"] == "smtp":
        _send_smtp(message, config)
    elif config["MAIL_BACKEND"] == "file":
        _write_file(message, Path(config["MAIL_DIR"]))
    else:
        raise ValueError(f"Unknown MAIL_BACKEND {config['MAIL_BACKEND']!r}")


def _write_file(message: EmailMessage, directory: Path) -> Path:
    """Write the message atomically as an .eml file, one file per Message-ID."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{hashlib.sha256(str(message['Message-ID']).encode()).hexdigest()[:32]}.eml"
    partial = directory / f".{name}.part"
    partial.write_bytes(message.as_bytes())
    return partial.replace(directory / name)


def _send_smtp(message: EmailMessage, config) -> None:
    with smtplib.SMTP(
        config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"]
    ) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)
