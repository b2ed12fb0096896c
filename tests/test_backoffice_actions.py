"""The actions staff take from the dossier page, over HTTP: effects, refusals, stale pages."""

import re

import pytest
from sqlalchemy import func, select

from forms_app import casework
from forms_app.db import get_session
from forms_app.models import Message, Note, Role, Submission, User
from tests.backoffice_support import (
    ADMIN,
    AGENT,
    AGENT2,
    APPROVER,
    FINANCE,
    events,
    load,
    make_request,
    post,
    publish_case_form,
    snapshot,
    staff,
)


@pytest.fixture
def case(app):
    publish_case_form(app)
    return make_request(app, files=True)


def test_take_ask_changes_propose_and_approve_through_the_pages(app, case):
    agent = staff(app, AGENT, Role.AGENT)
    approver = staff(app, APPROVER, Role.APPROVER)

    page = agent.get(f"/agents/demandes/{case}").text
    assert "Prendre en charge" in page and "Valider" not in page
    response = post(agent, case, "take", load(app, case).revision)
    assert response.status_code == 302
    page = agent.get(f"/agents/demandes/{case}").text
    assert "Vous avez pris en charge la demande." in page
    assert load(app, case).state == "in_review"
    assert 'value="300\u202f000"' in page  # the proposal defaults to the computed amount

    response = post(agent, case, "ask_changes", load(app, case).revision, message="Le RIB manque.")
    assert response.status_code == 302
    assert "Les compléments ont été demandés" in agent.get(f"/agents/demandes/{case}").text
    assert load(app, case).state == "changes_requested"
    with app.app_context():
        assert get_session().scalar(select(Message.body)) == "Le RIB manque."
    with app.test_request_context():
        db = get_session()
        casework.resubmit(db, db.get(Submission, load(app, case).id))
        db.commit()

    post(agent, case, "take", load(app, case).revision)
    response = post(agent, case, "propose_accept", load(app, case).revision, amount="1 200 000")
    assert response.status_code == 302
    assert (
        "Acceptation proposée pour 1\u202f200\u202f000\u00a0F CFP"
        in agent.get(f"/agents/demandes/{case}").text
    )
    found = load(app, case)
    assert (found.state, found.proposal, found.proposed_amount) == ("proposed", "accept", 1_200_000)

    page = approver.get(f"/agents/demandes/{case}").text
    assert "Valider" in page and "Prendre en charge" not in page
    response = post(approver, case, "send_back", found.revision, reason="Montant à revoir.")
    assert response.status_code == 302
    assert "renvoyée en instruction" in approver.get(f"/agents/demandes/{case}").text
    assert load(app, case).state == "in_review"

    post(agent, case, "propose_accept", load(app, case).revision, amount="900000")
    response = post(approver, case, "approve", load(app, case).revision)
    assert response.status_code == 302
    assert "La demande est acceptée." in approver.get(f"/agents/demandes/{case}").text
    found = load(app, case)
    assert (found.state, found.approved_amount) == ("approved", 900_000)
    assert events(app, case) == [
        "submit", "take", "message", "ask_changes", "resubmit", "take", "propose",
        "send_back", "propose", "approve",
    ]  # fmt: skip
    history = approver.get(f"/agents/demandes/{case}").text
    assert "Montant à revoir." in history and "900\u202f000\u00a0F CFP" in history


def test_propose_refusal_reject_close_release_assign_and_note(app):
    publish_case_form(app)
    refused, closed, released = (make_request(app) for _ in range(3))
    agent = staff(app, AGENT, Role.AGENT)
    approver = staff(app, APPROVER, Role.APPROVER)
    admin = staff(app, ADMIN, Role.ADMIN)

    post(agent, refused, "take", load(app, refused).revision)
    response = post(
        agent, refused, "propose_reject", load(app, refused).revision, reason="Hors délai."
    )
    assert response.status_code == 302
    assert "Refus proposé" in agent.get(f"/agents/demandes/{refused}").text
    assert (load(app, refused).state, load(app, refused).proposal) == ("proposed", "reject")
    response = post(approver, refused, "reject", load(app, refused).revision, reason="Hors délai.")
    assert response.status_code == 302
    assert "La demande est refusée." in approver.get(f"/agents/demandes/{refused}").text
    assert load(app, refused).state == "rejected"

    post(agent, closed, "take", load(app, closed).revision)
    response = post(agent, closed, "close", load(app, closed).revision, reason="Doublon.")
    assert response.status_code == 302
    assert "classée sans suite" in agent.get(f"/agents/demandes/{closed}").text
    assert (load(app, closed).state, load(app, closed).decision_reason) == ("closed", "Doublon.")

    post(agent, released, "take", load(app, released).revision)
    response = post(agent, released, "release", load(app, released).revision)
    assert response.status_code == 302
    assert "de nouveau à prendre en charge" in agent.get(f"/agents/demandes/{released}").text
    assert (load(app, released).state, load(app, released).assignee_id) == ("submitted", None)

    with app.app_context():
        agent_id = get_session().scalar(select(User.id).where(User.email == AGENT))
    assert "Attribuer à" in admin.get(f"/agents/demandes/{released}").text
    assert "Attribuer à" not in agent.get(f"/agents/demandes/{released}").text
    response = post(admin, released, "assign", load(app, released).revision, assignee=agent_id)
    assert response.status_code == 302
    assert "La demande est attribuée à Test User." in admin.get(f"/agents/demandes/{released}").text
    assert load(app, released).assignee_id == agent_id

    response = agent.post(f"/agents/demandes/{released}/notes", data={"note-body": "À rappeler."})
    assert response.status_code == 302
    assert "Votre note est ajoutée." in agent.get(f"/agents/demandes/{released}").text
    with app.app_context():
        assert get_session().scalar(select(Note.body)) == "À rappeler."


def test_a_stale_revision_is_refused_with_409_and_changes_nothing(app, case):
    first = staff(app, AGENT, Role.AGENT)
    second = staff(app, AGENT2, Role.AGENT)
    shown = load(app, case).revision  # both pages show this revision
    assert post(second, case, "take", shown).status_code == 302
    before = snapshot(app, case)

    response = post(first, case, "take", shown)
    assert response.status_code == 409
    assert "modifiée depuis l’affichage de cette page" in response.text
    assert snapshot(app, case) == before
    with app.app_context():
        second_id = get_session().scalar(select(User.id).where(User.email == AGENT2))
    assert load(app, case).assignee_id == second_id


def test_a_bad_amount_is_refused_with_400_and_changes_nothing(app, case):
    agent = staff(app, AGENT, Role.AGENT)
    post(agent, case, "take", load(app, case).revision)
    before = snapshot(app, case)
    response = post(agent, case, "propose_accept", load(app, case).revision, amount="douze")
    assert response.status_code == 400
    assert "Le montant doit être un nombre entier de francs CFP" in response.text
    assert 'value="douze"' in response.text  # what was typed is kept
    assert '<li><a href="#propose_accept-amount">Le montant doit' in response.text
    assert snapshot(app, case) == before
    response = post(agent, case, "propose_reject", load(app, case).revision, reason="  ")
    assert response.status_code == 400 and "Indiquez le motif." in response.text
    assert snapshot(app, case) == before


@pytest.mark.parametrize(
    ("roles", "action", "fields"),
    [
        ((Role.FINANCE,), "take", {}),
        ((Role.APPROVER,), "take", {}),
        ((Role.AGENT,), "approve", {}),
        ((Role.AGENT,), "assign", {"assignee": 1}),
        ((Role.AGENT, Role.APPROVER), "approve", {}),  # approving one's own proposal
    ],
)
def test_a_role_without_the_permission_sees_no_form_and_gets_403(app, case, roles, action, fields):
    proposer = staff(app, AGENT2, Role.AGENT)
    if action == "approve":
        if Role.APPROVER in roles:  # the same person proposes, then tries to approve
            proposer = staff(app, AGENT, *roles)
        post(proposer, case, "take", load(app, case).revision)
        post(proposer, case, "propose_accept", load(app, case).revision, amount="300000")
        assert load(app, case).state == "proposed"
    user = proposer if Role.APPROVER in roles and Role.AGENT in roles else staff(app, AGENT, *roles)
    page = user.get(f"/agents/demandes/{case}").text
    assert f"/traitement/{action}" not in page
    before = snapshot(app, case)
    response = post(user, case, action, load(app, case).revision, **fields)
    assert response.status_code == 403
    assert 'class="error-summary"' in response.text  # the reason, on the dossier shown again
    assert snapshot(app, case) == before


def test_finance_may_not_add_notes(app, case):
    finance = staff(app, FINANCE, Role.FINANCE)
    assert f"/agents/demandes/{case}/notes" not in finance.get(f"/agents/demandes/{case}").text
    response = finance.post(f"/agents/demandes/{case}/notes", data={"note-body": "Vu."})
    assert response.status_code == 403
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(Note)) == 0


def test_an_unknown_action_or_request_is_404(app, case):
    agent = staff(app, AGENT, Role.AGENT)
    assert post(agent, case, "pay", 0).status_code == 404
    assert post(agent, "AIDE-2000-999999", "take", 0).status_code == 404


def test_action_forms_carry_a_csrf_token_that_is_checked(app, case):
    agent = staff(app, AGENT, Role.AGENT)
    app.config["WTF_CSRF_ENABLED"] = True
    page = agent.get(f"/agents/demandes/{case}").text
    token = re.search(r'name="take-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    revision = load(app, case).revision
    assert f'name="take-revision" value="{revision}"' in page
    assert post(agent, case, "take", revision).status_code == 400  # no token
    assert load(app, case).state == "submitted"
    response = agent.post(
        f"/agents/demandes/{case}/traitement/take",
        data={"take-revision": revision, "take-csrf_token": token},
    )
    assert response.status_code == 302
    assert load(app, case).state == "in_review"
