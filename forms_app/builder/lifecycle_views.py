"""Builder views for a form's life: preview, publish, schedule, retention, close, reopen,
archive, clone."""

import hashlib
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from forms_app import publishing, retention
from forms_app.builder import bp
from forms_app.builder.forms import CloneForm, RetentionForm, ScheduleForm
from forms_app.builder.views import (
    DESIGN_ROLES,
    actor,
    get_form_or_404,
    render_overview,
    run_action,
)
from forms_app.db import get_session
from forms_app.formdefs import definition as definitions
from forms_app.permissions import roles_required
from forms_app.public.filling import render_form_page


@bp.route("/<slug>/apercu", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def preview(slug: str):
    """Show the draft as applicants will see it, and check answers without storing anything."""
    record = get_form_or_404(slug)
    try:
        definition = definitions.load(record.draft)
    except definitions.DefinitionError as exc:
        return render_overview(record, 400, definition_errors=exc.errors)
    digest = hashlib.sha256(definitions.canonical_json(record.draft).encode()).hexdigest()
    return render_form_page(
        definition,
        f"draft-{digest}",
        action_url=url_for("builder.preview", slug=slug),
        preview=True,
    )


@bp.post("/<slug>/publier")
@roles_required(*DESIGN_ROLES)
def publish(slug: str):
    """Freeze the draft as a new version that applicants will fill."""
    record = get_form_or_404(slug)
    versions = []
    errors, definition_errors = run_action(
        lambda: versions.append(publishing.publish(get_session(), record, actor()))
    )
    if errors or definition_errors:
        return render_overview(record, 400, errors=errors, definition_errors=definition_errors)
    flash(_("La version %(number)d est publiée.", number=versions[0].number), "success")
    return redirect(url_for("builder.edit", slug=slug))


def _transition(slug: str, action, message: str):
    record = get_form_or_404(slug)
    errors, definition_errors = run_action(lambda: action(get_session(), record, actor()))
    if errors or definition_errors:
        return render_overview(record, 400, errors=errors, definition_errors=definition_errors)
    flash(message, "success")
    return redirect(url_for("builder.edit", slug=slug))


@bp.post("/<slug>/fermer")
@roles_required(*DESIGN_ROLES)
def close(slug: str):
    """Stop accepting submissions."""
    return _transition(slug, publishing.close, _("Le formulaire est clos."))


@bp.post("/<slug>/rouvrir")
@roles_required(*DESIGN_ROLES)
def reopen(slug: str):
    """Accept submissions again."""
    return _transition(slug, publishing.reopen, _("Le formulaire est rouvert."))


@bp.post("/<slug>/archiver")
@roles_required(*DESIGN_ROLES)
def archive(slug: str):
    """Hide a form that no longer serves."""
    return _transition(slug, publishing.archive, _("Le formulaire est archivé."))


@bp.route("/<slug>/calendrier", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def schedule(slug: str):
    """Set the opening and closing dates, entered in local time."""
    record = get_form_or_404(slug)
    form = ScheduleForm(data={"opens_at": record.opens_at, "closes_at": record.closes_at})
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    form.opens_at.zone = form.closes_at.zone = zone
    status = 200
    if form.validate_on_submit():
        opens_at, closes_at = form.opens_at.parsed, form.closes_at.parsed
        errors, _definition_errors = run_action(
            lambda: publishing.schedule(get_session(), record, opens_at, closes_at, actor())
        )
        if not errors:
            flash(_("Les dates d’ouverture sont enregistrées."), "success")
            return redirect(url_for("builder.edit", slug=slug))
        form.closes_at.errors.extend(errors)
    if form.is_submitted():
        status = 400
    return render_template("builder/schedule.html", record=record, form=form), status


@bp.route("/<slug>/conservation", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def retention_settings(slug: str):
    """Set how long drafts live and ended requests are kept before anonymisation."""
    record = get_form_or_404(slug)
    form = RetentionForm(
        data={
            "draft_lifetime_days": record.draft_lifetime_days,
            "retention_months": record.retention_months,
        }
    )
    if form.validate_on_submit():
        days, months = form.draft_lifetime_days.parsed, form.retention_months.parsed
        run_action(lambda: publishing.set_retention(get_session(), record, days, months, actor()))
        flash(_("Les durées de conservation sont enregistrées."), "success")
        return redirect(url_for("builder.edit", slug=slug))
    defaults = {
        "days": current_app.config["DRAFT_LIFETIME_DAYS"],
        "months": current_app.config["RETENTION_MONTHS"],
        "most_days": retention.DRAFT_LIFETIME_RANGE[1],
        "most_months": retention.RETENTION_RANGE[1],
    }
    return render_template("builder/retention.html", record=record, form=form, defaults=defaults), (
        400 if form.is_submitted() else 200
    )


@bp.route("/<slug>/cloner", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def clone(slug: str):
    """Start a new form from a copy of this one's draft."""
    record = get_form_or_404(slug)
    form = CloneForm(data={"title": _("Copie de %(title)s", title=record.title)})
    status = 200
    if form.validate_on_submit():
        new_slug, title = form.slug.data, form.title.data.strip()
        errors, _definition_errors = run_action(
            lambda: publishing.clone(get_session(), record, new_slug, title, actor())
        )
        if not errors:
            flash(_("Le formulaire « %(title)s » est créé par copie.", title=title), "success")
            return redirect(url_for("builder.edit", slug=new_slug))
        form.slug.errors.extend(errors)
    if form.is_submitted():
        status = 400
    return render_template("builder/create.html", form=form, source=record), status
