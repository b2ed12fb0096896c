"""Render and check a form from its definition: the public page and the designers' preview."""

import uuid

from flask import Response, make_response, render_template, request

from forms_app.formdefs import display, rules
from forms_app.formdefs.composite import GroupField
from forms_app.formdefs.definition import FormDefinition
from forms_app.formdefs.wtform import DefinitionForm, form_class


def build_form(definition: FormDefinition, cache_key: str) -> DefinitionForm:
    """Instantiate the definition's form on the current request (grows/shrinks groups)."""
    form = form_class(definition, cache_key)()
    if request.method == "POST":
        apply_group_action(form)
    return form


def apply_group_action(form: DefinitionForm, keys: list[str] | None = None) -> None:
    """Add or remove an item of the repeatable group the POST names (among `keys`)."""
    for name, grow in (("_add", True), ("_remove", False)):
        key = request.form.get(name)
        field = form._fields.get(key) if key and (keys is None or key in keys) else None
        if not isinstance(field, GroupField):
            continue
        if grow and len(field.entries) < field.max_entries:
            field.append_entry()
        elif not grow and len(field.entries) > field.min_entries:
            field.pop_entry()


def group_action() -> bool:
    """Whether this POST only adds or removes an item of a repeatable group."""
    return bool(request.form.get("_add") or request.form.get("_remove"))


def render_form_page(
    definition: FormDefinition, cache_key: str, *, action_url: str, preview: bool = False
) -> Response:
    """Designers' preview. GET: the empty form. POST: the errors, or a summary of valid answers."""
    form = build_form(definition, cache_key)
    if request.method == "POST" and not group_action():
        if form.validate():
            return make_response(
                render_template(
                    "public/preview_result.html",
                    definition=definition,
                    summary=display.summary(definition, form.answers),
                    results=rules.evaluate(definition, form.answers),
                )
            )
        return page(definition, form, action_url, preview, status=400)
    return page(definition, form, action_url, preview)


def page(definition, form, action_url: str, preview: bool, status: int = 200, ineligible=()):
    """The form page, with its error summary and any eligibility messages."""
    return make_response(
        render_template(
            "public/form.html",
            definition=definition,
            form=form,
            errors=form.error_list() if status >= 400 else [],
            ineligible=ineligible,
            action_url=action_url,
            preview=preview,
            submit_token=submit_token(),
        ),
        status,
    )


SUBMIT_TOKEN = "_jeton"  # noqa: S105  (a form field name, not a secret)


def submit_token() -> str:
    """The page's submission token: kept across re-displays, new for a fresh page.

    A double click or a replayed POST carries the same token, and a token makes at most one
    submission (see forms_app.submissions.submit).
    """
    token = request.form.get(SUBMIT_TOKEN, "") if request.method == "POST" else ""
    return token if _is_token(token) else uuid.uuid4().hex


def posted_token() -> str | None:
    token = request.form.get(SUBMIT_TOKEN, "")
    return token if _is_token(token) else None


def _is_token(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)
