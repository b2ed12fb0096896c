"""Read the bank's return file: which transfers were paid, which were rejected and why.

A CSV in UTF-8 (BOM or not), `;` or `,` separated, with a header row naming its columns:
mandat (the act number, which is the EndToEndId of the pain.001), statut (paid / rejected,
or payé / rejeté), date (JJ/MM/AAAA or AAAA-MM-JJ), motif (required for a rejection).
`parse` only reads the file: every error comes back in French with its line number, and
`payments.import_return` checks the rows against the bordereau. Format: docs/payment-files.md.
"""

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from forms_app.formdefs import nc
from forms_app.models import LineStatus

MAX_BYTES = 2 * 1024 * 1024
REASON_MAX = 2000
# Accepted column names, compared without accents, case or spaces; the first is documented.
COLUMNS = {
    "act": ("mandat", "acte", "act", "numero", "numero_mandat", "endtoendid", "end_to_end_id"),
    "status": ("statut", "status", "etat"),
    "date": ("date", "date_operation", "date_valeur"),
    "reason": ("motif", "reason", "raison"),
}
STATUSES = {
    "paid": LineStatus.PAID,
    "paye": LineStatus.PAID,
    "payee": LineStatus.PAID,
    "rejected": LineStatus.REJECTED,
    "rejete": LineStatus.REJECTED,
    "rejetee": LineStatus.REJECTED,
}


@dataclass(frozen=True)
class Row:
    """One transfer's outcome, as the bank reported it on line `line_no` of its file."""

    line_no: int
    number: str
    status: LineStatus
    on: date
    reason: str


def at(line_no: int) -> str:
    return _("Ligne %(line)s", line=line_no)


def parse(content: bytes) -> tuple[list[Row], list[tuple[int, str]]]:
    """The rows of a bank return file, and every error in it: (line number, French message).

    Errors about the whole file have line number 0.
    """
    if len(content) > MAX_BYTES:
        return [], [(0, _("Le fichier dépasse 2 Mo : découpez-le en plusieurs fichiers."))]
    try:
        decoded = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        decoded = "\x00"
    if "\x00" in decoded:
        return [], [(0, _("Le fichier n’est pas un fichier CSV encodé en UTF-8."))]
    if not decoded.strip():
        return [], [(0, _("Le fichier est vide."))]
    first = decoded.split("\n", 1)[0]
    delimiter = ";" if ";" in first or "," not in first else ","
    reader = csv.reader(io.StringIO(decoded, newline=""), delimiter=delimiter, strict=True)
    rows, errors, seen = [], [], {}
    try:
        header = [_key(cell) for cell in next(reader)]
        columns = {
            name: next((i for i, cell in enumerate(header) if cell in aliases), None)
            for name, aliases in COLUMNS.items()
        }
        missing = [COLUMNS[name][0] for name, index in columns.items() if index is None]
        if missing:
            message = _("colonnes attendues absentes : %(columns)s.", columns=", ".join(missing))
            return [], [(1, f"{at(1)} : {message}")]
        for cells in reader:
            if any(cell.strip() for cell in cells):
                row, row_errors = _row(reader.line_num, cells, columns, seen)
                errors += [(reader.line_num, error) for error in row_errors]
                rows += [row] if row else []
    except csv.Error:
        message = _("le fichier n’est pas un CSV lisible.")
        return [], [(reader.line_num, f"{at(reader.line_num)} : {message}")]
    if not rows and not errors:
        errors.append((0, _("Le fichier ne contient aucune ligne de virement.")))
    return rows, errors


def _row(line_no: int, cells: list[str], columns: dict, seen: dict) -> tuple[Row | None, list]:
    """One line read, or its errors; `seen` maps act numbers to their first line."""

    def cell(name: str) -> str:
        index = columns[name]
        return cells[index].strip() if index < len(cells) else ""

    where = at(line_no)
    errors = []
    number, status_text, date_text = cell("act"), cell("status"), cell("date")
    if not number:
        errors.append(_("%(where)s : le numéro de mandat manque.", where=where))
    elif number in seen:
        errors.append(
            _(
                "%(where)s : le mandat %(number)s figure déjà ligne %(first)s.",
                where=where,
                number=number,
                first=seen[number],
            )
        )
    else:
        seen[number] = line_no
    status = STATUSES.get(_key(status_text))
    if status is None:
        errors.append(
            _(
                "%(where)s : statut « %(status)s » inconnu (attendu : payé ou rejeté).",
                where=where,
                status=status_text,
            )
        )
    try:
        on = nc.parse_date(date_text)
    except nc.InvalidValue:
        errors.append(
            _(
                "%(where)s : date « %(date)s » invalide (attendu : JJ/MM/AAAA).",
                where=where,
                date=date_text,
            )
        )
    reason = " ".join(cell("reason").split())[:REASON_MAX]
    if status == LineStatus.REJECTED and not reason:
        errors.append(_("%(where)s : un rejet doit indiquer son motif.", where=where))
    if errors:
        return None, errors
    return Row(line_no, number, status, on, reason), []


def _key(value: str) -> str:
    """A header or a status as compared: no accents, lower case, words joined by "_"."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return "_".join(ascii_text.strip().lower().replace("-", " ").split())
