"""A real webhook receiver on 127.0.0.1 and the helpers the webhook tests share."""

import hashlib
import hmac
import json
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select, update

from forms_app import webhook_subscriptions
from forms_app.db import get_session, utcnow
from forms_app.models import (
    DeliveryStatus,
    Form,
    OutboxMessage,
    User,
    WebhookDelivery,
    WebhookSubscription,
)
from forms_app.webhooks import EVENT_TYPES
from workflows import outbox


@dataclass
class Received:
    """One POST the receiver took: its headers, its raw body, whether its signature holds."""

    headers: dict[str, str]
    body: bytes
    status: int
    valid: bool

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """An HTTP server in a thread that checks each POST's signature with `secret` and records
    it; it answers the statuses of `answers` in turn, then 200."""

    def __init__(self, port: int = 0, tls: tuple[str, str] | None = None):
        self.secret = ""
        self.scheme, self.host = ("https", "localhost") if tls else ("http", "127.0.0.1")
        self.received: list[Received] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.answers.pop(0) if receiver.answers else 200
                valid = verify(receiver.secret, self.headers.get("Guichet-Signature", ""), body)
                receiver.received.append(Received(dict(self.headers), body, status, valid))
                answer = b"Service en maintenance " * 40 if status >= 500 else b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.server.server_port}/guichet/crochet?source=essai"

    def taken(self) -> list[Received]:
        """The POSTs answered with a 2xx."""
        return [found for found in self.received if 200 <= found.status < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def run_here(app, job: str) -> None:
    """Run the outbox rows of `job` in this process, each in its own app context."""
    with app.app_context():
        ids = get_session().scalars(select(OutboxMessage.id).filter_by(job=job)).all()
    for message_id in ids:
        with app.app_context():
            outbox.execute(message_id)


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """Check a Guichet-Signature header as docs/api.md tells receivers to."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    fresh = abs(time.time() - timestamp) <= tolerance
    return fresh and hmac.compare_digest(expected.hexdigest(), fields.get("v1", ""))


def subscribe(
    app, url: str, *, slug: str | None = None, events=EVENT_TYPES, active: bool = True
) -> tuple[int, str]:
    """A subscription made as the admin page makes it (by the first admin); its id and secret."""
    with app.test_request_context():
        session = get_session()
        admin = session.scalars(select(User).order_by(User.id)).first()
        form_id = session.scalar(select(Form.id).where(Form.slug == slug)) if slug else None
        made, secret = webhook_subscriptions.create(
            session, admin, name="SI métier", url=url, form_id=form_id, event_types=list(events)
        )
        made.active = active
        session.commit()
        return made.id, secret


def deliveries(app, subscription_id: int | None = None) -> list[WebhookDelivery]:
    """Deliveries, oldest first, of one subscription or all."""
    with app.app_context():
        query = select(WebhookDelivery).order_by(WebhookDelivery.id)
        if subscription_id is not None:
            query = query.where(WebhookDelivery.subscription_id == subscription_id)
        return list(get_session().scalars(query))


def make_due(app) -> None:
    """Move every waiting delivery's retry to now, as if its back-off had passed."""
    with app.app_context():
        session = get_session()
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.job == "deliver_webhook", OutboxMessage.status == "pending")
            .values(next_attempt_at=utcnow())
        )
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING)
            .values(next_attempt_at=utcnow())
        )
        session.commit()


def subscription(app, subscription_id: int) -> WebhookSubscription:
    with app.app_context():
        return get_session().get(WebhookSubscription, subscription_id)
