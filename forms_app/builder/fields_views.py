"""Builder views for fields: add, edit (options and condition), move up or down, delete."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from forms_app.builder import bp, drafts, field_editing
from forms_app.builder.forms import OPERATORS, TYPE_LABELS, AddFieldForm, FieldEditForm
from forms_app.builder.pages_views import move_offset
from forms_app.builder.views import (
    DESIGN_ROLES,
    apply_edit,
    get_form_or_404,
    store_draft,
)
from forms_app.permissions import roles_required


def _page_choices(draft: dict) -> list[SelectChoice]:
    return [SelectChoice(page["key"], page["title"]) for page in draft["pages"]]


@bp.route("/<slug>/nouveau-champ", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def new_field(slug: str):
    """Add a field (type, identifier, label, page), then go on to its options."""
    record = get_form_or_404(slug)
    draft = drafts.working_copy(record.draft)
    form = AddFieldForm(data={"page": request.args.get("page")})
    form.page.choices = _page_choices(draft)
    status, definition_errors = 200, []
    if form.validate_on_submit():
        key = form.key.data
        try:
            drafts.add_field(
                draft, form.page.data, drafts.starter_field(form.type.data, key, form.label.data)
            )
        except drafts.DraftEditError as exc:
            form.key.errors.append(str(exc))
        else:
            definition_errors = store_draft(record, draft)
            if not definition_errors:
                flash(_("Le champ « %(label)s » est ajouté.", label=form.label.data), "success")
                return redirect(url_for("builder.edit_field", slug=slug, key=key))
    if form.is_submitted():
        status = 400
    return render_template(
        "builder/field_new.html", record=record, form=form, definition_errors=definition_errors
    ), status


@bp.route("/<slug>/champs/<key>", methods=["GET", "POST"])
@roles_required(*DESIGN_ROLES)
def edit_field(slug: str, key: str):
    """Edit a field: common properties, options of its type, and when it is shown."""
    record = get_form_or_404(slug)
    draft = drafts.working_copy(record.draft)
    located = drafts.locate_field(draft, key)
    if located is None:
        abort(404)
    page = draft["pages"][located[0]]
    raw = page["fields"][located[1]]
    others = drafts.answer_fields(draft, exclude=key)
    form = FieldEditForm(data=field_editing.form_data(raw, page["key"]))
    form.page.choices = _page_choices(draft)
    form.condition_field.choices = [SelectChoice("", _("— toujours afficher —"))] + [
        SelectChoice(f["key"], f"{f.get('label') or f['key']} ({f['key']})") for f in others
    ]
    status, definition_errors = 200, []
    if form.validate_on_submit():
        field, errors = field_editing.from_form(form, raw, {f["key"]: f["type"] for f in others})
        for name, message in errors.items():
            form[name].errors.append(message)
        if not errors:
            drafts.replace_field(draft, key, field, form.page.data)
            definition_errors = store_draft(record, draft)
            if not definition_errors:
                flash(
                    _("Le champ « %(label)s » est enregistré.", label=field.get("label") or key),
                    "success",
                )
                return redirect(url_for("builder.edit", slug=slug, _anchor=f"champ-{key}"))
    if form.is_submitted():
        status = 400
    return render_template(
        "builder/field.html",
        record=record,
        raw=raw,
        form=form,
        shown=field_editing.sections(raw["type"]),
        type_label=TYPE_LABELS.get(raw["type"], raw["type"]),
        operators=OPERATORS,
        definition_errors=definition_errors,
    ), status


@bp.post("/<slug>/champs/<key>/deplacer")
@roles_required(*DESIGN_ROLES)
def move_field(slug: str, key: str):
    """Move a field one place up or down on its page."""
    return apply_edit(
        get_form_or_404(slug),
        lambda draft: drafts.move_field(draft, key, move_offset()),
        lambda _result: _("Le champ est déplacé."),
        anchor=f"champ-{key}",
    )


@bp.post("/<slug>/champs/<key>/supprimer")
@roles_required(*DESIGN_ROLES)
def delete_field(slug: str, key: str):
    """Delete a field (refused while a condition or a rule still reads it)."""
    return apply_edit(
        get_form_or_404(slug),
        lambda draft: drafts.delete_field(draft, key),
        lambda removed: _(
            "Le champ « %(label)s » est supprimé.", label=removed.get("label") or key
        ),
    )
