"""The text the inbox search reads, and the applicant's name the inbox shows.

A submission's `search_text` is built once, when it is submitted (and again by the checks
job): its reference, its e-mail address, and every text, e-mail and RIDET answer, lower-case
and without accents, so "wamytan" finds "WAMYTAN" and "lea" finds "Léa". A query is
normalised the same way and each of its words must appear (see `terms`).
"""

import re
import unicodedata
from typing import Any

from forms_app.formdefs import nc
from forms_app.formdefs.definition import FieldDef, FormDefinition

SEARCHED_TYPES = frozenset({"text", "email", "ridet"})
# Bounds: a long answer is cut, and the whole text too, so rows stay small.
VALUE_MAX = 200
TEXT_MAX = 4000
QUERY_MAX_WORDS = 8

_SPACES = re.compile(r"\s+")
_COMPANY_KEY = re.compile(r"raison_sociale|denomination|entreprise_nom|nom_entreprise")
_SURNAME_KEY = re.compile(r"^(nom|name)(_|$)|_nom$")
_FIRST_NAME_KEY = re.compile(r"^prenoms?(_|$)|_prenoms?$")


def fold(text: str) -> str:
    """Lower-case `text`, strip its accents and collapse its spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare.casefold()).strip()


def terms(query: str) -> list[str]:
    """The words of a search query, folded like the search text (at most a few)."""
    return fold(query).split(" ")[:QUERY_MAX_WORDS] if query.strip() else []


def search_text(
    definition: FormDefinition, answers: dict[str, Any], reference: str | None, email: str | None
) -> str:
    """Return the folded text the inbox search matches: reference, e-mail, names, RIDET."""
    parts = [reference or "", email or ""]
    for fdef in definition.answer_fields():
        parts.extend(_values(fdef, answers.get(fdef.key)))
    text = " ".join(fold(part[:VALUE_MAX]) for part in parts if part)
    return text[:TEXT_MAX]


def _values(fdef: FieldDef, value: Any) -> list[str]:
    if value in (None, "", []):
        return []
    if fdef.type == "group" and isinstance(value, list):
        return [
            text
            for item in value
            if isinstance(item, dict)
            for sub in fdef.fields
            for text in _values(sub, item.get(sub.key))
        ]
    if fdef.type not in SEARCHED_TYPES or not isinstance(value, str):
        return []
    if fdef.type == "ridet":
        try:
            return [value, nc.format_ridet(value), nc.ridet_rid(value)]
        except nc.InvalidValue:
            return [value]
    return [value]


def applicant_name(definition: FormDefinition, answers: dict[str, Any]) -> str:
    """The company's name, else the person's "Surname First name", from the answers; or ""."""
    texts = [
        (f.key, answers[f.key])
        for f in definition.answer_fields()
        if f.type == "text" and isinstance(answers.get(f.key), str) and answers[f.key].strip()
    ]
    for key, value in texts:
        if _COMPANY_KEY.search(key):
            return value.strip()
    surname = next((v for k, v in texts if _SURNAME_KEY.search(k)), "")
    first = next((v for k, v in texts if _FIRST_NAME_KEY.search(k)), "")
    return " ".join(p.strip() for p in (surname, first) if p)
