"""Exports of a form's filtered requests: CSV streamed, XLSX written row by row to a file.

One row per request, the answers flattened into one column per answer field of the form's
current definition (a repeatable group becomes one text cell). Rows are read in batches
(`yield_per`, a server-side cursor on PostgreSQL), so memory stays bounded at any size.
"""

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from typing import Any

from flask import Response, request, send_file, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook

from forms_app.backoffice import bp, listing
from forms_app.backoffice.inbox import INBOX_ROLES, get_form_or_404, local_zone
from forms_app.db import get_session, utcnow
from forms_app.formdefs import display
from forms_app.formdefs.definition import FieldDef, FormDefinition
from forms_app.permissions import roles_required
from workflows import states

BATCH = 500
# Numbers stay numbers, so a spreadsheet can sum and sort them.
NUMERIC_TYPES = frozenset({"amount", "integer"})
# A cell starting with one of these is a formula to a spreadsheet: applicants' text never is.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def header(definition: FormDefinition) -> list[str]:
    fixed = [
        _("Référence"),
        _("État"),
        _("Déposée le"),
        _("Montant calculé"),
        _("Priorité"),
        _("Adresse e-mail"),
        _("Instructeur"),
        _("Signalements"),
    ]
    return fixed + [f.label or f.key for f in definition.answer_fields()]


def flatten(fdef: FieldDef, answers: dict[str, Any]) -> Any:
    """One answer as a cell: a number for amounts, readable text otherwise."""
    if fdef.key not in answers or answers[fdef.key] in (None, "", []):
        return ""
    value = answers[fdef.key]
    if fdef.type in NUMERIC_TYPES and isinstance(value, int):
        return value
    try:
        shown = display.display(fdef, value)
    except (ValueError, TypeError, KeyError, AttributeError, LookupError):
        return str(value)  # an answer the current definition reads differently
    if isinstance(shown, list):  # a group: "Nom : A, Âge : 3 | Nom : B, Âge : 5"
        return " | ".join(", ".join(f"{label} : {text}" for label, text in item) for item in shown)
    return shown


def safe(value: Any) -> Any:
    """Keep text inert in a spreadsheet: no formula, no character XML forbids."""
    if not value or not isinstance(value, str):
        return value
    value = _ILLEGAL_XML.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def records(slug: str) -> tuple[str, list[str], Iterator[list[Any]]]:
    """The file name stem, the header and the rows of the export the request asks for."""
    session = get_session()
    form, definition = get_form_or_404(session, slug)
    filters = listing.parse_filters(request.args)
    if filters.errors:
        filters = listing.Filters(states=filters.states)  # never export "something else"
    tz = local_zone()
    statement = listing.export_statement(form, filters, user_id=current_user.id, tz=tz)
    fields = list(definition.answer_fields())

    def rows() -> Iterator[list[Any]]:
        result = get_session().execute(statement.execution_options(yield_per=BATCH))
        for row in result:
            cells = [
                row.reference,
                str(states.label(row.state)),
                row.submitted_at.astimezone(tz).strftime("%d/%m/%Y %H:%M"),
                row.computed_amount if row.computed_amount is not None else "",
                row.priority if row.priority is not None else "",
                row.applicant_email or "",
                row.assignee_name or "",
                row.flag_count,
            ] + [flatten(f, row.answers or {}) for f in fields]
            yield [safe(cell) for cell in cells]

    stem = f"demandes-{form.slug}-{utcnow().astimezone(tz):%Y-%m-%d}"
    return stem, header(definition), rows()


@bp.get("/demarches/<slug>/demandes.csv")
@roles_required(*INBOX_ROLES)
def export_csv(slug: str):
    """Stream the filtered requests as CSV for French Excel: UTF-8 with BOM, semicolons."""
    stem, columns, rows = records(slug)

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(columns)
        yield "\ufeff" + _drain(buffer)
        for count, row in enumerate(rows, 1):
            writer.writerow(row)
            if count % 100 == 0:
                yield _drain(buffer)
        yield _drain(buffer)

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
    )


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


@bp.get("/demarches/<slug>/demandes.xlsx")
@roles_required(*INBOX_ROLES)
def export_xlsx(slug: str):
    """Send the filtered requests as an XLSX workbook, written row by row to a temporary file."""
    stem, columns, rows = records(slug)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Demandes"))
    sheet.append(columns)
    for row in rows:
        sheet.append(row)
    output = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the response closes it)
    workbook.save(output)
    output.seek(0)
    return send_file(
        output,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{stem}.xlsx",
    )
