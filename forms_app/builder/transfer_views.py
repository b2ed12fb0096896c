"""Builder views moving definitions in and out as JSON files."""

import json
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from forms_app import publishing
from forms_app.builder import bp
from forms_app.builder.forms import ImportForm
from forms_app.builder.views import DESIGN_ROLES, actor, get_form_or_404, run_action
from forms_app.db import get_session
from forms_app.formdefs.definition import canonical_json, parse_json
from forms_app.permissions import roles_required


@bp.route("/importer", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def import_definition():
    """Create or update a form from a JSON definition (uploaded or pasted); maybe publish it."""
    form = ImportForm()
    status, errors, definition_errors = 200, [], []
    if form.validate_on_submit():
        data, definition_errors = _read_definition(form)
        if data is not None:
            imported = []
            errors, definition_errors = run_action(
                lambda: imported.append(
                    publishing.import_definition(
                        get_session(), data, actor(), publish_it=form.publish.data
                    )
                )
            )
            if not errors and not definition_errors:
                record = imported[0]
                flash(_("La définition « %(slug)s » est importée.", slug=record.slug), "success")
                return redirect(url_for("builder.edit", slug=record.slug))
    if form.is_submitted():
        status = 400
    return render_template(
        "builder/import.html", form=form, errors=errors, definition_errors=definition_errors
    ), status


def _read_definition(form: ImportForm) -> tuple[Any, list[tuple[str, str]]]:
    """The uploaded or pasted JSON, or None with the reason (JSON errors, nothing given)."""
    upload = form.file.data
    text = upload.read().decode("utf-8", "replace") if upload else form.text.data
    if not (text or "").strip():
        form.text.errors.append(_("Choisissez un fichier ou collez une définition."))
        return None, []
    try:
        return parse_json(text), []
    except json.JSONDecodeError as exc:
        return None, [(f"ligne {exc.lineno}, colonne {exc.colno}", f"JSON invalide : {exc.msg}")]


@bp.get("/<slug>/export.json")
@roles_required(*DESIGN_ROLES)
def export(slug: str):
    """Download the draft, or a published version (?version=N), as canonical JSON."""
    record = get_form_or_404(slug)
    data, filename = record.draft, f"{slug}.json"
    if request.args.get("version"):
        number = request.args.get("version", type=int)
        version = next((v for v in record.versions if v.number == number), None)
        if version is None:
            abort(404)
        data, filename = version.definition, f"{slug}-v{number}.json"
    return Response(
        canonical_json(data) + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
