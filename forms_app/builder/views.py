"""Builder views: the list of forms, a new form, the form's page, its settings and rules."""

import json
from collections.abc import Callable, Sequence
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forms_app import publishing
from forms_app.builder import bp, drafts
from forms_app.builder.drafts import working_copy
from forms_app.builder.forms import (
    TYPE_LABELS,
    AddPageForm,
    CreateFormForm,
    RulesForm,
    SettingsForm,
)
from forms_app.db import get_session, utcnow
from forms_app.formdefs.definition import DefinitionError, canonical_json, parse_json
from forms_app.models import Form, FormStatus, Role, User
from forms_app.permissions import roles_required

DESIGN_ROLES = (Role.DESIGNER, Role.ADMIN)
DefinitionErrors = list[tuple[str, str]]


def get_form_or_404(slug: str) -> Form:
    """The form with this slug, or a 404 page."""
    form = publishing.get_form(get_session(), slug)
    if form is None:
        abort(404)
    return form


def actor() -> User:
    """The signed-in designer, as recorded in audit events and versions."""
    return current_user._get_current_object()


def store_draft(record: Form, draft: dict[str, Any]) -> DefinitionErrors:
    """Save an edited draft and commit; on invalid definitions roll back and return the errors."""
    session = get_session()
    try:
        publishing.save_draft(session, record, draft, actor())
    except DefinitionError as exc:
        session.rollback()
        return exc.errors
    session.commit()
    return []


def run_action(action: Callable[[], Any]) -> tuple[list[str], DefinitionErrors]:
    """Run a publishing action and commit; on refusal roll back and return the messages."""
    session = get_session()
    try:
        action()
    except publishing.PublishingError as exc:
        session.rollback()
        return [str(exc)], []
    except DefinitionError as exc:
        session.rollback()
        return [], exc.errors
    session.commit()
    return [], []


def apply_edit(
    record: Form, change: Callable[[dict], Any], message: Callable[[Any], str], anchor=None
):
    """Apply `change` to a copy of the draft and save it; answer as every edit action does."""
    draft = working_copy(record.draft)
    try:
        result = change(draft)
    except drafts.DraftEditError as exc:
        return render_overview(record, 400, errors=[str(exc)])
    errors = store_draft(record, draft)
    if errors:
        return render_overview(record, 400, definition_errors=errors)
    flash(message(result), "success")
    return redirect(url_for("builder.edit", slug=record.slug, _anchor=anchor))


def render_overview(
    record: Form,
    status: int = 200,
    *,
    errors: Sequence[str] = (),
    definition_errors: Sequence[tuple[str, str]] = (),
    page_form: AddPageForm | None = None,
):
    """The form's page: state, actions, settings, pages and fields."""
    return render_template(
        "builder/form.html",
        record=record,
        draft=record.draft,
        status_label=publishing.STATUS_LABELS[record.status],
        changed=record.current_version is not None and publishing.draft_changed(record),
        is_open=record.is_open(utcnow()),
        type_labels=TYPE_LABELS,
        page_form=page_form or AddPageForm(formdata=None),
        errors=errors,
        definition_errors=definition_errors,
        FormStatus=FormStatus,
    ), status


@bp.get("/")
@roles_required(*DESIGN_ROLES)
def index():
    """List the forms, archived ones only on request."""
    show_archived = request.args.get("archives") == "1"
    query = select(Form).options(selectinload(Form.current_version)).order_by(Form.slug)
    if not show_archived:
        query = query.where(Form.status != FormStatus.ARCHIVED)
    records = get_session().scalars(query).all()
    rows = [
        (
            record,
            publishing.STATUS_LABELS[record.status],
            record.current_version is not None and publishing.draft_changed(record),
        )
        for record in records
    ]
    return render_template("builder/index.html", rows=rows, show_archived=show_archived)


@bp.route("/nouveau", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def create():
    """Start a new form from an identifier and a title."""
    form = CreateFormForm()
    status = 200
    if form.validate_on_submit():
        session = get_session()
        data = publishing.new_definition(form.slug.data, form.title.data.strip())
        try:
            publishing.create_form(session, data, actor())
        except publishing.PublishingError as exc:
            session.rollback()
            form.slug.errors.append(str(exc))
        else:
            session.commit()
            flash(_("Le formulaire « %(title)s » est créé.", title=data["title"]), "success")
            return redirect(url_for("builder.edit", slug=form.slug.data))
    if form.is_submitted():
        status = 400
    return render_template("builder/create.html", form=form, source=None), status


@bp.get("/<slug>/")
@roles_required(*DESIGN_ROLES)
def edit(slug: str):
    """Show a form: its state and actions, settings, pages and fields."""
    return render_overview(get_form_or_404(slug))


@bp.route("/<slug>/parametres", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def settings(slug: str):
    """Edit the title, description and administrative settings of the draft."""
    record = get_form_or_404(slug)
    draft = working_copy(record.draft)
    form = SettingsForm(data=_settings_data(draft))
    status, definition_errors = 200, []
    if form.validate_on_submit():
        _apply_settings(draft, form)
        definition_errors = store_draft(record, draft)
        if not definition_errors:
            flash(_("Les paramètres sont enregistrés."), "success")
            return redirect(url_for("builder.edit", slug=slug))
    if form.is_submitted():
        status = 400
    return render_template(
        "builder/settings.html", record=record, form=form, definition_errors=definition_errors
    ), status


def _settings_data(draft: dict[str, Any]) -> dict[str, Any]:
    """The settings form's initial values from the draft."""
    values = draft.get("settings", {})
    return {
        "title": draft.get("title", ""),
        "description": draft.get("description", ""),
        **{name: values.get(name, "") for name in ("reference_prefix", "imputation")},
        **{name: values.get(name, "") for name in ("signer_title", "contact")},
        "budget_envelope": values.get("budget_envelope"),
        "approval_threshold": values.get("approval_threshold"),
        "legal_references": "\n".join(values.get("legal_references", [])),
    }


def _apply_settings(draft: dict[str, Any], form: SettingsForm) -> None:
    """Write the submitted settings into the draft, leaving out empty ones."""
    draft["title"] = form.title.data.strip()
    description = form.description.data.strip()
    if description:
        draft["description"] = description
    else:
        draft.pop("description", None)
    values = {
        "reference_prefix": form.reference_prefix.data.strip(),
        "budget_envelope": form.budget_envelope.parsed,
        "imputation": form.imputation.data.strip(),
        "signer_title": form.signer_title.data.strip(),
        "approval_threshold": form.approval_threshold.parsed,
        "legal_references": [
            line.strip() for line in form.legal_references.data.splitlines() if line.strip()
        ],
        "contact": form.contact.data.strip(),
    }
    values = {name: value for name, value in values.items() if value not in (None, "", [])}
    if values:
        draft["settings"] = values
    else:
        draft.pop("settings", None)


@bp.route("/<slug>/regles", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def rules(slug: str):
    """Edit the rules (computed values, eligibility, amount, priority) as JSON."""
    record = get_form_or_404(slug)
    draft = working_copy(record.draft)
    form = RulesForm(data={"rules": canonical_json(draft.get("rules", {}))})
    status, definition_errors = 200, []
    if form.validate_on_submit():
        text = form.rules.data.strip() or "{}"
        try:
            value = parse_json(text)
        except json.JSONDecodeError as exc:
            form.rules.errors.append(
                _(
                    "JSON invalide (ligne %(line)d, colonne %(col)d).",
                    line=exc.lineno,
                    col=exc.colno,
                )
            )
        else:
            if not isinstance(value, dict):
                form.rules.errors.append(_("Les règles doivent être un objet JSON."))
            else:
                if value:
                    draft["rules"] = value
                else:
                    draft.pop("rules", None)
                definition_errors = store_draft(record, draft)
                if not definition_errors:
                    flash(_("Les règles sont enregistrées."), "success")
                    return redirect(url_for("builder.edit", slug=slug))
    if form.is_submitted():
        status = 400
    return render_template(
        "builder/rules.html",
        record=record,
        form=form,
        definition_errors=definition_errors,
        fields=[f for page in record.draft["pages"] for f in page["fields"]],
    ), status
