"""The approvers' queue and batch approval, over HTTP."""

from sqlalchemy import func, select

from forms_app import casework
from forms_app.db import get_session
from forms_app.models import Approval, Event, Flag, Role
from tests.backoffice_support import (
    AGENT,
    APPROVER,
    APPROVER2,
    load,
    make_request,
    post,
    publish_case_form,
    run,
    staff,
)


def proposed(app, amount: int, *, by: str = AGENT, accept: bool = True) -> str:
    """A new request, taken and proposed by `by` (acceptance of `amount`, or a refusal)."""
    reference = make_request(app, amount=amount)
    run(app, reference, by, casework.take)
    if accept:
        run(app, reference, by, casework.propose, accept=True, amount=amount)
    else:
        run(app, reference, by, casework.propose, accept=False, reason="Hors délai.")
    return reference


def item(app, reference: str, revision_delta: int = 0) -> str:
    found = load(app, reference)
    return f"{found.id}:{found.revision + revision_delta}"


def test_the_queue_lists_proposals_oldest_first_with_budgets(app):
    publish_case_form(app, budget_envelope=3_000_000)
    staff(app, AGENT, Role.AGENT)
    first, second = make_request(app, amount=300_000), make_request(app, amount=450_000)
    in_review = make_request(app)
    run(app, in_review, AGENT, casework.take)
    for reference in (second, first):  # proposed in the reverse order
        run(app, reference, AGENT, casework.take)
        run(app, reference, AGENT, casework.propose, accept=True, amount=None)
    with app.app_context():
        db = get_session()
        db.add(Flag(submission_id=load(app, second).id, kind="iban", key="x", message="IBAN"))
        db.commit()
    approver = staff(app, APPROVER, Role.APPROVER)

    assert "/agents/validation/" in approver.get("/agents/").text
    page = approver.get("/agents/validation/")
    assert page.status_code == 200
    text = page.text
    assert in_review not in text
    assert text.index(first) < text.index(second)
    assert f'href="/agents/demandes/{first}"' in text
    assert f'name="items" value="{item(app, first)}"' in text
    assert "Formulaire d’essai" in text and "Acceptation" in text and "Test User" in text
    assert "300\u202f000\u00a0F CFP" in text and "450\u202f000\u00a0F CFP" in text
    assert '<span class="tag tag--closed">1</span>' in text  # one flag on the second
    assert "3\u202f000\u202f000\u00a0F CFP" in text  # the envelope, all of it remaining
    assert "Approuver la sélection" in text


def test_the_queue_is_for_approvers_only(app):
    publish_case_form(app)
    agent = staff(app, AGENT, Role.AGENT)
    assert agent.get("/agents/validation/").status_code == 403
    assert "/agents/validation/" not in agent.get("/agents/").text
    assert agent.post("/agents/validation/lot", data={"items": "1:1"}).status_code == 403


def test_an_approver_does_not_get_a_checkbox_for_their_own_proposal(app):
    publish_case_form(app)
    both = staff(app, AGENT, Role.AGENT, Role.APPROVER)
    reference = proposed(app, 200_000)
    text = both.get("/agents/validation/").text
    assert reference in text
    assert f'value="{item(app, reference)}"' not in text
    assert "Vous avez proposé cette décision" in text


def test_batch_approval_records_each_proposal_on_its_own(app):
    publish_case_form(app, budget_envelope=3_000_000, approval_threshold=1_500_000)
    staff(app, AGENT, Role.AGENT)
    small, other, refusal = (
        proposed(app, 300_000),
        proposed(app, 400_000),
        proposed(app, 0, accept=False),
    )
    large = proposed(app, 2_000_000)  # above the threshold: two approvers
    stale = proposed(app, 100_000)
    too_much = proposed(app, 2_400_000)  # more than the envelope has left
    approver = staff(app, APPROVER, Role.APPROVER)
    items = [
        item(app, small),
        item(app, other),
        item(app, refusal),
        item(app, large),
        item(app, stale, revision_delta=-1),  # shown before someone changed it
        item(app, too_much),
    ]
    stale_before = load(app, stale).revision

    response = approver.post("/agents/validation/lot", data={"items": items})
    assert response.status_code == 200
    text = response.text
    assert text.count("Acceptée") == 2 and "Refus validé" in text
    assert "En attente d’une seconde validation" in text
    assert "modifiée par quelqu’un d’autre" in text
    assert "L’enveloppe budgétaire du formulaire ne suffit pas" in text
    assert "il reste 2\u202f300\u202f000\u00a0F CFP" in text
    assert [load(app, r).state for r in (small, other, refusal, large, stale, too_much)] == [
        "approved", "approved", "rejected", "proposed", "proposed", "proposed",
    ]  # fmt: skip
    assert load(app, stale).revision == stale_before
    with app.app_context():
        db = get_session()
        assert db.scalar(select(func.count()).select_from(Approval)) == 4
        assert db.scalar(select(func.count()).where(Event.action == "approve")) == 2
        assert db.scalar(select(func.count()).where(Event.action == "approval")) == 1

    # The second approver completes the large one from its dossier.
    second = staff(app, APPROVER2, Role.APPROVER)
    response = post(second, large, "approve", load(app, large).revision)
    assert response.status_code == 302
    assert "La demande est acceptée." in second.get(f"/agents/demandes/{large}").text
    assert (load(app, large).state, load(app, large).approved_amount) == ("approved", 2_000_000)


def test_the_first_approver_above_the_threshold_is_told_a_second_is_needed(app):
    publish_case_form(app)
    staff(app, AGENT, Role.AGENT)
    large = proposed(app, 2_000_000)
    approver = staff(app, APPROVER, Role.APPROVER)
    response = post(approver, large, "approve", load(app, large).revision)
    assert response.status_code == 302
    page = approver.get(f"/agents/demandes/{large}").text
    assert "une seconde validation est nécessaire" in page
    assert "/traitement/approve" not in page  # not twice by the same person
    assert "1 sur 2" in page
    assert load(app, large).state == "proposed"


def test_an_empty_or_forged_batch(app):
    publish_case_form(app)
    approver = staff(app, APPROVER, Role.APPROVER)
    response = approver.post("/agents/validation/lot", data={})
    assert response.status_code == 302
    assert "Cochez au moins une proposition" in approver.get("/agents/validation/").text
    assert approver.post("/agents/validation/lot", data={"items": "1:x"}).status_code == 400
    response = approver.post("/agents/validation/lot", data={"items": "999:1"})
    assert response.status_code == 200 and "introuvable" in response.text
