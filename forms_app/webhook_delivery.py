"""Sending one webhook delivery: the claim, the signed POST, and what a failed attempt leaves.

The "deliver_webhook" job claims an attempt with a conditional UPDATE on the delivery's
attempt count (two runs of one delivery: one sends), commits, then POSTs the body as it was
written, signed with the subscription's secret: `Guichet-Signature: t=<unix seconds>,
v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. A 2xx answer marks it delivered (never sent
again); anything else raises DeliveryFailed, and the outbox schedules the next attempt
(`outbox.retry_delay`, the WEBHOOK_* settings) or gives up, which `attempt_failed` mirrors on
the delivery in the same commit.

Redirects are not followed. In production (ENV "production") the host must resolve only to
public addresses (no private, loopback, link-local, shared or reserved one), and the request
goes to the address that was checked, so a name that changes its answer in between (DNS
rebinding) reaches nothing else.
"""

import hashlib
import hmac
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forms_app.db import utcnow
from forms_app.models import (
    DeliveryStatus,
    OutboxMessage,
    OutboxStatus,
    WebhookDelivery,
    WebhookSubscription,
)

log = logging.getLogger(__name__)

USER_AGENT = "Guichet-Webhooks/1"
ERROR_MAX = 300  # characters of the last error kept on the delivery
ANSWER_EXCERPT = 100  # characters of a refusing answer's body kept in that error


@dataclass(frozen=True)
class Attempt:
    """What one attempt sends, read before the transaction ends."""

    delivery_id: int
    event_type: str
    url: str
    secret: str
    payload: str


class DeliveryFailed(Exception):
    """The receiver did not take the delivery; str() says why, `status` is its HTTP status."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason[:ERROR_MAX])
        self.status = status


class TargetRefused(Exception):
    """The URL's host resolves to an address webhooks may not reach in production."""


def claim(session: Session, delivery_id: int) -> Attempt | None:
    """Take the next attempt of a delivery; None if it is delivered, taken or switched off.

    No commit: the job commits before sending.
    """
    row = session.execute(
        select(
            WebhookDelivery.attempts,
            WebhookDelivery.status,
            WebhookDelivery.event_type,
            WebhookDelivery.payload,
            WebhookSubscription.url,
            WebhookSubscription.secret,
            WebhookSubscription.active,
        )
        .join(WebhookDelivery.subscription)
        .where(WebhookDelivery.id == delivery_id)
    ).one_or_none()
    if row is None:
        raise LookupError(f"no webhook delivery {delivery_id}")
    not_delivered = WebhookDelivery.status != DeliveryStatus.DELIVERED
    if row.status is DeliveryStatus.DELIVERED:
        log.info("webhook delivery %s already delivered; not sent", delivery_id)
        return None
    if not row.active:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, not_delivered)
            .values(
                status=DeliveryStatus.FAILED,
                next_attempt_at=None,
                last_error="Subscription inactive: not sent",
            )
        )
        return None
    taken = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.attempts == row.attempts,
            not_delivered,
        )
        .values(attempts=row.attempts + 1)
    ).rowcount
    if not taken:
        log.info("webhook delivery %s taken by another run; not sent", delivery_id)
        return None
    return Attempt(delivery_id, row.event_type, row.url, row.secret, row.payload)


def send(session: Session, attempt: Attempt) -> None:
    """POST the attempt; mark the delivery delivered on a 2xx, else raise DeliveryFailed."""
    config = current_app.config
    body = attempt.payload.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Guichet-Event": attempt.event_type,
        "Guichet-Delivery": str(attempt.delivery_id),
        "Guichet-Signature": signature(attempt.secret, int(time.time()), body),
    }
    try:
        status, answer = post(attempt.url, body, headers, config)
    except (TargetRefused, urllib3.exceptions.HTTPError, OSError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}" + (f": {answer}" if answer else ""), status)
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == attempt.delivery_id,
            WebhookDelivery.status != DeliveryStatus.DELIVERED,
        )
        .values(
            status=DeliveryStatus.DELIVERED,
            delivered_at=utcnow(),
            last_http_status=status,
            last_error=None,
            next_attempt_at=None,
        )
    )


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Guichet-Signature header: the time and the HMAC-SHA256 of "<time>.<body>"."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def post(url: str, body: bytes, headers: dict[str, str], config) -> tuple[int, str]:
    """POST `body` to `url` (no redirect, no retry, bounded waits); the status and the start
    of the answer's body."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    address = resolve(parts.hostname, port, public_only=config["ENV"] == "production")
    timeout = urllib3.Timeout(
        connect=config["WEBHOOK_CONNECT_TIMEOUT"], read=config["WEBHOOK_READ_TIMEOUT"]
    )
    options = {"timeout": timeout, "retries": False, "maxsize": 1}
    if secure:  # the certificate is checked against the name, not the address
        pool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=parts.hostname, assert_hostname=parts.hostname, **options
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **options)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with pool:
        response = pool.urlopen(
            "POST",
            target,
            body=body,
            headers={**headers, "Host": parts.netloc},
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            answer = response.read(ANSWER_EXCERPT * 4, decode_content=False)
        finally:
            response.close()
    text = answer.decode("utf-8", "replace")
    return response.status, " ".join(text.split())[:ANSWER_EXCERPT]


def resolve(host: str, port: int, *, public_only: bool) -> str:
    """The address to connect to; TargetRefused if `public_only` and any is not public."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in found]
    if public_only and not all(is_public(address) for address in addresses):
        raise TargetRefused(f"{host} resolves to an address that is not public")
    return addresses[0]


def is_public(address: str) -> bool:
    """Whether an address is globally routable (an IPv4-mapped IPv6 one judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def attempt_failed(session: Session, message: OutboxMessage, exc: Exception | None) -> None:
    """Record on the delivery why its attempt failed and what the outbox decided; no commit."""
    delivery = session.get(WebhookDelivery, message.args.get("delivery_id"), with_for_update=True)
    if delivery is None or delivery.status is DeliveryStatus.DELIVERED:
        return
    if isinstance(exc, DeliveryFailed):
        delivery.last_http_status, delivery.last_error = exc.status, str(exc)
    else:  # the outbox row holds the whole error, for staff
        delivery.last_http_status = None
        delivery.last_error = type(exc).__name__ if exc is not None else "Worker lost"
    if message.status is OutboxStatus.FAILED:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, message.next_attempt_at
