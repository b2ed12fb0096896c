"""Edit a copy of a draft definition: pages and fields added, moved, renamed, removed."""

import copy
from typing import Any

from forms_app.formdefs.definition import DISPLAY_TYPES

Draft = dict[str, Any]


class DraftEditError(ValueError):
    """The edit makes no sense on this draft (French message for the designer)."""


def working_copy(draft: Draft) -> Draft:
    """A deep copy to edit, so the stored draft only changes through save_draft."""
    return copy.deepcopy(draft)


def page_index(draft: Draft, page_key: str) -> int | None:
    return next((i for i, page in enumerate(draft["pages"]) if page["key"] == page_key), None)


def locate_field(draft: Draft, key: str) -> tuple[int, int] | None:
    """(page index, field index) of a top-level field, or None."""
    for p, page in enumerate(draft["pages"]):
        for i, field in enumerate(page["fields"]):
            if field["key"] == key:
                return p, i
    return None


def field_keys(draft: Draft) -> set[str]:
    return {field["key"] for page in draft["pages"] for field in page["fields"]}


def answer_fields(draft: Draft, exclude: str | None = None) -> list[dict[str, Any]]:
    """Top-level fields that hold an answer, page after page (a condition may read them)."""
    return [
        field
        for page in draft["pages"]
        for field in page["fields"]
        if field["type"] not in DISPLAY_TYPES and field["key"] != exclude
    ]


def new_page_key(draft: Draft) -> str:
    """The first free key of the form page_N."""
    taken = {page["key"] for page in draft["pages"]}
    number = len(draft["pages"]) + 1
    while f"page_{number}" in taken:
        number += 1
    return f"page_{number}"


def add_page(draft: Draft, key: str, title: str) -> None:
    if page_index(draft, key) is not None:
        raise DraftEditError(f"Une page « {key} » existe déjà.")
    draft["pages"].append({"key": key, "title": title, "fields": []})


def move_page(draft: Draft, page_key: str, offset: int) -> None:
    """Swap a page with its neighbour above (-1) or below (+1)."""
    index = _page_or_error(draft, page_key)
    _swap(draft["pages"], index, offset)


def delete_page(draft: Draft, page_key: str) -> dict[str, Any]:
    """Remove a page and its fields; the form must keep one page."""
    index = _page_or_error(draft, page_key)
    if len(draft["pages"]) == 1:
        raise DraftEditError("Un formulaire doit garder au moins une page.")
    return draft["pages"].pop(index)


def add_field(draft: Draft, page_key: str, field: dict[str, Any]) -> None:
    if field["key"] in field_keys(draft):
        raise DraftEditError(f"Un champ « {field['key']} » existe déjà dans ce formulaire.")
    draft["pages"][_page_or_error(draft, page_key)]["fields"].append(field)


def move_field(draft: Draft, key: str, offset: int) -> None:
    """Swap a field with its neighbour on the same page."""
    p, i = _field_or_error(draft, key)
    _swap(draft["pages"][p]["fields"], i, offset)


def replace_field(draft: Draft, key: str, field: dict[str, Any], page_key: str) -> None:
    """Put the edited field in place, or at the end of another page if it changed page."""
    p, i = _field_or_error(draft, key)
    target = _page_or_error(draft, page_key)
    if target == p:
        draft["pages"][p]["fields"][i] = field
    else:
        del draft["pages"][p]["fields"][i]
        draft["pages"][target]["fields"].append(field)


def delete_field(draft: Draft, key: str) -> dict[str, Any]:
    p, i = _field_or_error(draft, key)
    return draft["pages"][p]["fields"].pop(i)


def _swap(items: list, index: int, offset: int) -> None:
    other = index + offset
    if not 0 <= other < len(items):
        raise DraftEditError("Cet élément est déjà à cette extrémité.")
    items[index], items[other] = items[other], items[index]


def _page_or_error(draft: Draft, page_key: str) -> int:
    index = page_index(draft, page_key)
    if index is None:
        raise DraftEditError(f"La page « {page_key} » n’existe pas.")
    return index


def _field_or_error(draft: Draft, key: str) -> tuple[int, int]:
    found = locate_field(draft, key)
    if found is None:
        raise DraftEditError(f"Le champ « {key} » n’existe pas.")
    return found


def starter_field(kind: str, key: str, label: str) -> dict[str, Any]:
    """A new field of this type, complete enough to be valid, for the designer to refine."""
    field: dict[str, Any] = {"key": key, "type": kind, "label": label}
    if kind in ("choice", "multichoice"):
        field["choices"] = [
            {"value": "option_1", "label": "Option 1"},
            {"value": "option_2", "label": "Option 2"},
        ]
    elif kind == "group":
        field["fields"] = [{"key": "nom", "type": "text", "label": "Nom", "required": True}]
    elif kind == "file":
        field["accept"] = ["pdf"]
    return field
