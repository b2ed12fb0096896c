"""Changes requested: the applicant reads the agent's message, answers and sends the request back."""

from sqlalchemy import select

from forms_app import casework
from forms_app.db import get_session
from forms_app.models import Event, Role, Submission, User
from tests.support import make_user
from tests.test_applicant_space import make_submission, publish_space_form, sign_in

AGENT = "agent@example.nc"


def ask_changes(app, reference: str) -> int:
    """An agent takes the request and asks for a missing document; return the agent's id."""
    make_user(app, Role.AGENT, email=AGENT)
    with app.test_request_context():
        db = get_session()
        agent = db.scalar(select(User).where(User.email == AGENT))
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        casework.take(db, found, agent, found.revision)
        casework.ask_changes(db, found, agent, found.revision, "Joignez votre avis RIDET.")
        db.commit()
        return agent.id


def state_of(app, reference: str) -> tuple[str, int | None, list[str]]:
    with app.app_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        actions = db.scalars(
            select(Event.action).where(Event.subject_id == found.id).order_by(Event.id)
        ).all()
        return found.state, found.assignee_id, list(actions)


def test_the_applicant_answers_and_sends_the_request_back(app, client):
    publish_space_form(app)
    reference = make_submission(app)
    agent_id = ask_changes(app, reference)
    sign_in(app, client)
    page = client.get(f"/mon-espace/demandes/{reference}").text
    assert "Joignez votre avis RIDET." in page
    assert "Renvoyer ma demande" in page
    client.post(f"/mon-espace/demandes/{reference}/messages", data={"body": "Le voici."})
    response = client.post(f"/mon-espace/demandes/{reference}/renvoi", follow_redirects=True)
    assert "Votre demande a été renvoyée au service instructeur." in response.text
    state, assignee, actions = state_of(app, reference)
    assert state == "submitted"
    assert assignee == agent_id  # the same agent finds it back
    assert actions[-1] == "resubmit"
    assert "Renvoyer ma demande" not in client.get(f"/mon-espace/demandes/{reference}").text


def test_a_request_not_waiting_for_changes_cannot_be_sent_back(app, client):
    publish_space_form(app)
    reference = make_submission(app)
    sign_in(app, client)
    before = state_of(app, reference)
    response = client.post(f"/mon-espace/demandes/{reference}/renvoi", follow_redirects=True)
    assert "Cette demande n’attend pas de compléments." in response.text
    assert state_of(app, reference) == before


def test_someone_else_cannot_send_back_a_request(app, client):
    publish_space_form(app)
    reference = make_submission(app)
    ask_changes(app, reference)
    sign_in(app, client, "autre@example.nc")
    assert client.post(f"/mon-espace/demandes/{reference}/renvoi").status_code == 404
    assert state_of(app, reference)[0] == "changes_requested"
