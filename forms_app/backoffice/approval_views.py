"""The approvers' queue: proposals across forms, decided one by one or a page at a time."""

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from forms_app import budget, casework, permissions
from forms_app.backoffice import bp
from forms_app.db import get_session
from forms_app.models import Approval, Flag, Form, Role, Submission
from forms_app.permissions import roles_required
from workflows.states import State

PAGE_SIZE = 50


@dataclass
class QueueRow:
    """One proposal as the queue shows it."""

    submission: Submission
    flags: int
    approvals: int
    required: int
    refusal: str | None  # why the signed-in approver may not approve it, if so


@bp.get("/validation/")
@roles_required(Role.APPROVER)
def approval_queue():
    """List the proposals awaiting a decision, oldest request first, a page at a time."""
    db = get_session()
    page = max(1, request.args.get("page", 1, type=int))
    flags = (
        select(Flag.submission_id, func.count().label("n")).group_by(Flag.submission_id).subquery()
    )
    approvals = (
        select(Approval.submission_id, func.count().label("n"))
        .where(Approval.voided_at.is_(None))
        .group_by(Approval.submission_id)
        .subquery()
    )
    rows = db.execute(
        select(Submission, func.coalesce(flags.c.n, 0), func.coalesce(approvals.c.n, 0))
        .outerjoin(flags, flags.c.submission_id == Submission.id)
        .outerjoin(approvals, approvals.c.submission_id == Submission.id)
        .where(Submission.state == State.PROPOSED)
        .options(selectinload(Submission.form), selectinload(Submission.proposed_by))
        .order_by(Submission.submitted_at, Submission.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    me = current_user._get_current_object()
    queue = [
        QueueRow(
            submission=found,
            flags=flag_count,
            approvals=approval_count,
            required=permissions.required_approvals(found),
            refusal=permissions.refusal(me, "approve", found),
        )
        for found, flag_count, approval_count in rows[:PAGE_SIZE]
    ]
    return render_template(
        "backoffice/approval_queue.html",
        queue=queue,
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        budgets=_budgets(row.submission.form for row in queue),
    )


def _budgets(forms) -> list[tuple[Form, dict]]:
    """Each form's envelope, approved and remaining totals, once per form."""
    seen: dict[int, Form] = {}
    for form in forms:
        seen.setdefault(form.id, form)
    db = get_session()
    return [(form, budget.totals(db, form)) for form in seen.values()]


def _posted_items() -> list[tuple[int, int]]:
    """The checked proposals, as (submission id, revision shown); 400 on a forged value."""
    items = []
    for value in request.form.getlist("items"):
        ident, _sep, revision = value.partition(":")
        if not (ident.isdigit() and revision.isdigit()):
            abort(400)
        items.append((int(ident), int(revision)))
    return items


@bp.post("/validation/lot")
@roles_required(Role.APPROVER)
def approve_batch():
    """Approve every checked proposal, each on its own; show what became of each."""
    items = _posted_items()
    if not items:
        flash(_("Cochez au moins une proposition à approuver."), "error")
        return redirect(url_for("backoffice.approval_queue"))
    db = get_session()
    found = {
        s.id: s
        for s in db.scalars(
            select(Submission)
            .where(Submission.id.in_([ident for ident, _rev in items]))
            .options(selectinload(Submission.form))
        )
    }
    known = [(found[ident], revision) for ident, revision in items if ident in found]
    results = casework.batch_approve(db, known, current_user._get_current_object())
    db.commit()
    by_reference = {s.reference: s for s, _rev in known}
    outcomes = [
        (reference, _outcome(by_reference.get(reference), error), error)
        for reference, error in results
    ]
    missing = len(items) - len(known)
    return render_template(
        "backoffice/approval_batch.html",
        outcomes=outcomes,
        missing=missing,
        budgets=_budgets(s.form for s, _rev in known),
    )


def _outcome(found: Submission | None, error: str | None) -> str:
    """'approved', 'rejected' (a proposed refusal confirmed), 'waiting' (a second approver
    is needed) or 'refused' (nothing recorded, `error` says why)."""
    if error is not None or found is None:
        return "refused"
    if found.state in (State.APPROVED, State.REJECTED):
        return str(found.state)
    return "waiting"
