"""Builder views for pages: add, rename, move up or down, delete."""

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from forms_app.builder import bp, drafts
from forms_app.builder.forms import AddPageForm, PageForm
from forms_app.builder.views import (
    DESIGN_ROLES,
    apply_edit,
    get_form_or_404,
    render_overview,
    store_draft,
)
from forms_app.formdefs.definition import parse_json
from forms_app.permissions import roles_required

DIRECTIONS = {"haut": -1, "bas": 1}


def move_offset() -> int:
    """The -1 / +1 a move button sends as `sens`."""
    offset = DIRECTIONS.get(request.form.get("sens", ""))
    if offset is None:
        abort(400)
    return offset


@bp.post("/<slug>/pages")
@roles_required(*DESIGN_ROLES)
def add_page(slug: str):
    """Add an empty page at the end of the form."""
    record = get_form_or_404(slug)
    form = AddPageForm()
    if not form.validate():
        return render_overview(record, 400, page_form=form)
    draft = drafts.working_copy(record.draft)
    key = form.key.data or drafts.new_page_key(draft)
    try:
        drafts.add_page(draft, key, form.title.data.strip())
    except drafts.DraftEditError as exc:
        form.key.errors.append(str(exc))
        return render_overview(record, 400, page_form=form)
    errors = store_draft(record, draft)
    if errors:
        return render_overview(record, 400, definition_errors=errors, page_form=form)
    flash(_("La page « %(title)s » est ajoutée.", title=form.title.data.strip()), "success")
    return redirect(url_for("builder.edit", slug=slug, _anchor=f"page-{key}"))


@bp.route("/<slug>/pages/<page_key>", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def edit_page(slug: str, page_key: str):
    """Rename a page, change its introduction and its display condition."""
    record = get_form_or_404(slug)
    draft = drafts.working_copy(record.draft)
    index, page = _page_or_404(draft, page_key)
    condition = page.get("visible_if")
    form = PageForm(
        data={
            "title": page["title"],
            "description": page.get("description", ""),
            "condition_json": json.dumps(condition, ensure_ascii=False, indent=2)
            if condition
            else "",
        }
    )
    status, definition_errors = 200, []
    if form.validate_on_submit():
        page["title"] = form.title.data.strip()
        page["description"] = form.description.data.strip()
        if not page["description"]:
            del page["description"]
        text = form.condition_json.data.strip()
        try:
            parsed = parse_json(text) if text else None
        except json.JSONDecodeError as exc:
            form.condition_json.errors.append(
                _(
                    "JSON invalide (ligne %(line)d, colonne %(col)d).",
                    line=exc.lineno,
                    col=exc.colno,
                )
            )
        else:
            if parsed:
                page["visible_if"] = parsed
            else:
                page.pop("visible_if", None)
            definition_errors = store_draft(record, draft)
            if not definition_errors:
                flash(_("La page « %(title)s » est enregistrée.", title=page["title"]), "success")
                return redirect(url_for("builder.edit", slug=slug, _anchor=f"page-{page_key}"))
    if form.is_submitted():
        status = 400
    return render_template(
        "builder/page.html",
        record=record,
        page=record.draft["pages"][index],
        form=form,
        definition_errors=definition_errors,
    ), status


def _page_or_404(draft: dict, page_key: str) -> tuple[int, dict]:
    index = drafts.page_index(draft, page_key)
    if index is None:
        abort(404)
    return index, draft["pages"][index]


@bp.post("/<slug>/pages/<page_key>/deplacer")
@roles_required(*DESIGN_ROLES)
def move_page(slug: str, page_key: str):
    """Move a page one place up or down."""
    return apply_edit(
        get_form_or_404(slug),
        lambda draft: drafts.move_page(draft, page_key, move_offset()),
        lambda _result: _("La page est déplacée."),
        anchor=f"page-{page_key}",
    )


@bp.route("/<slug>/pages/<page_key>/supprimer", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def delete_page(slug: str, page_key: str):
    """Delete a page; one that holds fields needs an explicit confirmation."""
    record = get_form_or_404(slug)
    draft = drafts.working_copy(record.draft)
    _index, page = _page_or_404(draft, page_key)
    confirmed = request.form.get("confirmer") == "oui" or not page["fields"]
    if request.method == "GET" or not confirmed:
        return render_template("builder/page_delete.html", record=record, page=page)
    try:
        drafts.delete_page(draft, page_key)
    except drafts.DraftEditError as exc:
        return render_overview(record, 400, errors=[str(exc)])
    errors = store_draft(record, draft)
    if errors:
        return render_overview(record, 400, definition_errors=errors)
    flash(_("La page « %(title)s » est supprimée.", title=page["title"]), "success")
    return redirect(url_for("builder.edit", slug=slug))
