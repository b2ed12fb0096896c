"""Signaler un problème: the report form every page links to, and its acknowledgement.

The footer of every page links here with the page the visitor was on and, on a form's
pages, the form's slug (`problem_report_url`). Posting is rate-limited per client address
(PROBLEM_REPORT_RATE_LIMIT). A hidden "trap" field that people never see drops, silently,
what bots fill in.
"""

from flask import redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import ValidationError

from forms_app import problem_reports
from forms_app.db import get_session
from forms_app.formdefs import definition as definitions
from forms_app.limiter import limit_from_config
from forms_app.models import Form, FormStatus
from forms_app.public import bp

REPORT_KEY = "last_problem_report"
# View arguments whose value is a credential: never put them in a report's page.
SECRET_ARGUMENTS = ("token",)


def _checked_by(clean):
    """A WTForms validator running the domain's own check, so both say the same."""

    def validate(_form, field) -> None:
        try:
            clean(field.data)
        except problem_reports.ReportError as error:
            raise ValidationError(str(error)) from None

    return validate


class ProblemReportForm(FlaskForm):
    page = StringField(
        _l("Page concernée (facultatif)"), validators=[_checked_by(problem_reports.clean_page)]
    )
    description = TextAreaField(
        _l("Décrivez le problème"),
        render_kw={"rows": 6, "data-maxlength": problem_reports.MAX_DESCRIPTION},
        validators=[_checked_by(problem_reports.clean_description)],
    )
    contact_email = EmailField(
        _l("Votre adresse e-mail (facultatif)"),
        validators=[_checked_by(problem_reports.clean_email)],
    )
    form_slug = HiddenField()
    # The trap: hidden from people (and from screen readers), filled in by bots.
    website = StringField(_l("Ne remplissez pas ce champ"))


def reported_form(slug: str | None) -> Form | None:
    """The form a report is about, if that slug names a form the public has seen."""
    if not slug:
        return None
    form = get_session().scalar(select(Form).where(Form.slug == slug[:80]))
    if form is None or form.current_version is None or form.status is FormStatus.DRAFT:
        return None
    return form


def public_title(form: Form) -> str:
    return definitions.of_version(form.current_version).title


@bp.route("/signaler-un-probleme", methods=["GET", "POST"])
@limit_from_config("PROBLEM_REPORT_RATE_LIMIT")
def report_problem():
    """Ask what went wrong, where; record it (checked, rate-limited)."""
    report_form = ProblemReportForm()
    if request.method == "GET":
        report_form.page.data = _prefilled_page(request.args.get("page"))
        report_form.form_slug.data = request.args.get("form", "")[:80]
    concerned = reported_form(report_form.form_slug.data)
    if report_form.validate_on_submit():
        if report_form.website.data:
            return redirect(url_for("public.report_received"))  # a bot: keep nothing
        db = get_session()
        try:
            report = problem_reports.create(
                db,
                page=report_form.page.data,
                description=report_form.description.data,
                contact_email=report_form.contact_email.data,
                form_id=concerned.id if concerned else None,
            )
        except problem_reports.ReportError as error:
            getattr(report_form, error.field or "description").errors.append(str(error))
            return _form_page(report_form, concerned), 422
        db.commit()
        session[REPORT_KEY] = report.id
        return redirect(url_for("public.report_received"))
    return _form_page(report_form, concerned), 400 if report_form.errors else 200


@bp.get("/signaler-un-probleme/merci")
def report_received():
    """Thank the visitor, with the report's number to quote."""
    return render_template("public/report_received.html", number=session.get(REPORT_KEY))


def _form_page(report_form: ProblemReportForm, concerned: Form | None) -> str:
    return render_template(
        "public/report.html",
        report_form=report_form,
        concerned_title=public_title(concerned) if concerned else None,
        back=report_form.page.data if not report_form.page.errors else None,
    )


def _prefilled_page(page: str | None) -> str:
    try:
        return problem_reports.clean_page(page)
    except problem_reports.ReportError:
        return ""  # an address elsewhere is not prefilled: the visitor types one if they wish


@bp.app_template_global()
def problem_report_url() -> str:
    """The report page, prefilled with this page's path and the form it belongs to, if any.

    Used by the footer of every page, error pages included: it never touches the database.
    """
    if request.endpoint in ("public.report_problem", "public.report_received"):
        return url_for("public.report_problem")
    path = request.path
    view_args = request.view_args or {}
    for name, value in view_args.items():
        if name in SECRET_ARGUMENTS and value:
            path = path.replace(str(value), "…")
    values = {"page": path[: problem_reports.MAX_PAGE]}
    if isinstance(view_args.get("slug"), str):
        values["form"] = view_args["slug"]
    return url_for("public.report_problem", **values)
