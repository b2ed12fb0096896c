"""The inbox of a form: its requests, filtered, by priority then age, a page at a time."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from forms_app import budget, search
from forms_app.backoffice import bp, listing
from forms_app.db import get_session, utcnow
from forms_app.formdefs import definition as definitions
from forms_app.formdefs.definition import FormDefinition
from forms_app.models import Flag, Form, FormStatus, Role, Submission, User, UserRole
from forms_app.permissions import roles_required
from workflows import states

INBOX_ROLES = (Role.AGENT, Role.APPROVER, Role.ADMIN)


def get_form_or_404(session: Session, slug: str) -> tuple[Form, FormDefinition]:
    """The form named by `slug` and its current definition; 404 if it was never published."""
    form = session.scalar(
        select(Form).where(Form.slug == slug).options(joinedload(Form.current_version))
    )
    if form is None or form.current_version is None:
        abort(404)
    version = form.current_version
    return form, definitions.of_version(version)


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


@bp.get("/demarches/<slug>/demandes")
@roles_required(*INBOX_ROLES)
def inbox(slug: str):
    """List a form's requests with the agent's filters, a page at a time."""
    session = get_session()
    form, definition = get_form_or_404(session, slug)
    filters = listing.parse_filters(request.args)
    rows, following = [], None
    if not filters.errors:
        overdue_days = current_app.config["OVERDUE_AFTER_DAYS"]
        rows, following = listing.page(
            session,
            form,
            filters,
            user_id=current_user.id,
            tz=local_zone(),
            after=listing.Cursor.decode(request.args.get("apres")),
            overdue_before=utcnow() - timedelta(days=overdue_days),
            name_of=lambda answers: search.applicant_name(definition, answers),
        )
    return render_template(
        "backoffice/inbox.html",
        form=form,
        definition=definition,
        filters=filters,
        rows=rows,
        following=following.encode() if following else None,
        paged="apres" in request.args,
        state_options=[(s, states.label(s)) for s in listing.LISTED_STATES],
        flag_kinds=flag_kinds(session),
        assignees=assignee_options(session),
        state_label=states.label,
        budgets=[(form, budget.totals(session, form))],
    )


def flag_kinds(session: Session) -> list[str]:
    """The kinds of flag raised so far, for the filter's choices."""
    return list(session.scalars(select(Flag.kind).distinct().order_by(Flag.kind)))


def assignee_options(session: Session) -> list[tuple[int, str]]:
    """Active staff who may work requests, as (id, name), for the assignee filter."""
    statement = (
        select(User.id, User.name)
        .where(User.active.is_(True))
        .where(User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(INBOX_ROLES))))
        .order_by(User.name, User.id)
    )
    return [(row.id, row.name) for row in session.execute(statement)]


@bp.app_template_global()
def inbox_overview() -> list[tuple[Form, list[tuple[str, str, int]]]]:
    """Published forms (archived ones only with requests), each with its (state, label, count)."""
    session = get_session()
    counts = state_counts(session)
    forms = [
        form
        for form in session.scalars(
            select(Form).where(Form.current_version_id.is_not(None)).order_by(Form.slug)
        )
        if form.status is not FormStatus.ARCHIVED or form.id in counts
    ]
    return [
        (
            form,
            [
                (state, states.label(state), counts[form.id][state])
                for state in listing.LISTED_STATES
                if counts.get(form.id, {}).get(state)
            ],
        )
        for form in forms
    ]


def state_counts(session: Session) -> dict[int, dict[str, int]]:
    """How many requests each form has in each state (drafts left out), in one query."""
    counts: dict[int, dict[str, int]] = {}
    statement = (
        select(Submission.form_id, Submission.state, func.count())
        .where(Submission.state != states.State.DRAFT.value)
        .group_by(Submission.form_id, Submission.state)
    )
    for form_id, state, count in session.execute(statement):
        counts.setdefault(form_id, {})[state] = count
    return counts
