"""A form's budget envelope: what is proposed, approved and paid against it."""

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from forms_app.formdefs import definition as definitions
from forms_app.models import Form, Submission
from workflows.states import State

# Approved and every payment step after it: the money is committed.
COMMITTED_STATES = (State.APPROVED, State.ACT_ISSUED, State.SIGNED, State.PAID)


def form_settings(form: Form) -> dict[str, Any]:
    """The settings of the form's current version (envelope, approval threshold...)."""
    version = form.current_version
    if version is None:
        return {}
    return definitions.of_version(version).settings


def envelope(form: Form) -> int | None:
    """The form's budget envelope in XPF, or None when it has none."""
    value = form_settings(form).get("budget_envelope")
    return int(value) if value is not None else None


def approval_threshold(form: Form) -> int | None:
    """Above this proposed amount (XPF), two distinct approvers are needed; None: never."""
    value = form_settings(form).get("approval_threshold")
    return int(value) if value is not None else None


def totals(session: Session, form: Form) -> dict[str, int | None]:
    """Proposed, approved (committed, paid included) and paid totals, in one aggregate query.

    `remaining` is the envelope minus what is approved: proposals reserve nothing until an
    approver accepts them.
    """

    def total(condition, column):
        return func.coalesce(func.sum(case((condition, column), else_=0)), 0)

    row = session.execute(
        select(
            total(
                (Submission.state == State.PROPOSED) & (Submission.proposal == "accept"),
                Submission.proposed_amount,
            ),
            total(Submission.state.in_(COMMITTED_STATES), Submission.approved_amount),
            total(Submission.state == State.PAID, Submission.approved_amount),
        ).where(
            Submission.form_id == form.id,
            # only the states that count, so the (form_id, state) index bounds the scan
            Submission.state.in_((State.PROPOSED, *COMMITTED_STATES)),
        )
    ).one()
    proposed, approved, paid = (int(value) for value in row)
    limit = envelope(form)
    return {
        "envelope": limit,
        "proposed": proposed,
        "approved": approved,
        "paid": paid,
        "remaining": None if limit is None else limit - approved,
    }
