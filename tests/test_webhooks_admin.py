"""Webhooks in the ops area: subscribing (the secret shown once), switching off and on, the
delivery log and redelivery, with their CSRF tokens and audit events; admins only."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import (
    DeliveryStatus,
    Event,
    Form,
    OutboxMessage,
    Role,
    WebhookDelivery,
    WebhookSubscription,
)
from forms_app.webhooks import ACT_PAID, STATE_CHANGED, SUBMITTED
from tests.backoffice_support import staff
from tests.support import publish_form, run_worker_burst, submit_directly
from tests.webhook_support import Receiver, deliveries, make_due, subscribe, subscription

LIST = "/agents/pilotage/webhooks"
NEW = f"{LIST}/nouveau"
LOG = f"{LIST}/livraisons"
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)
FIELDS = [{"key": "nom", "type": "text", "label": "Nom"}]


@pytest.fixture
def admin(app):
    publish_form(app, FIELDS)
    return staff(app, "admin@example.nc", Role.ADMIN)


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def token(page) -> str:
    found = CSRF.search(page.text)
    return found[1] or found[2]


def audited(app, subject: str) -> list[tuple[str, str, int | None, dict]]:
    """(action, admin e-mail, subject id, details) of the events on `subject` rows."""
    with app.app_context():
        session = get_session()
        found = session.scalars(
            select(Event).where(Event.subject_type == subject).order_by(Event.id)
        )
        return [
            (e.action, e.actor.email if e.actor else None, e.subject_id, e.details) for e in found
        ]


def test_an_admin_subscribes_and_sees_the_secret_once(app, admin):
    app.config["WTF_CSRF_ENABLED"] = True
    page = admin.get(NEW)
    assert page.status_code == 200 and "Toutes les démarches" in page.text
    with app.app_context():
        form_id = get_session().scalar(select(Form.id).where(Form.slug == "essai"))
    data = {
        "name": "Progiciel financier",
        "url": " https://finances.exemple.nc/guichet?source=1 ",
        "form_id": str(form_id),
        "event_types": [SUBMITTED, ACT_PAID],
    }
    assert admin.post(NEW, data=data).status_code == 400  # no token: refused
    made = admin.post(NEW, data={**data, "csrf_token": token(page)})
    assert made.status_code == 201 and made.headers["Cache-Control"] == "private, no-store"
    [stored] = subscriptions(app)
    assert stored.url == "https://finances.exemple.nc/guichet?source=1"
    assert (stored.form_id, stored.event_types, stored.active) == (
        form_id,
        [SUBMITTED, ACT_PAID],
        True,
    )
    assert len(stored.secret) >= 40 and stored.secret in made.text
    assert audited(app, "webhook_subscription") == [
        (
            "webhook_created",
            "admin@example.nc",
            stored.id,
            {
                "name": "Progiciel financier",
                "url": stored.url,
                "form_id": form_id,
                "event_types": [SUBMITTED, ACT_PAID],
            },
        )
    ]
    listing = admin.get(LIST).text
    assert "Progiciel financier" in listing and stored.url in unescape(listing)
    assert stored.secret not in listing  # shown once, never again
    assert stored.secret not in admin.get(LOG).text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"url": "ftp://exemple.nc/"}, "Saisissez une adresse en https:// ou http://."),
        ({"url": "https://moi:motdepasse@exemple.nc/"}, "ne doit pas contenir d’identifiant"),
        ({"event_types": []}, "Choisissez au moins un événement."),
        ({"form_id": "999"}, "Choisissez toutes les démarches ou l’une de la liste."),
        ({"name": ""}, "Saisissez un nom"),
    ],
)
def test_a_wrong_subscription_is_refused_with_its_reason(app, admin, changes, message):
    data = {"name": "SI", "url": "https://exemple.nc/", "form_id": "toutes"}
    data |= {"event_types": [STATE_CHANGED]} | changes
    refused = admin.post(NEW, data=data)
    assert refused.status_code == 400 and message in unescape(refused.text)
    assert subscriptions(app) == []


def test_production_takes_https_only(app, admin):
    app.config["ENV"] = "production"
    data = {
        "name": "SI",
        "url": "http://exemple.nc/",
        "form_id": "toutes",
        "event_types": [SUBMITTED],
    }
    refused = admin.post(NEW, data=data)
    assert refused.status_code == 400 and "adresse en https://" in unescape(refused.text)


def test_an_admin_switches_a_subscription_off_and_nothing_more_is_sent(app, admin, receiver):
    subscription_id, receiver.secret = subscribe(app, receiver.url)
    receiver.answers = [503]
    submit_directly(app, "essai", {"nom": "Léa"})
    run_worker_burst(app)  # refused once: the delivery waits for its next attempt
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"{LIST}/{subscription_id}/etat"
    assert admin.post(url, data={"active": "0"}).status_code == 400  # no token
    off = admin.post(url, data={"active": "0", "csrf_token": token(admin.get(LIST))})
    assert off.status_code == 302 and not subscription(app, subscription_id).active
    make_due(app)
    run_worker_burst(app)
    assert len(receiver.received) == 1
    [waiting] = deliveries(app, subscription_id)
    assert waiting.status is DeliveryStatus.FAILED
    assert waiting.last_error == "Subscription inactive: not sent"

    on = admin.post(url, data={"active": "1", "csrf_token": token(admin.get(LIST))})
    assert on.status_code == 302 and subscription(app, subscription_id).active
    actions = [action for action, who, *_ in audited(app, "webhook_subscription")]
    assert actions == ["webhook_created", "webhook_deactivated", "webhook_reactivated"]
    assert (
        admin.post(url, data={"active": "maybe", "csrf_token": token(admin.get(LIST))}).status_code
        == 400
    )


def test_the_log_filters_and_a_failed_delivery_is_redelivered_once(app, admin, receiver):
    subscription_id, receiver.secret = subscribe(app, receiver.url)
    other_id, _ = subscribe(app, "https://ailleurs.exemple.nc/", active=False)
    receiver.answers = [503]
    submit_directly(app, "essai", {"nom": "Léa"})
    run_worker_burst(app, GUICHET_WEBHOOK_MAX_ATTEMPTS="1")
    [failed] = deliveries(app, subscription_id)
    assert failed.status is DeliveryStatus.FAILED and failed.last_http_status == 503

    page = admin.get(LOG, query_string={"abonnement": subscription_id, "statut": "failed"})
    assert page.status_code == 200
    assert f'id="livraison-{failed.id}"' in page.text and "HTTP 503" in page.text
    assert "Relivrer" in page.text
    assert "livraison-" not in admin.get(LOG, query_string={"statut": "delivered"}).text
    other_page = admin.get(LOG, query_string={"abonnement": other_id}).text
    assert f'id="livraison-{failed.id}"' not in other_page

    app.config["WTF_CSRF_ENABLED"] = True
    url = f"{LOG}/{failed.id}/relivrer"
    assert admin.post(url).status_code == 400  # no token
    again = admin.post(url, data={"csrf_token": token(page)})
    assert again.status_code == 302
    assert deliveries(app, subscription_id)[0].status is DeliveryStatus.PENDING
    twice = admin.post(url, data={"csrf_token": token(page)})
    assert twice.status_code == 409 and "déjà en attente" in unescape(twice.text)
    run_worker_burst(app)
    first, second = receiver.received
    assert (first.status, second.status) == (503, 200) and first.body == second.body
    assert second.valid and second.headers["Guichet-Delivery"] == str(failed.id)
    [done] = deliveries(app, subscription_id)
    assert done.status is DeliveryStatus.DELIVERED and done.attempts == 2
    [(action, who, subject_id, details)] = audited(app, "webhook_delivery")
    assert (action, who, subject_id) == ("webhook_redelivered", "admin@example.nc", failed.id)
    assert details == {"subscription_id": subscription_id}
    with app.app_context():
        event = get_session().scalar(select(Event).where(Event.action == "webhook_redelivered"))
        assert (event.from_state, event.to_state) == ("failed", "pending")
        jobs = select(OutboxMessage).where(OutboxMessage.job == "deliver_webhook")
        assert len(get_session().scalars(jobs).all()) == 2  # the first, the redelivery


def test_a_delivery_of_a_switched_off_subscription_is_not_redelivered(app, admin):
    subscription_id, _ = subscribe(app, "https://exemple.nc/", active=False)
    with app.app_context():
        session = get_session()
        made = WebhookDelivery(
            subscription_id=subscription_id,
            event_type=SUBMITTED,
            event_id=session.scalar(select(Event.id).limit(1)),
            payload="{}",
            status=DeliveryStatus.DELIVERED,
        )
        session.add(made)
        session.commit()
    refused = admin.post(f"{LOG}/{made.id}/relivrer")
    assert refused.status_code == 409 and "réactivez-le" in unescape(refused.text)
    assert deliveries(app)[0].status is DeliveryStatus.DELIVERED


@pytest.mark.parametrize("role", [Role.AGENT, Role.FINANCE, Role.DESIGNER])
def test_staff_who_are_not_admins_get_403(app, role):
    client = staff(app, "collegue@example.nc", role)
    for path in (LIST, NEW, LOG):
        assert client.get(path).status_code == 403, path
    assert client.post(NEW, data={}).status_code == 403


def subscriptions(app) -> list[WebhookSubscription]:
    with app.app_context():
        return list(get_session().scalars(select(WebhookSubscription)))
