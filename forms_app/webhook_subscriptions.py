"""Webhook subscriptions as admins manage them: creation (the secret shown once), switching
them off and on, the delivery log, redelivery. Every change is audited in its transaction;
functions here never commit: the request does.
"""

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forms_app import audit, webhooks
from forms_app.db import utcnow
from forms_app.models import DeliveryStatus, User, WebhookDelivery, WebhookSubscription
from workflows import outbox

PAGE_SIZE = 50
URL_MAX = 500
EVENT_LABELS = {
    webhooks.SUBMITTED: _l("Demande déposée"),
    webhooks.STATE_CHANGED: _l("Changement d’état d’une demande"),
    webhooks.ACT_ISSUED: _l("Acte de paiement émis"),
    webhooks.ACT_PAID: _l("Acte de paiement payé"),
}
STATUS_LABELS = {
    DeliveryStatus.PENDING: _l("En attente"),
    DeliveryStatus.DELIVERED: _l("Livrée"),
    DeliveryStatus.FAILED: _l("En échec"),
}
REDELIVERABLE = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)


class WebhookError(Exception):
    """A change refused by the state of things (a 409); str() is the French message to show."""


def url_problem(url: str, production: bool) -> str | None:
    """Why a receiver's URL is refused (French), or None: https (http outside production), a
    host, no user or password in it."""
    parts = urlsplit(url)
    schemes = ("https",) if production else ("https", "http")
    try:
        parts.port  # noqa: B018  (a port that is not a number raises)
    except ValueError:
        return _("Le port de l’adresse n’est pas valide.")
    if parts.scheme not in schemes or not parts.hostname:
        if production:
            return _("Saisissez une adresse en https://, par exemple https://exemple.nc/webhooks.")
        return _("Saisissez une adresse en https:// ou http://.")
    if parts.username is not None or parts.password is not None:
        return _("L’adresse ne doit pas contenir d’identifiant ni de mot de passe.")
    if len(url) > URL_MAX:
        return _("L’adresse ne doit pas dépasser 500 caractères.")
    return None


def create(
    session: Session,
    actor: User,
    *,
    name: str,
    url: str,
    form_id: int | None,
    event_types: list[str],
) -> tuple[WebhookSubscription, str]:
    """Add a subscription, audited; return it and its secret (shown once); no commit."""
    secret = secrets.token_urlsafe(32)
    chosen = [event_type for event_type in webhooks.EVENT_TYPES if event_type in event_types]
    subscription = WebhookSubscription(
        name=name,
        url=url,
        secret=secret,
        form_id=form_id,
        event_types=chosen,
        created_by_id=actor.id,
    )
    session.add(subscription)
    audit.record(
        session,
        subscription,
        "webhook_created",
        actor,
        name=name,
        url=url,
        form_id=form_id,
        event_types=chosen,
    )
    return subscription, secret


def set_active(session: Session, actor: User, subscription: WebhookSubscription, active: bool):
    """Switch a subscription off (nothing more is sent, even what waits) or on; audited."""
    if subscription.active is active:
        return
    subscription.active = active
    action = "webhook_reactivated" if active else "webhook_deactivated"
    audit.record(session, subscription, action, actor)


def redeliver(session: Session, actor: User, delivery: WebhookDelivery) -> None:
    """Send a delivered or failed delivery again (same body, same id), audited; no commit.

    WebhookError (409) if it is waiting already or its subscription is switched off.
    """
    if not delivery.subscription.active:
        raise WebhookError(_("Cet abonnement est désactivé : réactivez-le avant de relivrer."))
    before = delivery.status
    changed = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.status.in_(REDELIVERABLE))
        .values(status=DeliveryStatus.PENDING, next_attempt_at=utcnow())
    ).rowcount
    if not changed:
        raise WebhookError(_("Cette livraison est déjà en attente d’envoi."))
    outbox.add(session, webhooks.DELIVER_JOB, delivery_id=delivery.id)
    audit.record(
        session,
        delivery,
        "webhook_redelivered",
        actor,
        from_state=before.value,
        to_state=DeliveryStatus.PENDING.value,
        subscription_id=delivery.subscription_id,
    )


@dataclass
class DeliveryPage:
    """Deliveries, newest first, and the cursor of the next page (None on the last one)."""

    rows: list[WebhookDelivery]
    following: int | None


def deliveries(
    session: Session,
    *,
    subscription_id: int | None = None,
    status: DeliveryStatus | None = None,
    before: int | None = None,
) -> DeliveryPage:
    """The delivery log, PAGE_SIZE at a time (keyset on id), filtered if asked."""
    query = select(WebhookDelivery)
    if subscription_id is not None:
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(PAGE_SIZE + 1)))
    following = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return DeliveryPage(rows[:PAGE_SIZE], following)


def event_label(event_type: str) -> str:
    """An event type in words, or its name."""
    label = EVENT_LABELS.get(event_type)
    return str(label) if label is not None else event_type
