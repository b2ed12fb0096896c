"""The transition table of DESIGN §4, and Submission.apply() writing its audit event."""

import pytest
from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import Event, Role, Submission, User
from tests.support import make_user
from tests.test_applicant_space import make_submission, publish_space_form
from workflows import states
from workflows.states import Action, State, TransitionError

# Every arrow of the DESIGN §4 diagram, written out again by hand.
DESIGN_TRANSITIONS = [
    ("draft", "submit", "submitted", "applicant"),
    ("submitted", "take", "in_review", "agent"),
    ("in_review", "ask_changes", "changes_requested", "agent"),
    ("changes_requested", "resubmit", "submitted", "applicant"),
    ("in_review", "propose", "proposed", "agent"),
    ("in_review", "close", "closed", "agent"),
    ("proposed", "approve", "approved", "agent"),
    ("proposed", "reject", "rejected", "agent"),
    ("approved", "issue_act", "act_issued", "agent"),
    ("act_issued", "sign", "signed", "agent"),
    ("signed", "pay", "paid", "agent"),
    # Casework additions (docs/architecture.md, "Casework and approval").
    ("in_review", "release", "submitted", "agent"),
    ("proposed", "send_back", "in_review", "agent"),
    ("approved", "void", "proposed", "agent"),
    # Payment additions (docs/architecture.md, "Payment acts and bordereaux").
    ("act_issued", "cancel_act", "approved", "agent"),
    ("signed", "reject_payment", "act_issued", "agent"),
]
OPEN = ["submitted", "in_review", "changes_requested", "proposed"]
PRE_PAYMENT = [*OPEN, "approved", "act_issued", "signed"]


@pytest.mark.parametrize(("source", "action", "target", "by"), DESIGN_TRANSITIONS)
def test_every_design_transition_is_allowed(source, action, target, by):
    assert states.next_state(source, action, by=by) == target


@pytest.mark.parametrize("source", OPEN)
def test_the_applicant_may_withdraw_any_open_request(source):
    assert states.next_state(source, "withdraw", by="applicant") == "withdrawn"


@pytest.mark.parametrize("source", PRE_PAYMENT)
def test_staff_may_cancel_before_payment(source):
    assert states.next_state(source, "cancel", by="agent") == "cancelled"


def test_the_table_holds_nothing_else():
    expected = {(s, a): t for s, a, t, _ in DESIGN_TRANSITIONS}
    expected |= {(s, "withdraw"): "withdrawn" for s in OPEN}
    expected |= {(s, "cancel"): "cancelled" for s in PRE_PAYMENT}
    assert {(s.value, a.value): t.value for (s, a), t in states.TRANSITIONS.items()} == expected


@pytest.mark.parametrize(
    ("source", "action", "by"),
    [
        ("draft", "approve", "agent"),
        ("submitted", "approve", "agent"),  # no skipping review
        ("in_review", "approve", "agent"),  # a proposal comes first
        ("approved", "withdraw", "applicant"),  # decided
        ("rejected", "withdraw", "applicant"),
        ("closed", "withdraw", "applicant"),
        ("withdrawn", "withdraw", "applicant"),  # twice
        ("paid", "cancel", "agent"),
        ("rejected", "cancel", "agent"),
        ("cancelled", "take", "agent"),
        ("submitted", "withdraw", "agent"),  # staff do not withdraw for the applicant
        ("proposed", "approve", "applicant"),  # applicants do not decide
        ("changes_requested", "resubmit", "agent"),
        ("submitted", "release", "agent"),  # only what is in review can be released
        ("in_review", "send_back", "agent"),  # only a proposal is sent back
        ("act_issued", "void", "agent"),  # once the act is issued, bank details are frozen
        ("submitted", "no_such_action", "agent"),
        ("no_such_state", "take", "agent"),
    ],
)
def test_forbidden_transitions_raise(source, action, by):
    with pytest.raises(TransitionError):
        states.next_state(source, action, by=by)
    assert not states.can(source, action, by=by)


def test_by_must_be_applicant_or_agent():
    with pytest.raises(ValueError, match="by must be"):
        states.next_state("submitted", "take", by="robot")


def test_state_groups_and_labels():
    assert set(OPEN) == states.OPEN_STATES
    assert not states.OPEN_STATES & states.DECIDED_STATES
    assert {State.PAID, State.REJECTED, State.CLOSED} | {
        State.WITHDRAWN,
        State.CANCELLED,
    } == states.FINAL_STATES
    assert set(states.STATE_LABELS) == set(State)
    assert set(states.ACTION_LABELS) == set(Action)
    assert str(states.label("in_review")) == "En instruction"
    assert states.label("unknown") == "unknown"


def _events(app, submission_id: int) -> list[Event]:
    with app.app_context():
        return list(
            get_session().scalars(
                select(Event)
                .where(Event.subject_type == "submission", Event.subject_id == submission_id)
                .order_by(Event.id)
            )
        )


def test_apply_changes_the_state_and_writes_the_event(app):
    publish_space_form(app)
    reference = make_submission(app)
    agent_id = make_user(app, Role.AGENT)
    with app.app_context():
        db = get_session()
        submission = db.scalar(select(Submission).where(Submission.reference == reference))
        submission.apply(db, Action.TAKE, db.get(User, agent_id))
        db.commit()
        submission.apply(db, "propose", None, reason="Dossier complet")
        db.commit()
        assert submission.state == "proposed"
        submission_id = submission.id
    [submit, take, propose] = _events(app, submission_id)
    assert submit.action == "submit"
    assert (take.action, take.from_state, take.to_state) == ("take", "submitted", "in_review")
    assert (take.actor_id, take.details) == (agent_id, {"by": "agent"})
    assert (propose.from_state, propose.to_state) == ("in_review", "proposed")
    assert propose.details == {"by": "agent", "reason": "Dossier complet"}


def test_a_forbidden_apply_changes_nothing(app):
    publish_space_form(app)
    reference = make_submission(app)
    with app.app_context():
        db = get_session()
        submission = db.scalar(select(Submission).where(Submission.reference == reference))
        with pytest.raises(TransitionError):
            submission.apply(db, Action.APPROVE)
        db.commit()
        assert submission.state == "submitted"
        assert [e.action for e in _events(app, submission.id)] == ["submit"]
