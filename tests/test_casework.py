"""Working a request: each action's effect and audit event, stale pages, two agents racing."""

import threading

import pytest
from sqlalchemy import func, select

from forms_app import casework, submissions
from forms_app.db import get_session
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import rules
from forms_app.models import Event, Form, Message, Note, OutboxMessage, Role, Submission, User
from tests.support import latest_submission, publish_form, submit_answers

APPLICANT = "gerant@lagon-bleu.nc"
IBAN = "FR7699999000010001234567809"
OTHER_IBAN = "FR7299999000100001234567A89"
FIELDS = [
    {"key": "nom", "type": "text", "label": "Raison sociale", "required": True},
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
    {"key": "montant", "type": "amount", "label": "Montant demandé", "required": True},
    {"key": "titulaire_compte", "type": "text", "label": "Titulaire du compte", "required": True},
    {"key": "iban", "type": "iban", "label": "IBAN", "required": True},
]
STALE = (
    "Cette demande a été modifiée par quelqu’un d’autre pendant que vous la consultiez : "
    "rechargez la page."
)


# -- Builders shared with test_approvals and test_permissions ---------------------------------


def publish_case_form(app, *, envelope: int | None = None, threshold: int | None = None) -> str:
    """A one-page aid form whose computed amount is the amount asked, with its settings."""
    settings = {"reference_prefix": "CAS"}
    if envelope is not None:
        settings["budget_envelope"] = envelope
    if threshold is not None:
        settings["approval_threshold"] = threshold
    return publish_form(
        app, FIELDS, slug="cas", rules={"amount": {"expression": "montant"}}, settings=settings
    )


def make_request(app, amount: int = 100_000, email: str = APPLICANT) -> str:
    """Submit a request through submissions.submit, as the check page does; its reference."""
    answers = {
        "nom": "SARL Le Lagon Bleu",
        "courriel": email,
        "montant": amount,
        "titulaire_compte": "SARL Le Lagon Bleu",
        "iban": IBAN,
    }
    with app.app_context():
        db = get_session()
        form = db.scalar(select(Form).where(Form.slug == "cas"))
        version = form.current_version
        definition = definitions.of_version(version)
        submission = submissions.submit(
            db, form, version, definition, answers, rules.evaluate(definition, answers)
        )
        db.commit()
        return submission.reference


def staff_user(app, *roles: Role, email: str) -> int:
    """A staff user who never signs in (no password hashing: fast); its id."""
    with app.app_context():
        db = get_session()
        user = User(email=email, name="Test User", password_hash="!")
        user.grant(*roles)
        db.add(user)
        db.commit()
        return user.id


def staff(app) -> dict[str, int]:
    """One user per role, and a second agent and approver."""
    return {
        "agent": staff_user(app, Role.AGENT, email="agent@example.nc"),
        "agent2": staff_user(app, Role.AGENT, email="agent2@example.nc"),
        "approver": staff_user(app, Role.APPROVER, email="valideur@example.nc"),
        "approver2": staff_user(app, Role.APPROVER, email="valideuse@example.nc"),
        "admin": staff_user(app, Role.ADMIN, email="admin@example.nc"),
        "designer": staff_user(app, Role.DESIGNER, email="concepteur@example.nc"),
        "finance": staff_user(app, Role.FINANCE, email="finances@example.nc"),
    }


def act(app, function, reference: str, user_id: int | None, *args, stale: bool = False, **kw):
    """Call a casework function as a view would (fresh session, page revision), then commit.

    The revision posted is the row's current one, unless `stale` (the one before). Messages
    are translated for a request, as in the views.
    """
    with app.test_request_context():
        db = get_session()
        submission = db.scalar(select(Submission).where(Submission.reference == reference))
        user = db.get(User, user_id) if user_id is not None else None
        revision = submission.revision - 1 if stale else submission.revision
        try:
            result = function(db, submission, user, revision, *args, **kw)
        except Exception:
            db.rollback()
            raise
        db.commit()
        return result


def assign_to(db, submission, user, revision, assignee_id: int | None):
    """casework.assign with act()'s argument order, the assignee given by id."""
    assignee = db.get(User, assignee_id) if assignee_id is not None else None
    return casework.assign(db, submission, user, assignee, revision)


def row(app, reference: str) -> Submission:
    with app.app_context():
        return get_session().scalar(select(Submission).where(Submission.reference == reference))


def events(app, reference: str) -> list[Event]:
    with app.app_context():
        db = get_session()
        found = db.scalar(select(Submission.id).where(Submission.reference == reference))
        return list(
            db.scalars(
                select(Event)
                .where(Event.subject_type == "submission", Event.subject_id == found)
                .order_by(Event.id)
            )
        )


def to_proposed(app, users, reference: str, **proposal) -> None:
    """Take the request (agent) and propose (acceptance of the computed amount by default)."""
    act(app, casework.take, reference, users["agent"])
    act(app, casework.propose, reference, users["agent"], **({"accept": True} | proposal))


@pytest.fixture
def case(app):
    """A published form, the staff, one submitted request."""
    publish_case_form(app)
    users = staff(app)
    return users, make_request(app)


# -- Each action ----------------------------------------------------------------------------


def test_take_assigns_the_reviewer_and_audits(app, case):
    users, reference = case
    before = row(app, reference).revision
    act(app, casework.take, reference, users["agent"])
    taken = row(app, reference)
    assert (taken.state, taken.assignee_id) == ("in_review", users["agent"])
    assert taken.revision == before + 1 and taken.last_activity_at is not None
    event = events(app, reference)[-1]
    assert (event.action, event.from_state, event.to_state) == ("take", "submitted", "in_review")
    assert (event.actor_id, event.details["assignee_id"]) == (users["agent"], users["agent"])


def test_release_puts_it_back_in_the_queue(app, case):
    users, reference = case
    act(app, casework.take, reference, users["agent"])
    act(app, casework.release, reference, users["agent"])
    released = row(app, reference)
    assert (released.state, released.assignee_id) == ("submitted", None)
    event = events(app, reference)[-1]
    assert (event.action, event.to_state) == ("release", "submitted")
    assert event.details["previous_assignee_id"] == users["agent"]


def test_only_the_assignee_or_an_admin_works_an_assigned_request(app, case):
    users, reference = case
    with pytest.raises(casework.CaseworkError, match="administrateurs"):
        act(app, assign_to, reference, users["agent"], None)  # agents do not assign
    act(app, assign_to, reference, users["admin"], users["agent2"])
    assert row(app, reference).assignee_id == users["agent2"]
    event = events(app, reference)[-1]
    assert (event.action, event.details["assignee_id"], event.from_state) == (
        "assign",
        users["agent2"],
        None,
    )
    with pytest.raises(casework.CaseworkError, match="suivie par Test User"):
        act(app, casework.take, reference, users["agent"])
    act(app, casework.take, reference, users["agent2"])
    with pytest.raises(casework.CaseworkError, match="suivie par"):
        act(app, casework.propose, reference, users["agent"], accept=True)
    act(app, casework.release, reference, users["admin"])  # an admin may
    assert row(app, reference).state == "submitted"


def test_assign_refuses_who_may_not_review(app, case):
    users, reference = case
    with pytest.raises(casework.CaseworkError, match="pas agent instructeur"):
        act(app, assign_to, reference, users["admin"], users["designer"])
    applicant = staff_user(app, Role.AGENT, email=APPLICANT.upper())
    with pytest.raises(casework.CaseworkError, match="a déposé cette demande"):
        act(app, assign_to, reference, users["admin"], applicant)
    assert row(app, reference).assignee_id is None


def test_ask_changes_writes_to_the_applicant_and_resubmission_keeps_the_assignee(app, case):
    users, reference = case
    act(app, casework.take, reference, users["agent"])
    act(app, casework.ask_changes, reference, users["agent"], "Joignez le RIB, s’il vous plaît.")
    asked = row(app, reference)
    assert asked.state == "changes_requested"
    with app.app_context():
        db = get_session()
        [message] = db.scalars(select(Message).where(Message.submission_id == asked.id))
        assert (message.author, message.author_user_id) == ("agent", users["agent"])
        assert message.body == "Joignez le RIB, s’il vous plaît."
        # One e-mail: the state change's, which says to read the space (never the content).
        jobs = [m.job for m in db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert jobs[-1:] == ["notify_state_change"] and "send_email" not in jobs
    # The message first: the state change's event names it (events are written once).
    note, ask = [e for e in events(app, reference) if e.action in ("ask_changes", "message")]
    assert (ask.action, ask.details["message_id"]) == ("ask_changes", message.id)
    assert note.details == {"author": "agent", "message_id": message.id}

    with app.test_request_context():
        db = get_session()
        submission = db.get(Submission, asked.id)
        casework.resubmit(db, submission)
        db.commit()
    back = row(app, reference)
    assert (back.state, back.assignee_id) == ("submitted", users["agent"])
    assert events(app, reference)[-1].details["by"] == "applicant"
    with pytest.raises(casework.CaseworkError, match="suivie par"):
        act(app, casework.take, reference, users["agent2"])
    act(app, casework.take, reference, users["agent"])


def test_ask_changes_needs_a_message(app, case):
    users, reference = case
    act(app, casework.take, reference, users["agent"])
    with pytest.raises(casework.CaseworkError, match="compléter"):
        act(app, casework.ask_changes, reference, users["agent"], "   ")
    assert row(app, reference).state == "in_review"


def test_propose_acceptance_defaults_to_the_computed_amount(app, case):
    users, reference = case
    to_proposed(app, users, reference)
    proposed = row(app, reference)
    assert (proposed.state, proposed.proposal, proposed.proposed_amount) == (
        "proposed",
        "accept",
        100_000,
    )
    assert proposed.proposed_by_id == users["agent"]
    event = events(app, reference)[-1]
    assert (event.action, event.details["proposal"], event.details["amount"]) == (
        "propose",
        "accept",
        100_000,
    )


def test_propose_another_amount_or_a_rejection_with_its_reason(app, case):
    users, reference = case
    act(app, casework.take, reference, users["agent"])
    with pytest.raises(casework.CaseworkError, match="nombre entier"):
        act(app, casework.propose, reference, users["agent"], accept=True, amount=-5)
    with pytest.raises(casework.CaseworkError, match="motif"):
        act(app, casework.propose, reference, users["agent"], accept=False)
    act(app, casework.propose, reference, users["agent"], accept=True, amount=80_000)
    assert row(app, reference).proposed_amount == 80_000

    other = make_request(app)
    act(app, casework.take, other, users["agent"])
    act(app, casework.propose, other, users["agent"], accept=False, reason="Hors délai")
    refused = row(app, other)
    assert (refused.proposal, refused.proposed_amount, refused.decision_reason) == (
        "reject",
        None,
        "Hors délai",
    )
    assert events(app, other)[-1].details["reason"] == "Hors délai"


def test_close_without_follow_up(app, case):
    users, reference = case
    act(app, casework.take, reference, users["agent"])
    act(app, casework.close, reference, users["agent"], "Doublon de CAS-2026-000001")
    closed = row(app, reference)
    assert (closed.state, closed.decision_reason) == ("closed", "Doublon de CAS-2026-000001")
    event = events(app, reference)[-1]
    assert (event.action, event.details["reason"]) == ("close", "Doublon de CAS-2026-000001")


def test_cancel_is_for_admins(app, case):
    users, reference = case
    with pytest.raises(casework.CaseworkError):
        act(app, casework.cancel, reference, users["agent"], "Erreur")
    act(app, casework.cancel, reference, users["admin"], "Demande déposée par erreur")
    assert row(app, reference).state == "cancelled"


def test_private_notes(app, case):
    users, reference = case
    with app.test_request_context():
        db = get_session()
        submission = db.scalar(select(Submission).where(Submission.reference == reference))
        note = casework.add_note(db, submission, db.get(User, users["agent"]), " RIB à vérifier ")
        db.commit()
        assert (note.body, note.author_id) == ("RIB à vérifier", users["agent"])
        note_id = note.id
        with pytest.raises(casework.CaseworkError, match="agents instructeurs"):
            casework.add_note(db, submission, db.get(User, users["approver"]), "Vu")
        db.rollback()
        assert db.scalar(select(func.count()).select_from(Note)) == 1
    event = events(app, reference)[-1]
    assert (event.action, event.details) == ("note", {"note_id": note_id})
    assert row(app, reference).revision == 0  # a note does not make other pages stale


# -- Stale pages and races ------------------------------------------------------------------


def test_a_stale_revision_is_refused_and_nothing_is_overwritten(app, case):
    users, reference = case
    act(app, casework.take, reference, users["agent"])
    before = row(app, reference)
    count = len(events(app, reference))
    with pytest.raises(casework.StaleRevision) as refused:
        act(app, casework.propose, reference, users["agent"], accept=True, stale=True)
    assert str(refused.value) == STALE
    with pytest.raises(casework.StaleRevision):
        act(app, casework.release, reference, users["agent"], stale=True)
    after = row(app, reference)
    assert (after.state, after.revision, after.proposal) == ("in_review", before.revision, None)
    assert len(events(app, reference)) == count


def test_two_agents_take_the_same_request_at_once(app, case):
    """Runs on the database under test: SQLite by default, PostgreSQL with TEST_DATABASE_URL."""
    users, reference = case
    revision = row(app, reference).revision  # both pages were rendered with it
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[str, object] = {}

    def agent(name: str) -> None:
        with app.test_request_context():
            db = get_session()
            barrier.wait()  # nothing read before: on SQLite a transaction holds the write lock
            try:
                me = db.get(User, users[name])
                found = db.scalar(select(Submission).where(Submission.reference == reference))
                casework.take(db, found, me, revision)
                db.commit()
                outcomes[name] = "won"
            except casework.CaseworkError as error:
                db.rollback()
                outcomes[name] = error
            except Exception as error:  # reported by the assertion below
                db.rollback()
                outcomes[name] = repr(error)

    threads = [threading.Thread(target=agent, args=(name,)) for name in ("agent", "agent2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(map(str, outcomes.values())) == sorted([STALE, "won"]), outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    loser = next(name for name in outcomes if name != winner)
    assert isinstance(outcomes[loser], casework.StaleRevision)
    taken = row(app, reference)
    assert (taken.state, taken.assignee_id, taken.revision) == (
        "in_review",
        users[winner],
        revision + 1,
    )
    assert [e.action for e in events(app, reference)].count("take") == 1


def test_a_request_filled_in_the_browser_can_be_worked(app, client, case):
    """The whole path from the public pages: submit_answers, then take and propose."""
    users, _reference = case
    response = submit_answers(
        client,
        "cas",
        {
            "nom": "EURL Baie des Citrons",
            "courriel": "contact@citrons.nc",
            "montant": "250 000",
            "titulaire_compte": "EURL Baie des Citrons",
            "iban": "FR76 9999 8060 6012 3456 7890 148",
        },
    )
    assert response.status_code in (200, 302, 303)
    reference = latest_submission(app).reference
    to_proposed(app, users, reference)
    assert row(app, reference).proposed_amount == 250_000
