"""Show answers as people read them, using the definition they were given with."""

from datetime import date
from typing import Any

from forms_app.formdefs import banking, nc, places
from forms_app.formdefs.definition import FieldDef, FormDefinition


def display(fdef: FieldDef, value: Any) -> Any:
    """Return a readable value: text, or a list of (label, text) rows for groups."""
    if value in (None, "", []):
        return "Non renseigné"
    kind = fdef.type
    if kind == "date":
        return nc.format_date(date.fromisoformat(value))
    if kind == "amount":
        return nc.format_xpf(value)
    if kind in ("yesno", "consent"):
        return "Oui" if value else "Non"
    if kind in ("choice", "multichoice"):
        labels = {c["value"]: c["label"] for c in fdef.get("choices", [])}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(v, v) for v in values)
    if kind == "phone":
        return nc.format_phone(value)
    if kind == "ridet":
        return nc.format_ridet(value)
    if kind == "iban":
        return banking.format_iban(value)
    if kind == "commune":
        commune = places.get_commune(value)
        return f"{commune.name} ({commune.postal_code})"
    if kind == "country":
        return places.country_name(value)
    if kind == "address":
        parts = [value.get("street"), value.get("complement")]
        parts.append(" ".join(p for p in (value.get("postal_code"), value.get("city")) if p))
        return ", ".join(p for p in parts if p)
    if kind == "file":
        return ", ".join(item["name"] for item in value)
    if kind == "group":
        return [
            [
                (sub.label, display(sub, item.get(sub.key)))
                for sub in fdef.fields
                if sub.holds_answer
            ]
            for item in value
        ]
    return str(value)


def summary(definition: FormDefinition, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Pages with their answered fields: [{title, rows: [(label, value, key)]}]."""
    pages = []
    for page in definition.pages:
        rows = [
            (fdef.label, display(fdef, answers.get(fdef.key)), fdef.key)
            for fdef in page.fields
            if fdef.holds_answer and fdef.key in answers
        ]
        if rows:
            pages.append({"title": page.title, "rows": rows})
    return pages
