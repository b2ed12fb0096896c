"""The applicant is e-mailed when the state of their request changes, once per change."""

from email import message_from_bytes, policy

from sqlalchemy import select

from forms_app import notifications
from forms_app.db import get_session
from forms_app.models import Event, OutboxMessage, Submission
from tests.support import latest_submission, publish_form, run_worker_burst, sent_mails
from tests.support import submit_answers as fill
from workflows.states import BY_APPLICANT

FIELDS = [
    {"key": "raison_sociale", "type": "text", "label": "Raison sociale", "required": True},
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
]
ANSWERS = {"raison_sociale": "SARL Le Lagon Bleu", "courriel": "Gerant@Lagon-Bleu.nc"}


def state_mails(app) -> list:
    """The state-change e-mails written so far (receipts left out), oldest first."""
    found = []
    for path in sorted(sent_mails(app), key=lambda p: p.stat().st_mtime_ns):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["Subject"].startswith("Votre demande "):
            found.append(message)
    return found


def submit(app, client, slug: str) -> int:
    assert fill(client, slug, ANSWERS).status_code == 302
    return latest_submission(app).id


def move(app, submission_id: int, *actions: str, by: str = "agent") -> None:
    """Take the actions as the system would (no actor: permissions are another test's)."""
    with app.app_context():
        session = get_session()
        submission = session.get(Submission, submission_id)
        for action in actions:
            submission.apply(session, action, None, by=by, reason="Motif interne confidentiel")
        session.commit()


def test_each_change_the_applicant_must_know_sends_one_e_mail(app, client):
    slug = publish_form(app, FIELDS)
    submission_id = submit(app, client, slug)
    run_worker_burst(app)
    assert state_mails(app) == []  # the receipt says it was submitted
    reference = latest_submission(app).reference

    move(app, submission_id, "take")
    run_worker_burst(app)
    [mail] = state_mails(app)
    assert mail["To"] == "gerant@lagon-bleu.nc"
    assert mail["Subject"] == f"Votre demande {reference} : En instruction"
    body = mail.get_content()
    assert reference in body and "Formulaire d’essai" in body
    assert "http://127.0.0.1:5000/mon-espace/connexion" in body
    # Nothing but the reference and the state: no answers, no internal reason.
    assert "Lagon Bleu" not in body and "Motif" not in body

    move(app, submission_id, "ask_changes")
    move(app, submission_id, "resubmit", by=BY_APPLICANT)  # silent: the applicant did it
    move(app, submission_id, "take", "propose", "send_back", "propose", "approve")
    run_worker_burst(app)
    subjects = [m["Subject"].split(" : ")[1] for m in state_mails(app)]
    assert subjects == ["En instruction", "Compléments demandés", "En instruction", "Acceptée"]


def test_decisions_and_withdrawals_are_e_mailed(app, client):
    slug = publish_form(app, FIELDS)
    paths = {
        ("take", "propose", "reject"): "Refusée",
        ("take", "close"): "Classée sans suite",
        ("cancel",): "Annulée",
    }
    ids = {}
    for actions in paths:
        ids[actions] = submit(app, client, slug)
        move(app, ids[actions], *actions)
    withdrawn = submit(app, client, slug)
    move(app, withdrawn, "withdraw", by=BY_APPLICANT)
    run_worker_burst(app)

    with app.app_context():
        session = get_session()
        reference = {i: session.get(Submission, i).reference for i in [*ids.values(), withdrawn]}
    last = {}
    for mail in state_mails(app):
        ref, state = mail["Subject"].removeprefix("Votre demande ").split(" : ")
        last[ref] = state
    for actions, label in paths.items():
        assert last[reference[ids[actions]]] == label
    assert last[reference[withdrawn]] == "Retirée"
    assert len(state_mails(app)) == 2 + 2 + 1 + 1  # in review twice, then each ending


def test_one_e_mail_per_event_even_if_asked_twice(app, client):
    slug = publish_form(app, FIELDS)
    submission_id = submit(app, client, slug)
    with app.app_context():
        session = get_session()
        submission = session.get(Submission, submission_id)
        event = submission.apply(session, "take", None)
        notifications.state_changed(session, submission, event)  # again, same transaction
        session.commit()
        event_id = event.id
    with app.app_context():
        session = get_session()
        notifications.state_changed(  # again, later
            session, session.get(Submission, submission_id), session.get(Event, event_id)
        )
        session.commit()
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.job == "notify_state_change")
        ).all()
        assert [m.args for m in queued] == [{"event_id": event_id}]
    run_worker_burst(app)
    assert len(state_mails(app)) == 1


def test_no_e_mail_without_an_address(app, client):
    slug = publish_form(app, [FIELDS[0]])
    submission_id = submit(app, client, slug)
    move(app, submission_id, "take")
    with app.app_context():
        jobs = get_session().scalars(select(OutboxMessage.job)).all()
    assert "notify_state_change" not in jobs
