"""Problem reports in the ops area: the list with its filters, one report, answer, close.

Agents and administrators read, answer (by e-mail, when the visitor left an address),
close and reopen reports; every change is audited by `problem_reports`.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from forms_app import problem_reports as reports
from forms_app.db import get_session
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import nc
from forms_app.models import Event, Form, ProblemReport, ReportStatus, Role
from forms_app.ops import bp
from forms_app.permissions import roles_required

REPORT_ROLES = (Role.AGENT, Role.ADMIN)
STATUS_LABELS = {
    ReportStatus.NEW: _l("Nouveau"),
    ReportStatus.ANSWERED: _l("Répondu"),
    ReportStatus.CLOSED: _l("Clos"),
}
ACTION_LABELS = {
    "report_problem": _l("Signalement reçu"),
    "answer_report": _l("Réponse envoyée par e-mail"),
    "close_report": _l("Signalement clos"),
    "reopen_report": _l("Signalement rouvert"),
}


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Votre réponse"),
        render_kw={"rows": 8, "data-maxlength": reports.MAX_ANSWER},
        validators=[
            DataRequired(_l("Écrivez votre réponse.")),
            Length(
                max=reports.MAX_ANSWER,
                message=_l("La réponse ne doit pas dépasser 5 000 caractères."),
            ),
        ],
    )


class StatusForm(FlaskForm):
    """Only the CSRF token: closing and reopening take no input."""


@bp.get("/signalements", endpoint="problem_reports")
@roles_required(*REPORT_ROLES)
def list_reports():
    """List reports, newest first, filtered by status, form and period, 50 at a time."""
    session = get_session()
    filters, raw, errors = _parse_filters()
    rows, following = [], None
    if not errors:
        after = reports.Cursor.decode(request.args.get("apres"))
        rows, following = reports.page(session, filters, after=after)
    return render_template(
        "ops/reports.html",
        rows=rows,
        following=following.encode() if following else None,
        paged="apres" in request.args,
        raw=raw,
        query={k: v for k, v in raw.items() if v},
        errors=errors,
        forms=_form_choices(session),
        status_labels=STATUS_LABELS,
        title_of=_title,
    ), 400 if errors else 200


@bp.get("/signalements/<int:report_id>", endpoint="problem_report")
@roles_required(*REPORT_ROLES)
def show_report(report_id: int):
    """Show one report, its history, and what may be done with it."""
    return _report_page(_get_report_or_404(report_id))


@bp.post("/signalements/<int:report_id>/reponse", endpoint="answer_problem_report")
@roles_required(*REPORT_ROLES)
def answer_report(report_id: int):
    """E-mail an answer to the visitor who reported the problem."""
    session = get_session()
    report = _get_report_or_404(report_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _report_page(report, answer_form=form), 400
    try:
        reports.answer(session, report, form.answer.data, current_user)
    except reports.ReportError as error:
        form.answer.errors.append(str(error))
        return _report_page(report, answer_form=form), 422
    except reports.ReportRefused as error:
        session.rollback()
        return _report_page(report, refusal=str(error)), 409
    session.commit()
    flash(_("Votre réponse est envoyée à %(email)s.", email=report.contact_email), "success")
    return redirect(url_for("ops.problem_report", report_id=report.id))


@bp.post("/signalements/<int:report_id>/cloture", endpoint="close_problem_report")
@roles_required(*REPORT_ROLES)
def close_report(report_id: int):
    """Close a report that needs nothing more."""
    return _change_status(report_id, reports.close, _("Le signalement est clos."))


@bp.post("/signalements/<int:report_id>/reouverture", endpoint="reopen_problem_report")
@roles_required(*REPORT_ROLES)
def reopen_report(report_id: int):
    """Open a closed report again."""
    return _change_status(report_id, reports.reopen, _("Le signalement est rouvert."))


def _change_status(report_id: int, change, done: str):
    session = get_session()
    report = _get_report_or_404(report_id)
    if not StatusForm().validate_on_submit():
        abort(400)
    try:
        change(session, report, current_user)
    except reports.ReportRefused as error:
        session.rollback()
        return _report_page(report, refusal=str(error)), 409
    session.commit()
    flash(done, "success")
    return redirect(url_for("ops.problem_report", report_id=report.id))


def _get_report_or_404(report_id: int) -> ProblemReport:
    report = get_session().get(ProblemReport, report_id)
    if report is None:
        abort(404)
    return report


def _report_page(report: ProblemReport, *, answer_form=None, refusal: str | None = None) -> str:
    history = get_session().scalars(
        select(Event)
        .where(Event.subject_type == ProblemReport.__tablename__, Event.subject_id == report.id)
        .options(joinedload(Event.actor))
        .order_by(Event.id)
    )
    return render_template(
        "ops/report.html",
        report=report,
        answer_form=answer_form or AnswerForm(formdata=None),
        status_form=StatusForm(formdata=None),
        refusal=refusal,
        history=list(history),
        status_labels=STATUS_LABELS,
        action_labels=ACTION_LABELS,
        title_of=_title,
    )


def _title(form: Form | None) -> str:
    if form is None:
        return ""
    if form.current_version is None:
        return form.title
    return definitions.of_version(form.current_version).title


def _form_choices(session) -> list[tuple[int, str]]:
    """Forms that were ever published, as (id, title), for the form filter."""
    found = session.scalars(
        select(Form).where(Form.current_version_id.is_not(None)).order_by(Form.slug)
    )
    return [(form.id, _title(form)) for form in found]


def _parse_filters() -> tuple[reports.Filters, dict[str, str], dict[str, str]]:
    """The filters of the query string, what was typed, and a French message per bad one."""
    args = request.args
    raw = {name: args.get(name, "").strip()[:30] for name in ("statut", "formulaire", "du", "au")}
    errors: dict[str, str] = {}
    status = raw["statut"] if raw["statut"] in {s.value for s in ReportStatus} else None
    form_id = int(raw["formulaire"]) if raw["formulaire"].isdigit() else None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    days = {}
    for name in ("du", "au"):
        if raw[name]:
            try:
                days[name] = nc.parse_date(raw[name])
            except nc.InvalidValue as error:
                errors[name] = error.message
    if "du" in days and "au" in days and days["au"] < days["du"]:
        errors["au"] = _("La date de fin doit être le même jour que la date de début ou après.")
    start = datetime.combine(days["du"], time(), tzinfo=zone) if "du" in days else None
    end = (
        datetime.combine(days["au"] + timedelta(days=1), time(), tzinfo=zone)
        if "au" in days
        else None
    )
    filters = reports.Filters(
        status=ReportStatus(status) if status else None, form_id=form_id, start=start, end=end
    )
    return filters, raw, errors
