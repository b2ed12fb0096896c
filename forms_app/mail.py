"""Outgoing e-mail: .eml files in development, SMTP in production."""

import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app


def build(
    to: str,
    subject: str,
    body: str,
    reply_to: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # (file name, content type, bytes)
) -> EmailMessage:
    """Build a plain-text UTF-8 message from the configured sender, with attached files."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="guichet.localhost")
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(body)
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


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
    """Write the message atomically as an .eml file, one file per delivery."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.eml"
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
