"""The rows of the "check your answers" page, each with a link to change it."""

from typing import Any

from flask import url_for

from forms_app.formdefs import display


def check_rows(filling, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Visible pages with their answers: [{title, number, rows: [(label, value, change url)]}]."""
    pages = []
    for number in filling.visible_numbers(answers):
        page = filling.page(number)
        rows = []
        for fdef in page.fields:
            if not fdef.holds_answer or fdef.key not in answers:
                continue
            change = url_for(
                "public.step", slug=filling.form.slug, number=number, retour="verification"
            )
            rows.append(
                (fdef.label, display.display(fdef, answers[fdef.key]), f"{change}#{fdef.key}")
            )
        if rows:
            pages.append({"title": page.title, "number": number, "rows": rows})
    return pages
