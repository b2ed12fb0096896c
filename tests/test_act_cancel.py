"""Cancelling a payment act (finance) or its request (admins), and asking for a new act."""

import pytest
from sqlalchemy import select, update

from forms_app import casework, payment_acts
from forms_app.db import get_session
from forms_app.models import (
    Bordereau,
    Event,
    NumberSeries,
    OutboxMessage,
    PaymentAct,
    Submission,
    User,
)
from tests import support
from tests.finance_support import (
    ADMIN,
    AGENT,
    APPROVER,
    FINANCE,
    FINANCE2,
    approved_request,
    publish_payment_form,
)
from tests.payments_support import sign_acts
from workflows import outbox
from workflows.states import Action


def run_jobs(app, job: str) -> list[str]:
    """Run the waiting outbox messages of `job` as a worker would (outbox.execute)."""
    with app.app_context():
        waiting = get_session().scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.job == job, OutboxMessage.status.in_(["pending", "enqueued"])
            )
        )
        ids = list(waiting)
    outcomes = []
    for message_id in ids:
        with app.test_request_context():
            outcomes.append(outbox.execute(message_id))
    return outcomes


@pytest.fixture
def act_id(app) -> int:
    """An act issued and rendered by the jobs the approval queued."""
    publish_payment_form(app)
    reference = approved_request(app)
    assert run_jobs(app, payment_acts.ISSUE_JOB) == ["done"]
    assert run_jobs(app, payment_acts.RENDER_JOB) == ["done"]
    with app.app_context():
        found = get_session().scalar(select(Submission).where(Submission.reference == reference))
        return payment_acts.live_act(get_session(), found.id).id


def as_user(app, email: str, action, act_id: int, *args):
    """Run `action(db, act, user, *args)` in one transaction; commit it if it succeeds."""
    with app.test_request_context():
        db = get_session()
        user = db.scalar(select(User).where(User.email == email))
        result = action(db, db.get(PaymentAct, act_id), user, *args)
        db.commit()
        return result


def on_request(app, email: str, action, act_id: int, *args):
    """Run `action(db, submission, user, *args)` on the act's request, then commit."""
    with app.test_request_context():
        db = get_session()
        user = db.scalar(select(User).where(User.email == email))
        submission = db.get(PaymentAct, act_id).submission
        result = action(db, submission, user, *args)
        db.commit()
        return result


def cancel_request(db, submission, user, reason):
    return casework.cancel(db, submission, user, submission.revision, reason)


def snapshot(app, act_id: int) -> dict:
    """What the act and its request look like now, with their audit trails."""
    with app.app_context():
        db = get_session()
        act = db.get(PaymentAct, act_id)

        def trail(kind, subject_id):
            return [
                (e.action, e.from_state, e.to_state, e.details)
                for e in db.scalars(
                    select(Event)
                    .where(Event.subject_type == kind, Event.subject_id == subject_id)
                    .order_by(Event.id)
                )
            ]

        return {
            "act": (act.state, act.live_submission_id, act.cancel_reason, act.cancelled_by_id),
            "request": act.submission.state,
            "act_events": trail("payment_act", act.id),
            "request_events": trail("submission", act.submission_id),
        }


def user_id(app, email: str) -> int:
    with app.app_context():
        return get_session().scalar(select(User.id).where(User.email == email))


def put_on_bordereau(app, act_id: int, *, signed: bool = False) -> str:
    """List the act on a bordereau, open or signed (the request signed with it); its number."""
    bordereau_id = sign_acts(app, [act_id], signed=signed)
    with app.app_context():
        return get_session().get(Bordereau, bordereau_id).number


def test_finance_cancels_and_a_new_act_takes_the_next_number(app, act_id):
    event = as_user(app, FINANCE, payment_acts.cancel_act, act_id, "  Erreur de bénéficiaire ")
    assert (event.action, event.from_state, event.to_state) == (
        "cancel_act",
        "act_issued",
        "approved",
    )
    state = snapshot(app, act_id)
    finance = user_id(app, FINANCE)
    assert state["act"] == ("cancelled", None, "Erreur de bénéficiaire", finance)
    assert state["request"] == "approved"
    assert [e[:3] for e in state["act_events"]] == [
        ("issue", None, "issued"),
        (payment_acts.DECISION_RENDERED, None, None),
        ("cancel", "issued", "cancelled"),
    ]
    assert state["act_events"][-1][3]["reason"] == "Erreur de bénéficiaire"
    action, _, _, details = state["request_events"][-1]
    assert action == "cancel_act"
    assert (details["reason"], details["act_id"]) == ("Erreur de bénéficiaire", act_id)
    old = snapshot(app, act_id)

    on_request(app, FINANCE, payment_acts.reissue, act_id)
    assert run_jobs(app, payment_acts.ISSUE_JOB) == ["done"]
    with app.test_request_context():
        db = get_session()
        old_act = db.get(PaymentAct, act_id)
        new = payment_acts.live_act(db, old_act.submission_id)
        assert (new.sequence, new.number, new.state) == (2, f"{new.year}-000002", "issued")
        assert (old_act.number, old_act.state) == (f"{new.year}-000001", "cancelled")
        series = db.get(NumberSeries, ("mandat", new.budget_code, new.year))
        assert series.last_value == 2
    assert snapshot(app, act_id)["act"] == old["act"]  # the cancelled act stays as it was
    assert [e[0] for e in snapshot(app, act_id)["request_events"][-3:]] == [
        "cancel_act",
        "request_act",
        "issue_act",
    ]


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(app, act_id, reason):
    before = snapshot(app, act_id)
    with pytest.raises(casework.CaseworkError, match="Indiquez pourquoi l’acte"):
        as_user(app, FINANCE, payment_acts.cancel_act, act_id, reason)
    assert snapshot(app, act_id) == before


@pytest.mark.parametrize("email", [ADMIN, AGENT, APPROVER])
def test_only_finance_cancels_an_act(app, act_id, email):
    before = snapshot(app, act_id)
    with pytest.raises(payment_acts.ActError, match="Seule la direction des finances"):
        as_user(app, email, payment_acts.cancel_act, act_id, "Erreur")
    assert snapshot(app, act_id) == before


def test_a_cancelled_act_stays_cancelled(app, act_id):
    as_user(app, FINANCE, payment_acts.cancel_act, act_id, "Erreur")
    with pytest.raises(payment_acts.ActError, match="déjà annulé"):
        as_user(app, FINANCE2, payment_acts.cancel_act, act_id, "Encore")


def test_an_act_on_a_bordereau_is_not_cancelled(app, act_id):
    number = put_on_bordereau(app, act_id)
    before = snapshot(app, act_id)
    with pytest.raises(payment_acts.ActError, match=f"bordereau n° {number} en préparation"):
        as_user(app, FINANCE, payment_acts.cancel_act, act_id, "Erreur")
    assert snapshot(app, act_id) == before


def test_an_ordered_payment_is_not_cancelled(app, act_id):
    put_on_bordereau(app, act_id, signed=True)
    with pytest.raises(payment_acts.ActError, match="ordonné ou effectué"):
        as_user(app, FINANCE, payment_acts.cancel_act, act_id, "Erreur")


def test_an_act_the_bank_rejected_can_be_cancelled(app, act_id):
    put_on_bordereau(app, act_id, signed=True)
    with app.test_request_context():  # the bank returned the transfer (payments.reject_act)
        db = get_session()
        act = db.get(PaymentAct, act_id)
        finance = db.scalar(select(User).where(User.email == FINANCE))
        act.submission.apply(db, Action.REJECT_PAYMENT, finance, reason="Compte clos")
        act.state, act.bordereau_id = "rejected", None
        db.commit()
    as_user(app, FINANCE, payment_acts.cancel_act, act_id, "Compte clos, nouvel IBAN attendu")
    state = snapshot(app, act_id)
    assert (state["act"][0], state["request"]) == ("cancelled", "approved")
    assert state["act_events"][-1][1:3] == ("rejected", "cancelled")


def test_cancelling_the_request_cancels_its_act(app, act_id):
    on_request(app, ADMIN, cancel_request, act_id, "Fraude avérée")
    state = snapshot(app, act_id)
    assert state["act"] == ("cancelled", None, "Fraude avérée", user_id(app, ADMIN))
    assert state["request"] == "cancelled"
    action, from_state, to_state, details = state["request_events"][-1]
    assert (action, from_state, to_state) == ("cancel", "act_issued", "cancelled")
    assert details["act_id"] == act_id and details["reason"] == "Fraude avérée"
    assert state["act_events"][-1][:3] == ("cancel", "issued", "cancelled")
    with pytest.raises(payment_acts.ActError, match="demande acceptée"):
        on_request(app, FINANCE, payment_acts.reissue, act_id)


@pytest.mark.parametrize(
    ("signed", "message"),
    [(False, "doit l’en retirer"), (True, "paiement de cette demande est ordonné")],
    ids=["open-bordereau", "signed-bordereau"],
)
def test_a_request_whose_act_is_on_a_bordereau_is_not_cancelled(app, act_id, signed, message):
    put_on_bordereau(app, act_id, signed=signed)
    before = snapshot(app, act_id)
    with pytest.raises(casework.CaseworkError, match=message):
        on_request(app, ADMIN, cancel_request, act_id, "Fraude avérée")
    assert snapshot(app, act_id) == before


def test_reissue_is_refused_while_an_act_is_live_or_to_others(app, act_id):
    with pytest.raises(payment_acts.ActError, match="déjà un acte de paiement en cours"):
        on_request(app, FINANCE, payment_acts.reissue, act_id)
    as_user(app, FINANCE, payment_acts.cancel_act, act_id, "Erreur")
    for email in (ADMIN, AGENT, APPROVER):
        with pytest.raises(payment_acts.ActError, match="Seule la direction des finances"):
            on_request(app, email, payment_acts.reissue, act_id)


def test_asking_twice_still_makes_one_act(app, act_id):
    as_user(app, FINANCE, payment_acts.cancel_act, act_id, "Erreur")
    on_request(app, FINANCE, payment_acts.reissue, act_id)
    with pytest.raises(payment_acts.ActError, match="déjà en préparation"):
        on_request(app, FINANCE2, payment_acts.reissue, act_id)
    assert run_jobs(app, payment_acts.ISSUE_JOB) == ["done"]
    with app.test_request_context():
        db = get_session()
        submission_id = db.get(PaymentAct, act_id).submission_id
        payment_acts.issue_act(db, submission_id)  # the job delivered once more
        db.commit()
        acts = db.scalars(select(PaymentAct).where(PaymentAct.submission_id == submission_id))
        assert sorted((a.sequence, a.state) for a in acts) == [(1, "cancelled"), (2, "issued")]
        assert db.get(Submission, submission_id).state == "act_issued"


def test_a_failed_issue_job_can_be_asked_again(app, act_id):
    as_user(app, FINANCE, payment_acts.cancel_act, act_id, "Erreur")
    on_request(app, FINANCE, payment_acts.reissue, act_id)
    with app.app_context():  # the job gave up (OUTBOX_MAX_ATTEMPTS): finance may ask again
        db = get_session()
        db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.job == payment_acts.ISSUE_JOB, OutboxMessage.status != "done")
            .values(status="failed")
        )
        db.commit()
    on_request(app, FINANCE2, payment_acts.reissue, act_id)
    assert run_jobs(app, payment_acts.ISSUE_JOB) == ["done"]


# -- Through the pages --------------------------------------------------------------------


def sign_in(client, email: str) -> None:
    """Sign in (staff of these tests have their second factor, see tests.support.make_user)."""
    response = support.sign_in(client, email)
    assert response.status_code == 302 and "/connexion" not in response.headers["Location"]


def test_finance_cancels_from_the_act_page(app, client, act_id):
    sign_in(client, FINANCE)
    page = client.get(f"/agents/finances/actes/{act_id}")
    assert "Annuler l’acte de paiement" in page.text
    response = client.post(f"/agents/finances/actes/{act_id}/annulation", data={"reason": ""})
    assert response.status_code == 400
    assert "Indiquez pourquoi l’acte de paiement est annulé." in response.text
    assert snapshot(app, act_id)["act"][0] == "issued"

    response = client.post(
        f"/agents/finances/actes/{act_id}/annulation", data={"reason": "Doublon"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/agents/finances/actes/{act_id}")
    assert snapshot(app, act_id)["act"][:3] == ("cancelled", None, "Doublon")
    page = client.get(f"/agents/finances/actes/{act_id}")
    assert "Annulé" in page.text and "Doublon" in page.text
    assert "Annuler l’acte de paiement" not in page.text

    again = client.post(f"/agents/finances/actes/{act_id}/annulation", data={"reason": "Bis"})
    assert again.status_code == 409
    assert "déjà annulé" in again.text


def test_the_bordereau_refusal_is_shown(app, client, act_id):
    number = put_on_bordereau(app, act_id)
    sign_in(client, FINANCE)
    page = client.get(f"/agents/finances/actes/{act_id}")
    assert "retirez-le du bordereau" in page.text
    response = client.post(f"/agents/finances/actes/{act_id}/annulation", data={"reason": "X"})
    assert response.status_code == 409
    assert f"bordereau n° {number}" in response.text
    assert snapshot(app, act_id)["act"][0] == "issued"


def test_admins_read_but_do_not_cancel(app, client, act_id):
    sign_in(client, ADMIN)
    page = client.get(f"/agents/finances/actes/{act_id}")
    assert page.status_code == 200
    assert "Annuler l’acte de paiement" not in page.text
    response = client.post(f"/agents/finances/actes/{act_id}/annulation", data={"reason": "X"})
    assert response.status_code == 403
    assert snapshot(app, act_id)["act"][0] == "issued"


def test_finance_asks_for_a_new_act_from_the_dossier(app, client, act_id):
    as_user(app, FINANCE, payment_acts.cancel_act, act_id, "Erreur")
    with app.app_context():
        reference = get_session().get(PaymentAct, act_id).submission.reference
    sign_in(client, FINANCE)
    dossier = client.get(f"/agents/demandes/{reference}")
    assert "Demander un nouvel acte de paiement" in dossier.text
    response = client.post(f"/agents/finances/demandes/{reference}/nouvel-acte")
    assert response.status_code == 302
    waiting = client.post(f"/agents/finances/demandes/{reference}/nouvel-acte")
    assert waiting.status_code == 409
    assert "déjà en préparation" in waiting.text
    assert run_jobs(app, payment_acts.ISSUE_JOB) == ["done"]  # the job the page queued
    again = client.post(f"/agents/finances/demandes/{reference}/nouvel-acte")
    assert again.status_code == 409
    assert "déjà un acte de paiement en cours" in again.text
    dossier = client.get(f"/agents/demandes/{reference}")
    assert "Demander un nouvel acte de paiement" not in dossier.text
    assert dossier.text.count("/agents/finances/actes/") == 2  # the old act and the new one
