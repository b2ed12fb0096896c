"""Webhooks end to end: events fanned out with their change, signed POSTs to a real receiver
sent by real workers, retries through the outbox, delivered once."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from forms_app import payments, retention, webhook_delivery
from forms_app.db import get_session, utcnow
from forms_app.embedded_redis import free_port
from forms_app.models import (
    Bordereau,
    DeliveryStatus,
    OutboxMessage,
    OutboxStatus,
    PaymentAct,
    Role,
    User,
    WebhookDelivery,
)
from forms_app.webhook_subscriptions import url_problem
from forms_app.webhooks import ACT_ISSUED, ACT_PAID, STATE_CHANGED, SUBMITTED
from tests.finance_support import FINANCE, IBAN, approved_request, publish_payment_form
from tests.payments_support import sign_acts
from tests.support import (
    make_user,
    publish_form,
    run_worker_burst,
    self_signed,
    submit_answers,
)
from tests.test_payments import TODAY
from tests.webhook_support import (
    Receiver,
    deliveries,
    make_due,
    run_here,
    subscribe,
)
from workflows import outbox

# Private, loopback, link-local, shared, unspecified, documentation, multicast, mapped.
NOT_PUBLIC = ("127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "169.254.169.254",
              "100.64.0.1", "0.0.0.0", "203.0.113.7", "224.0.0.1", "::1", "fe80::1%eth0",  # noqa: S104
              "fd00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1")  # fmt: skip
# What the applicant typed: no body may carry any of it.
PERSONAL = ("SARL LAGON BLEU TOURS", "gerant@lagon-bleu.nc", IBAN, "1234567001", "BCADNCNN")


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def pay_the_act(app) -> int:
    """Sign the (only) act's bordereau and record its payment, as finance does; the act's id."""
    with app.app_context():
        act_id = get_session().scalar(select(PaymentAct.id))
    bordereau_id = sign_acts(app, [act_id])
    with app.test_request_context():
        db = get_session()
        finance = db.scalar(select(User).where(User.email == FINANCE))
        payments.mark_paid(db, db.get(Bordereau, bordereau_id), finance, TODAY)
        db.commit()
    return act_id


def test_every_event_reaches_its_subscriber_signed_and_without_personal_data(app, receiver):
    publish_payment_form(app)
    publish_form(app, [{"key": "nom", "type": "text", "label": "Nom"}], slug="autre")
    make_user(app, Role.ADMIN, email="admin@example.nc")
    subscription_id, receiver.secret = subscribe(app, receiver.url, slug="aide")
    elsewhere = Receiver()
    try:
        subscribe(app, elsewhere.url, slug="autre")  # another form: hears nothing
        subscribe(app, elsewhere.url, slug="aide", active=False)  # switched off
        subscribe(app, elsewhere.url, slug="aide", events=[ACT_PAID])
        reference = approved_request(app)
        run_worker_burst(app)  # checks (submitted), the act issued and rendered, deliveries
        act_id = pay_the_act(app)
        run_worker_burst(app)
        assert [found.payload["type"] for found in elsewhere.received] == [ACT_PAID]
    finally:
        elsewhere.close()

    got = receiver.taken()
    assert got and all(found.valid for found in got)
    types = [found.payload["type"] for found in got]
    assert types.count(SUBMITTED) == types.count(ACT_ISSUED) == types.count(ACT_PAID) == 1
    moves = [f.payload["data"]["action"] for f in got if f.payload["type"] == STATE_CHANGED]
    assert sorted(moves) == sorted(["take", "propose", "approve", "issue_act", "sign", "pay"])
    stored = {d.id: d for d in deliveries(app, subscription_id)}
    assert len(stored) == len(got) and all(
        d.status is DeliveryStatus.DELIVERED for d in stored.values()
    )
    for found in got:
        payload, headers = found.payload, found.headers
        delivery = stored[payload["id"]]
        assert found.body == delivery.payload.encode()  # the body as stored, byte for byte
        assert found.body == json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        assert headers["Content-Type"] == "application/json"
        assert headers["User-Agent"] == "Guichet-Webhooks/1"
        assert headers["Guichet-Event"] == payload["type"] == delivery.event_type
        assert headers["Guichet-Delivery"] == str(delivery.id)
        assert set(payload) == {"id", "type", "created_at", "data"}
        assert payload["created_at"].endswith("Z")
        assert payload["data"]["submission"]["reference"] == reference
        assert payload["data"]["submission"]["form"] == "aide"
        for personal in PERSONAL:
            assert personal.encode() not in found.body, (payload["type"], personal)
    by_type = {found.payload["type"]: found.payload["data"] for found in got}
    assert by_type[SUBMITTED]["submission"]["state"] == "submitted"
    assert by_type[ACT_ISSUED]["act"]["id"] == act_id
    assert by_type[ACT_ISSUED]["act"]["amount"] == 150_000
    assert by_type[ACT_PAID]["act"]["state"] == "paid"
    assert by_type[ACT_PAID]["act"]["number"] == by_type[ACT_ISSUED]["act"]["number"]
    assert by_type[ACT_PAID]["submission"]["state"] == "paid"


def test_a_draft_submitted_through_the_pages_is_told_once(app, client, receiver):
    """The submit (one statement on PostgreSQL, the ORM elsewhere) is told by the first check,
    as "submission.submitted" and not as a state change."""
    publish_form(app, [{"key": "nom", "type": "text", "label": "Nom", "required": True}])
    make_user(app, Role.ADMIN, email="admin@example.nc")
    _, receiver.secret = subscribe(app, receiver.url)
    assert submit_answers(client, "essai", {"nom": "Léa Wamytan"}).status_code == 302
    run_worker_burst(app)
    [found] = receiver.received
    assert found.valid and found.payload["type"] == SUBMITTED
    assert b"Wamytan" not in found.body


def test_nothing_is_written_when_nobody_listens(app):
    publish_payment_form(app)
    make_user(app, Role.ADMIN, email="admin@example.nc")
    subscribe(app, "https://exemple.nc/crochet", slug="aide", active=False)
    approved_request(app)
    with app.app_context():
        session = get_session()
        assert session.scalar(select(func.count(WebhookDelivery.id))) == 0
        jobs = select(func.count(OutboxMessage.id)).where(OutboxMessage.job == "deliver_webhook")
        assert session.scalar(jobs) == 0


def test_a_receiver_down_gets_the_event_once_when_it_is_back(app):
    port = free_port()
    publish_form(app, [{"key": "nom", "type": "text", "label": "Nom"}])
    make_user(app, Role.ADMIN, email="admin@example.nc")
    subscription_id, secret = subscribe(app, f"http://127.0.0.1:{port}/crochet")
    publish_and_submit(app)
    started = utcnow()
    run_worker_burst(app)
    [waiting] = deliveries(app, subscription_id)
    assert waiting.status is DeliveryStatus.PENDING and waiting.attempts == 1
    assert waiting.last_http_status is None and "NewConnectionError" in waiting.last_error
    wait = (waiting.next_attempt_at - started).total_seconds()
    assert 55 <= wait <= 120  # WEBHOOK_RETRY_BASE_SECONDS after the attempt
    run_worker_burst(app)  # not due yet: nothing tried
    assert deliveries(app, subscription_id)[0].attempts == 1

    back = Receiver(port)
    back.secret = secret
    try:
        make_due(app)
        run_worker_burst(app)
        run_worker_burst(app)  # nothing left to send
        [found] = back.received
        assert found.valid and found.payload["id"] == waiting.id
        [done] = deliveries(app, subscription_id)
        assert done.status is DeliveryStatus.DELIVERED and done.attempts == 2
        assert done.last_http_status == 200 and done.last_error is None

        with app.app_context():  # the job runs again (a replay, a worker thought lost)
            session = get_session()
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.job == "deliver_webhook")
                .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow())
            )
            session.commit()
        run_worker_burst(app)
        assert len(back.received) == 1  # a delivered delivery is never sent again
        assert deliveries(app, subscription_id)[0].attempts == 2
    finally:
        back.close()


def publish_and_submit(app) -> None:
    from tests.support import submit_directly

    submit_directly(app, "essai", {"nom": "Léa Wamytan"})


def test_a_receiver_that_keeps_refusing_is_given_up_after_the_last_attempt(app, receiver):
    publish_form(app, [{"key": "nom", "type": "text", "label": "Nom"}])
    make_user(app, Role.ADMIN, email="admin@example.nc")
    subscription_id, receiver.secret = subscribe(app, receiver.url)
    receiver.answers = [503, 503]
    publish_and_submit(app)
    run_worker_burst(app, GUICHET_WEBHOOK_MAX_ATTEMPTS="2")
    make_due(app)
    run_worker_burst(app, GUICHET_WEBHOOK_MAX_ATTEMPTS="2")
    assert [found.status for found in receiver.received] == [503, 503]
    assert receiver.received[0].body == receiver.received[1].body  # same body, same id
    [failed] = deliveries(app, subscription_id)
    assert failed.status is DeliveryStatus.FAILED and failed.attempts == 2
    assert failed.next_attempt_at is None and failed.last_http_status == 503
    assert failed.last_error.startswith("HTTP 503: Service en maintenance")
    assert len(failed.last_error) <= len("HTTP 503: ") + webhook_delivery.ANSWER_EXCERPT
    with app.app_context():
        job = get_session().scalar(
            select(OutboxMessage).where(OutboxMessage.job == "deliver_webhook")
        )
        assert job.status is OutboxStatus.FAILED  # on the failed jobs page too


def test_webhook_deliveries_keep_a_longer_schedule_of_their_own(app):
    config = app.config
    waits = [outbox.retry_delay("deliver_webhook", n, config) for n in range(1, 10)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3840, 7680, 14400]
    assert outbox.max_attempts("deliver_webhook", config) == 10
    assert [outbox.retry_delay("send_email", n, config) for n in (1, 2, 3)] == [10, 20, 40]
    assert outbox.max_attempts("send_email", config) == config["OUTBOX_MAX_ATTEMPTS"]


def test_in_production_private_addresses_are_refused(app, receiver):
    for address in NOT_PUBLIC:
        assert not webhook_delivery.is_public(address), address
    for address in ("1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"):
        assert webhook_delivery.is_public(address), address
    with pytest.raises(webhook_delivery.TargetRefused):
        webhook_delivery.resolve("localhost", 443, public_only=True)

    publish_form(app, [{"key": "nom", "type": "text", "label": "Nom"}])
    make_user(app, Role.ADMIN, email="admin@example.nc")
    subscription_id, receiver.secret = subscribe(app, receiver.url)
    publish_and_submit(app)
    app.config["ENV"] = "production"
    run_here(app, "check_submission")
    run_here(app, "deliver_webhook")
    assert receiver.received == []
    [refused] = deliveries(app, subscription_id)
    assert refused.status is DeliveryStatus.PENDING
    assert refused.last_error.startswith("TargetRefused: 127.0.0.1 resolves to an address")


def test_admins_subscribe_https_urls_only_in_production():
    assert url_problem("https://exemple.nc/crochet?x=1", production=True) is None
    assert url_problem("http://127.0.0.1:8080/crochet", production=False) is None
    for url in ("http://exemple.nc/crochet", "ftp://exemple.nc/", "https:///crochet", "exemple.nc"):
        assert url_problem(url, production=True) is not None, url
    assert "identifiant" in url_problem("https://moi:secret@exemple.nc/", production=True)
    assert "port" in url_problem("https://exemple.nc:http/", production=True)
    assert "500" in url_problem("https://exemple.nc/" + "a" * 500, production=False)


def test_the_retention_pass_deletes_old_delivered_deliveries(app, receiver):
    publish_form(app, [{"key": "nom", "type": "text", "label": "Nom"}])
    make_user(app, Role.ADMIN, email="admin@example.nc")
    subscription_id, receiver.secret = subscribe(app, receiver.url)
    publish_and_submit(app)
    publish_and_submit(app)
    receiver.answers = [200, 503]
    run_worker_burst(app)
    found = {d.status: d for d in deliveries(app, subscription_id)}
    old, waiting = found[DeliveryStatus.DELIVERED], found[DeliveryStatus.PENDING]
    with app.app_context():
        session = get_session()
        long_ago = utcnow() - timedelta(days=app.config["OUTBOX_KEEP_DAYS"] + 1)
        for delivery in session.scalars(select(WebhookDelivery)):
            delivery.delivered_at = long_ago if delivery.id == old.id else None
            delivery.created_at = long_ago
        session.commit()
        assert retention.sweep(session)["webhook_deliveries"] == 1
    assert [d.id for d in deliveries(app, subscription_id)] == [waiting.id]


def test_an_https_receiver_is_checked_against_its_name(app, tmp_path, monkeypatch):
    """The request goes to the address resolved (and checked), the certificate is verified
    against the URL's name: untrusted, refused; trusted, delivered."""
    cert, key = self_signed(tmp_path, "localhost")
    tls = Receiver(tls=(cert, key))
    try:
        publish_form(app, [{"key": "nom", "type": "text", "label": "Nom"}])
        make_user(app, Role.ADMIN, email="admin@example.nc")
        subscription_id, tls.secret = subscribe(app, tls.url)
        publish_and_submit(app)
        run_here(app, "check_submission")
        run_here(app, "deliver_webhook")
        [refused] = deliveries(app, subscription_id)
        assert "CERTIFICATE_VERIFY_FAILED" in refused.last_error and tls.received == []
        monkeypatch.setenv("SSL_CERT_FILE", cert)  # the receiver's certificate now trusted
        run_here(app, "deliver_webhook")
        [found] = tls.received
        assert found.valid and found.headers["Host"] == f"localhost:{tls.server.server_port}"
        assert deliveries(app, subscription_id)[0].status is DeliveryStatus.DELIVERED
    finally:
        tls.close()


def test_a_delivery_whose_worker_died_at_its_last_attempt_is_failed(app, receiver):
    publish_form(app, [{"key": "nom", "type": "text", "label": "Nom"}])
    make_user(app, Role.ADMIN, email="admin@example.nc")
    subscription_id, _ = subscribe(app, receiver.url)
    publish_and_submit(app)
    run_here(app, "check_submission")
    with app.app_context():
        session = get_session()
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.job == "deliver_webhook")
            .values(
                status=OutboxStatus.RUNNING,
                attempts=app.config["WEBHOOK_MAX_ATTEMPTS"],
                started_at=utcnow() - timedelta(hours=1),
            )
        )
        session.commit()
    outbox.reconcile(app)
    [lost] = deliveries(app, subscription_id)
    assert (lost.status, lost.last_error) == (DeliveryStatus.FAILED, "Worker lost")
