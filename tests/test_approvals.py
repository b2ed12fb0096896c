"""Deciding proposals: four eyes above the threshold, the envelope, bank changes, batches."""

import pytest
from sqlalchemy import event, select

from forms_app import budget, casework
from forms_app.db import get_session
from forms_app.formdefs.nc import format_xpf
from forms_app.models import Approval, Form, OutboxMessage, Role, Submission, User
from tests.test_casework import (
    IBAN,
    OTHER_IBAN,
    act,
    events,
    make_request,
    publish_case_form,
    row,
    staff,
    staff_user,
    to_proposed,
)


@pytest.fixture
def users(app):
    """A form with a threshold of 100 000 F and an envelope of 1 000 000 F, and the staff."""
    publish_case_form(app, envelope=1_000_000, threshold=100_000)
    return staff(app)


def approvals(app, reference: str) -> list[Approval]:
    with app.app_context():
        db = get_session()
        found = db.scalar(select(Submission.id).where(Submission.reference == reference))
        return list(
            db.scalars(
                select(Approval).where(Approval.submission_id == found).order_by(Approval.id)
            )
        )


def change_bank(db, submission, user, revision, iban: str, holder: str):
    """casework.change_bank_details with act()'s argument order."""
    return casework.change_bank_details(
        db, submission, user, iban=iban, holder=holder, revision=revision
    )


def test_below_the_threshold_one_approval_decides(app, users):
    reference = make_request(app, 100_000)  # at the threshold, not above
    to_proposed(app, users, reference)
    assert act(app, casework.approve, reference, users["approver"]) is True
    approved = row(app, reference)
    assert (approved.state, approved.approved_amount) == ("approved", 100_000)
    decision = events(app, reference)[-1]
    assert (decision.action, decision.from_state, decision.to_state) == (
        "approve",
        "proposed",
        "approved",
    )
    assert (decision.actor_id, decision.details["amount"]) == (users["approver"], 100_000)
    [approval] = approvals(app, reference)
    assert (approval.approver_id, approval.amount) == (users["approver"], 100_000)
    assert len(approval.bank_fingerprint) == 64


def test_above_the_threshold_two_distinct_approvers(app, users):
    reference = make_request(app, 150_000)
    to_proposed(app, users, reference)
    assert act(app, casework.approve, reference, users["approver"]) is False
    waiting = row(app, reference)
    assert (waiting.state, waiting.approved_amount) == ("proposed", None)
    first = events(app, reference)[-1]
    assert (first.action, first.to_state, first.details["required"]) == ("approval", None, 2)

    with pytest.raises(casework.CaseworkError, match="déjà validé"):
        act(app, casework.approve, reference, users["approver"])
    assert len(approvals(app, reference)) == 1

    assert act(app, casework.approve, reference, users["approver2"]) is True
    approved = row(app, reference)
    assert (approved.state, approved.approved_amount) == ("approved", 150_000)
    assert {a.approver_id for a in approvals(app, reference)} == {
        users["approver"],
        users["approver2"],
    }
    assert events(app, reference)[-1].details["approvals"] == 2


def test_the_proposer_cannot_approve(app, users):
    both = staff_user(app, Role.AGENT, Role.APPROVER, email="polyvalent@example.nc")
    reference = make_request(app, 50_000)
    act(app, casework.take, reference, both)
    act(app, casework.propose, reference, both, accept=True)
    for decide, extra in (
        (casework.approve, ()),
        (casework.reject, ("Non",)),
        (casework.send_back, ("Non",)),
    ):
        with pytest.raises(casework.CaseworkError, match="Vous avez proposé cette décision"):
            act(app, decide, reference, both, *extra)
    assert row(app, reference).state == "proposed"
    assert approvals(app, reference) == []


def test_an_approval_beyond_the_envelope_is_refused_with_what_remains(app, users):
    first = make_request(app, 100_000)
    second = make_request(app, 100_000, email="autre@example.nc")
    for reference in (first, second):
        to_proposed(app, users, reference)
    with app.app_context():  # use up 950 000 F of the 1 000 000 F envelope
        db = get_session()
        submission = db.scalar(select(Submission).where(Submission.reference == first))
        submission.proposed_amount = 950_000
        submission.proposal = "accept"
        db.commit()
    act(app, casework.approve, first, users["approver"])
    act(app, casework.approve, first, users["approver2"])
    assert row(app, first).state == "approved"

    with pytest.raises(casework.CaseworkError) as refused:
        act(app, casework.approve, second, users["approver"])
    assert format_xpf(50_000) in str(refused.value)
    assert format_xpf(100_000) in str(refused.value)
    assert row(app, second).state == "proposed"
    assert approvals(app, second) == []


def test_changed_bank_details_void_the_approval(app, users):
    reference = make_request(app, 50_000)
    to_proposed(app, users, reference)
    act(app, casework.approve, reference, users["approver"])
    assert row(app, reference).state == "approved"

    act(app, change_bank, reference, users["agent"], OTHER_IBAN, "M. Jean Dupont")
    changed = row(app, reference)
    assert (changed.state, changed.approved_amount) == ("proposed", None)
    assert (changed.answers["iban"], changed.answers["titulaire_compte"]) == (
        OTHER_IBAN,
        "M. Jean Dupont",
    )
    [voided] = approvals(app, reference)
    assert voided.voided_at is not None
    void, change = events(app, reference)[-2:]
    assert (void.action, void.from_state, void.to_state) == ("void", "approved", "proposed")
    assert void.details["voided_approvals"] == 1
    assert (change.action, change.details["iban_end"]) == ("change_bank_details", "7A89")

    # The same approver approves again, on the new bank details.
    assert act(app, casework.approve, reference, users["approver"]) is True
    fresh = [a for a in approvals(app, reference) if a.voided_at is None]
    assert [a.bank_fingerprint != voided.bank_fingerprint for a in fresh] == [True]


def test_changed_bank_details_void_a_first_approval_above_the_threshold(app, users):
    reference = make_request(app, 500_000)
    to_proposed(app, users, reference)
    act(app, casework.approve, reference, users["approver"])
    act(app, change_bank, reference, users["agent"], OTHER_IBAN, "SARL Le Lagon Bleu")
    assert row(app, reference).state == "proposed"
    # The first approval no longer counts: the second approver's is not enough.
    assert act(app, casework.approve, reference, users["approver2"]) is False
    assert act(app, casework.approve, reference, users["approver"]) is True


def test_bank_details_must_be_valid_and_new(app, users):
    reference = make_request(app, 50_000)
    to_proposed(app, users, reference)
    with pytest.raises(casework.CaseworkError, match="IBAN"):
        act(app, change_bank, reference, users["agent"], "FR76 1234", "SARL")
    with pytest.raises(casework.CaseworkError, match="déjà celles"):
        act(app, change_bank, reference, users["agent"], IBAN, "sarl le lagon  bleu")
    with pytest.raises(casework.CaseworkError, match="agents instructeurs"):
        act(app, change_bank, reference, users["approver"], OTHER_IBAN, "SARL")


def test_batch_approval_records_each_and_survives_a_failure(app, users):
    references = [make_request(app, 60_000, email=f"d{i}@example.nc") for i in range(3)]
    for reference in references:
        to_proposed(app, users, reference)
    with app.test_request_context():
        db = get_session()
        approver = db.get(User, users["approver"])
        items = []
        for number, reference in enumerate(references):
            found = db.scalar(select(Submission).where(Submission.reference == reference))
            stale = number == 1  # the page showed this one before someone changed it
            items.append((found, found.revision - 1 if stale else found.revision))
        results = casework.batch_approve(db, items, approver)
        db.commit()
    assert [reference for reference, _ in results] == references
    assert [error is None for _, error in results] == [True, False, True]
    assert "modifiée par quelqu’un d’autre" in results[1][1]
    assert [row(app, r).state for r in references] == ["approved", "proposed", "approved"]
    for reference in (references[0], references[2]):
        assert [e.action for e in events(app, reference)][-1] == "approve"
        assert len(approvals(app, reference)) == 1
    assert approvals(app, references[1]) == []
    with app.app_context():  # the savepoints' outbox rows went out with the real commit
        statuses = get_session().scalars(select(OutboxMessage.status)).all()
    assert statuses and "pending" not in statuses


def test_reject_flows(app, users):
    # A proposal to reject, once approved, ends rejected with the reviewer's reason.
    proposed_refusal = make_request(app, 50_000)
    to_proposed(app, users, proposed_refusal, accept=False, reason="Entreprise hors province")
    assert act(app, casework.approve, proposed_refusal, users["approver"]) is True
    refused = row(app, proposed_refusal)
    assert (refused.state, refused.decision_reason, refused.approved_amount) == (
        "rejected",
        "Entreprise hors province",
        None,
    )
    assert events(app, proposed_refusal)[-1].action == "reject"

    # The approver may refuse an acceptance outright, with a reason.
    accepted = make_request(app, 50_000, email="b@example.nc")
    to_proposed(app, users, accepted)
    with pytest.raises(casework.CaseworkError, match="motif"):
        act(app, casework.reject, accepted, users["approver"], " ")
    act(app, casework.reject, accepted, users["approver"], "Pièces falsifiées")
    assert (row(app, accepted).state, row(app, accepted).decision_reason) == (
        "rejected",
        "Pièces falsifiées",
    )


def test_send_back_returns_to_review_and_voids_partial_approvals(app, users):
    reference = make_request(app, 500_000)
    to_proposed(app, users, reference)
    act(app, casework.approve, reference, users["approver"])
    act(app, casework.send_back, reference, users["approver2"], "Montant à justifier")
    back = row(app, reference)
    assert (back.state, back.proposal, back.proposed_amount) == ("in_review", None, None)
    assert events(app, reference)[-1].details["reason"] == "Montant à justifier"
    assert all(a.voided_at is not None for a in approvals(app, reference))
    act(app, casework.propose, reference, users["agent"], accept=True, amount=400_000)
    assert act(app, casework.approve, reference, users["approver"]) is False


def test_budget_totals_in_one_query(app, users):
    paid_ref, approved_ref, proposed_ref = (
        make_request(app, amount, email=f"{n}@example.nc")
        for n, amount in (("p", 30_000), ("a", 40_000), ("q", 70_000))
    )
    for reference in (paid_ref, approved_ref, proposed_ref):
        to_proposed(app, users, reference)
    for reference in (paid_ref, approved_ref):
        act(app, casework.approve, reference, users["approver"])
    with app.app_context():
        db = get_session()
        paid = db.scalar(select(Submission).where(Submission.reference == paid_ref))
        for action in ("issue_act", "sign", "pay"):  # finance's steps, run by the system here
            paid.apply(db, action)
        db.commit()
        form = db.scalar(select(Form).where(Form.slug == "cas"))
        budget.form_settings(form)  # the version is loaded once, outside the count
        statements = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        engine = db.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            totals = budget.totals(db, form)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert totals == {
        "envelope": 1_000_000,
        "proposed": 70_000,
        "approved": 70_000,
        "paid": 30_000,
        "remaining": 930_000,
    }
    assert len(statements) == 1


def test_a_batch_keeps_a_running_total_of_the_envelope(app, users):
    """Each approval counts the ones before it in the batch; the form is summed only once."""
    amounts = [90_000] * 10 + [100_001, 100_000]  # the 11th passes what is left, the 12th fits
    references = [make_request(app, a, email=f"lot{i}@example.nc") for i, a in enumerate(amounts)]
    for reference in references:
        to_proposed(app, users, reference)
    statements = []
    with app.test_request_context():
        db = get_session()
        approver = db.get(User, users["approver"])
        items = []
        for reference in references:
            found = db.scalar(select(Submission).where(Submission.reference == reference))
            items.append((found, found.revision))
        engine = db.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            results = casework.batch_approve(db, items, approver)
            db.commit()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    errors = [error for _, error in results]
    assert errors[:10] == [None] * 10 and errors[11] is None
    assert format_xpf(100_000) in errors[10] and format_xpf(100_001) in errors[10]
    states = [row(app, reference).state for reference in references]
    assert states == ["approved"] * 10 + ["proposed", "approved"]
    with app.app_context():
        form = get_session().scalar(select(Form))
        assert budget.totals(get_session(), form)["remaining"] == 0
    sums = [s for s in statements if "sum(" in s.lower()]
    assert len(sums) == 1, sums  # the envelope is summed once for the whole batch
