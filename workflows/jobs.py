"""RQ entry points and the table of jobs the outbox may run; jobs are thin, domain code works."""

from collections.abc import Callable

from flask import Flask

from forms_app import mail
from workflows import outbox

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
    """Run one outbox message; what RQ calls for every job the outbox pushes."""
    with app_for_jobs().app_context():
        return outbox.execute(message_id)


def send_email(to: str, subject: str, body: str, reply_to: str | None = None) -> None:
    """Send one plain-text e-mail."""
    mail.send(mail.build(to, subject, body, reply_to))


JOBS: dict[str, Callable[..., None]] = {
    "send_email": send_email,
}
