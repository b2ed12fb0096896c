"""Acting through the API: the back office's state machine, permissions and segregation of
duties, each action audited once, idempotency keys; and what finance reads."""

from sqlalchemy import func, select

from forms_app.db import get_session
from forms_app.models import Event, IdempotentAnswer, OutboxMessage
from tests.api_support import bearer, make_token
from tests.backoffice_support import events, load
from tests.finance_support import (
    ADMIN,
    AGENT,
    APPROVER,
    FINANCE,
    publish_payment_form,
    staff_users,
)
from tests.payments_support import signed_bordereau
from tests.support import submit_directly

ANSWERS = {
    "nom": "SARL CORAIL", "ridet": "1234567001", "courriel": "corail@example.nc",
    "montant": 100_000, "titulaire": "SARL CORAIL", "iban": "FR7699999000010001234567809",
}  # fmt: skip


def submitted(app) -> str:
    publish_payment_form(app)
    staff_users(app)
    return submit_directly(app, "aide", ANSWERS)


def post(client, secret: str, path: str, body: dict | None = None, **headers):
    return client.post(
        f"/api/v1/submissions/{path}", json=body or {}, headers=bearer(secret, **headers)
    )


def test_a_request_taken_proposed_and_approved_by_two_accounts(app, client):
    reference = submitted(app)
    agent = make_token(app, AGENT, write=True)
    approver = make_token(app, APPROVER, write=True, name="Outil des valideurs")

    taken = post(client, agent, f"{reference}/take", {"revision": 0})
    assert taken.status_code == 200
    assert taken.json == {"reference": reference, "state": "in_review", "revision": 1}
    stale = post(client, agent, f"{reference}/propose", {"decision": "accept", "revision": 0})
    assert stale.status_code == 409 and "modifiée par quelqu’un d’autre" in stale.json["detail"]
    proposed = post(client, agent, f"{reference}/propose", {"decision": "accept", "amount": 80_000})
    assert proposed.status_code == 200 and proposed.json["state"] == "proposed"

    own = post(client, agent, f"{reference}/approve")  # the agent's account cannot decide
    assert own.status_code == 403
    approved = post(client, approver, f"{reference}/approve")
    assert approved.status_code == 200 and approved.json["state"] == "approved"
    again = post(client, approver, f"{reference}/approve")
    assert again.status_code == 409
    assert events(app, reference) == ["submit", "take", "propose", "approve"]
    assert load(app, reference).approved_amount == 80_000
    found = load(app, reference)
    with app.app_context():
        mine = (Event.subject_type == "submission", Event.subject_id == found.id)
        actors = get_session().execute(select(Event.action, Event.actor_id).where(*mine)).all()
    assert len({actor for action, actor in actors if action != "submit"}) == 2


def test_refusals_and_bad_bodies(app, client):
    reference = submitted(app)
    agent = make_token(app, AGENT, write=True)
    approver = make_token(app, APPROVER, write=True)
    assert post(client, approver, f"{reference}/take").status_code == 403  # not an agent's role
    post(client, agent, f"{reference}/take")
    unknown = post(client, agent, f"{reference}/propose", {"decision": "peut-être"})
    assert unknown.status_code == 422 and "decision" in unknown.json["errors"]["json"]
    extra = post(client, agent, f"{reference}/propose", {"decision": "reject", "colour": "x"})
    assert extra.status_code == 422 and "colour" in extra.json["errors"]["json"]
    no_reason = post(client, agent, f"{reference}/propose", {"decision": "reject"})
    assert no_reason.status_code == 422 and "motif" in no_reason.json["detail"]
    proposed = post(
        client, agent, f"{reference}/propose", {"decision": "reject", "reason": "Hors zone"}
    )
    assert proposed.json["state"] == "proposed"
    rejected = post(client, approver, f"{reference}/reject", {"reason": "Entreprise hors zone"})
    assert rejected.status_code == 200 and rejected.json["state"] == "rejected"
    assert post(client, agent, "AIDE-2000-000001/take").status_code == 404


def test_an_idempotency_key_acts_once_and_answers_the_same(app, client):
    reference = submitted(app)
    agent = make_token(app, AGENT, write=True)
    first = post(client, agent, f"{reference}/take", {}, **{"Idempotency-Key": "prise-1"})
    second = post(client, agent, f"{reference}/take", {}, **{"Idempotency-Key": "prise-1"})
    assert first.status_code == second.status_code == 200
    assert first.json == second.json and second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert events(app, reference) == ["submit", "take"]
    other = post(client, agent, f"{reference}/release", {}, **{"Idempotency-Key": "prise-1"})
    assert other.status_code == 404  # no such action: nothing replayed for another path
    reused = post(client, agent, f"{reference}/propose", {"decision": "accept"},
                  **{"Idempotency-Key": "prise-1"})  # fmt: skip
    assert reused.status_code == 422 and "another request" in reused.json["detail"]
    assert events(app, reference) == ["submit", "take"]

    sent = [
        post(
            client,
            agent,
            f"{reference}/messages",
            {"body": "Envoyez le RIB."},
            **{"Idempotency-Key": "message-7"},
        )
        for _ in range(3)
    ]
    assert [answer.status_code for answer in sent] == [201, 201, 201]
    assert len({answer.json["id"] for answer in sent}) == 1
    with app.app_context():
        db = get_session()
        mails = db.scalar(select(func.count()).where(OutboxMessage.job == "send_email"))
        kept = db.scalar(select(func.count()).select_from(IdempotentAnswer))
    assert mails == 1 and kept == 2
    assert events(app, reference) == ["submit", "take", "message"]


def test_finance_reads_acts_and_bordereaux_with_their_pdfs(app, client):
    bordereau_id = signed_bordereau(app, [150_000, 275_500])
    finance = make_token(app, FINANCE)
    acts = client.get("/api/v1/finance/acts?limit=1", headers=bearer(finance))
    assert acts.status_code == 200 and len(acts.json["items"]) == 1
    rest = client.get(
        f"/api/v1/finance/acts?cursor={acts.json['next_cursor']}", headers=bearer(finance)
    ).json
    both = acts.json["items"] + rest["items"]
    assert [act["amount"] for act in both] == [150_000, 275_500] and rest["next_cursor"] is None
    assert {act["state"] for act in both} == {"signed"}
    act = client.get(f"/api/v1/finance/acts/{both[0]['id']}", headers=bearer(finance)).json
    assert act["number"] == both[0]["number"] and act["bordereau"]
    with client.get(f"/api/v1/finance/acts/{act['id']}/pdf", headers=bearer(finance)) as pdf:
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    bordereau = client.get(f"/api/v1/finance/bordereaux/{bordereau_id}", headers=bearer(finance))
    assert bordereau.json["acts"] == [a["number"] for a in both]
    assert bordereau.json["total"] == 425_500 and bordereau.json["state"] == "signed"
    listed = client.get("/api/v1/finance/bordereaux?state=signed", headers=bearer(finance)).json
    assert [b["id"] for b in listed["items"]] == [bordereau_id]

    agent = make_token(app, AGENT)
    assert client.get("/api/v1/finance/acts", headers=bearer(agent)).status_code == 403
    scoped = make_token(app, ADMIN, forms=["aide"])
    answer = client.get(f"/api/v1/finance/bordereaux/{bordereau_id}/pdf", headers=bearer(scoped))
    assert answer.status_code == 403  # the PDF lists every act: it takes an all-forms token
