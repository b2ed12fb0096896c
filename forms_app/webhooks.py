"""Webhooks: other systems told of events, in the transaction of the change that makes them.

Each hook below runs where its event is written: `state_changed` in `transitions.apply`,
`act_issued` in `payment_acts.issue_act`, `act_paid` in `payments`; `submitted` in the first
"check_submission" job, so the submit stays one statement (forms_app.submit_statement) and
both databases tell of it the same way. For every active subscription of the form, or of
every form, that wants the event type, it adds a WebhookDelivery (its body written once, as
it will be sent) and an outbox row "deliver_webhook" (forms_app.webhook_delivery): a change
rolled back tells nobody. Without a subscription a hook costs one indexed query.

A body names ids, the reference, the form's slug, states, amounts and act numbers, never
personal data (answers, names, addresses, bank details): receivers fetch what they may see
through the API, with their token.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from forms_app.models import (
    Event,
    PaymentAct,
    Submission,
    WebhookDelivery,
    WebhookSubscription,
)
from workflows import outbox
from workflows.states import Action

SUBMITTED = "submission.submitted"
STATE_CHANGED = "submission.state_changed"
ACT_ISSUED = "payment_act.issued"
ACT_PAID = "payment_act.paid"
EVENT_TYPES = (SUBMITTED, STATE_CHANGED, ACT_ISSUED, ACT_PAID)
DELIVER_JOB = "deliver_webhook"


def subscribers(session: Session, event_type: str, form_id: int) -> list[WebhookSubscription]:
    """The active subscriptions of this form or of every form that want `event_type`."""
    with session.no_autoflush:  # nothing written early when nobody listens
        found = session.scalars(
            select(WebhookSubscription)
            .where(
                WebhookSubscription.active.is_(True),
                or_(WebhookSubscription.form_id == form_id, WebhookSubscription.form_id.is_(None)),
            )
            .order_by(WebhookSubscription.id)
        ).all()
    return [subscription for subscription in found if event_type in subscription.event_types]


def submitted(session: Session, submission: Submission) -> None:
    """Tell of a new submission, with its submit event; no commit."""
    wanted = subscribers(session, SUBMITTED, submission.form_id)
    if not wanted:
        return
    event = session.scalar(
        select(Event)
        .where(
            Event.subject_type == Submission.__tablename__,
            Event.subject_id == submission.id,
            Event.action == Action.SUBMIT.value,
        )
        .order_by(Event.id)
        .limit(1)
    )
    if event is None:
        raise LookupError(f"no submit event for submission {submission.id}")
    # The check may run after staff moved the request on: the body says the submit's state.
    _queue(
        session,
        wanted,
        SUBMITTED,
        event,
        lambda: {"submission": {**submission_data(submission), "state": event.to_state}},
    )


def state_changed(session: Session, submission: Submission, event: Event) -> None:
    """Tell of a request's move (the submit aside: see `submitted`); no commit."""
    if event.action == Action.SUBMIT.value:
        return
    wanted = subscribers(session, STATE_CHANGED, submission.form_id)
    if wanted:
        _queue(
            session,
            wanted,
            STATE_CHANGED,
            event,
            lambda: {
                "submission": submission_data(submission),
                "action": event.action,
                "from_state": event.from_state,
                "to_state": event.to_state,
            },
        )


def act_issued(session: Session, act: PaymentAct, event: Event) -> None:
    """Tell of a payment act just issued; no commit."""
    _tell_of_act(session, ACT_ISSUED, act, event)


def act_paid(session: Session, act: PaymentAct, event: Event) -> None:
    """Tell of a payment act just paid; no commit."""
    _tell_of_act(session, ACT_PAID, act, event)


def _tell_of_act(session: Session, event_type: str, act: PaymentAct, event: Event) -> None:
    wanted = subscribers(session, event_type, act.form_id)
    if wanted:
        _queue(
            session,
            wanted,
            event_type,
            event,
            lambda: {"act": act_data(act), "submission": submission_data(act.submission)},
        )


def submission_data(submission: Submission) -> dict[str, Any]:
    """What a body says of a request: no answer, no name, no address."""
    return {
        "id": submission.id,
        "reference": submission.reference,
        "form": submission.form.slug,
        "state": submission.state,
        "computed_amount": submission.computed_amount,
        "approved_amount": submission.approved_amount,
    }


def act_data(act: PaymentAct) -> dict[str, Any]:
    """What a body says of a payment act: no beneficiary, no bank details."""
    return {
        "id": act.id,
        "number": act.number,
        "budget_code": act.budget_code,
        "year": act.year,
        "state": act.state,
        "amount": act.amount,
        "issued_at": iso(act.issued_at),
        "paid_at": iso(act.paid_at),
    }


def iso(moment: datetime | None) -> str | None:
    """A time in UTC, ISO 8601 to the second: 2026-03-01T22:15:00Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def body(delivery_id: int, event_type: str, at: datetime, data: dict[str, Any]) -> str:
    """The JSON a delivery sends: compact, keys sorted, ASCII (what the signature covers)."""
    envelope = {"id": delivery_id, "type": event_type, "created_at": iso(at), "data": data}
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"))


def _queue(
    session: Session,
    subscriptions: list[WebhookSubscription],
    event_type: str,
    event: Event,
    data: Callable[[], dict[str, Any]],
) -> None:
    """One delivery per subscription, its body written once, and its job; no commit."""
    session.flush()  # the event's id and time
    deliveries = [
        WebhookDelivery(subscription_id=s.id, event_type=event_type, event_id=event.id, payload="")
        for s in subscriptions
    ]
    session.add_all(deliveries)
    session.flush()  # their ids, which their bodies carry
    said = data()
    for delivery in deliveries:
        delivery.payload = body(delivery.id, event_type, event.created_at, said)
        outbox.add(session, DELIVER_JOB, delivery_id=delivery.id)
