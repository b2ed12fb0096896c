"""Turn a definition field into the edit form's values, and the submitted form back into JSON."""

import json
import re
from typing import Any

from forms_app.builder.inputs import format_number, parse_number
from forms_app.formdefs import nc
from forms_app.formdefs.definition import DISPLAY_TYPES, parse_json

# The option sections each type shows, beyond label, hint, required, default and condition.
OPTIONS: dict[str, frozenset[str]] = {
    "text": frozenset({"length", "pattern"}),
    "textarea": frozenset({"length", "pattern"}),
    "email": frozenset({"length"}),
    "phone": frozenset({"region"}),
    "integer": frozenset({"range"}),
    "amount": frozenset({"range"}),
    "date": frozenset({"dates"}),
    "choice": frozenset({"choices", "widget"}),
    "multichoice": frozenset({"choices", "range"}),
    "file": frozenset({"files"}),
    "country": frozenset({"quick_picks"}),
    "address": frozenset({"region"}),
    "group": frozenset({"group"}),
    "heading": frozenset({"text"}),
    "paragraph": frozenset({"text"}),
}
NO_DEFAULT = frozenset({"file", "group", "address", "consent"}) | DISPLAY_TYPES
NUMERIC = frozenset({"integer", "amount"})
STRUCTURED_OPERATORS = ("equals", "not_equals", "in", "contains", "gt", "gte", "lt", "lte")


def sections(field_type: str) -> frozenset[str]:
    """What the edit page shows for this type (common parts included)."""
    common = {"condition"} if field_type in DISPLAY_TYPES else {"condition", "hint", "required"}
    if field_type not in NO_DEFAULT:
        common.add("default")
    return OPTIONS.get(field_type, frozenset()) | common


def form_data(raw: dict[str, Any], page_key: str) -> dict[str, Any]:
    """The edit form's initial values for a field."""
    validation = raw.get("validation", {})
    data = {
        "label": raw.get("label", ""),
        "hint": raw.get("hint", ""),
        "text": raw.get("text", ""),
        "required": bool(raw.get("required")),
        "default": _show_value(raw.get("default")),
        "page": page_key,
        "choices": "\n".join(f"{c['value']}|{c['label']}" for c in raw.get("choices", [])),
        "widget": raw.get("widget", "radio"),
        "region": raw.get("region", "NC"),
        "accept": raw.get("accept", []),
        "max_size_mb": format_number(raw.get("max_size_mb")),
        "max_files": format_number(raw.get("max_files")),
        "min_value": format_number(validation.get("min")),
        "max_value": format_number(validation.get("max")),
        "min_length": format_number(validation.get("min_length")),
        "max_length": format_number(validation.get("max_length")),
        "pattern": validation.get("pattern", ""),
        "pattern_message": validation.get("pattern_message", ""),
        "min_date": _show_date(validation.get("min_date")),
        "max_date": _show_date(validation.get("max_date")),
        "item_label": raw.get("item_label", ""),
        "min_items": format_number(raw.get("min_items")),
        "max_items": format_number(raw.get("max_items")),
        "group_fields": json.dumps(raw["fields"], ensure_ascii=False, indent=2)
        if raw.get("fields")
        else "",
        "quick_picks": ", ".join(raw.get("quick_picks", [])),
    }
    data.update(condition_data(raw.get("visible_if")))
    return data


def condition_data(condition: dict[str, Any] | None) -> dict[str, str]:
    """Fill the simple editor when the condition is one comparison, the JSON box otherwise."""
    empty = {"condition_field": "", "condition_operator": "equals", "condition_value": ""}
    if not condition:
        return {**empty, "condition_json": ""}
    operators = [name for name in condition if name != "field"]
    if "field" in condition and len(operators) == 1:
        operator = operators[0]
        value = condition[operator]
        return {
            "condition_field": condition["field"],
            "condition_operator": operator,
            "condition_value": ", ".join(map(_show_value, value))
            if isinstance(value, list)
            else _show_value(value),
            "condition_json": "",
        }
    return {**empty, "condition_json": json.dumps(condition, ensure_ascii=False, indent=2)}


def from_form(form, raw: dict[str, Any], types: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """Build the field's JSON from the submitted form; return it with errors by form field."""
    kind = raw["type"]
    shown = sections(kind)
    errors: dict[str, str] = {}
    field: dict[str, Any] = {"key": raw["key"], "type": kind}
    _put(field, "label", form.label.data.strip())
    if "text" in shown:
        _put(field, "text", form.text.data.strip())
    if "hint" in shown:
        _put(field, "hint", form.hint.data.strip())
    if "required" in shown and form.required.data:
        field["required"] = True
    if "default" in shown and form.default.data.strip():
        try:
            field["default"] = parse_value(kind, form.default.data.strip())
        except ValueError as exc:
            errors["default"] = str(exc)
    if "choices" in shown:
        try:
            field["choices"] = parse_choices(form.choices.data)
        except ValueError as exc:
            errors["choices"] = str(exc)
    if "widget" in shown:
        field["widget"] = form.widget.data
    if "region" in shown:
        field["region"] = form.region.data
    if "files" in shown:
        _put(field, "accept", list(form.accept.data or []))
        _put(field, "max_size_mb", form.max_size_mb.parsed)
        _put(field, "max_files", form.max_files.parsed)
    if "quick_picks" in shown:
        _put(
            field,
            "quick_picks",
            [c.upper() for c in re.split(r"[\s,;]+", form.quick_picks.data) if c],
        )
    if "group" in shown:
        _put(field, "item_label", form.item_label.data.strip())
        _put(field, "min_items", form.min_items.parsed)
        _put(field, "max_items", form.max_items.parsed)
        try:
            field["fields"] = _json(form.group_fields.data, list, "une liste de champs")
        except ValueError as exc:
            errors["group_fields"] = str(exc)
    _put(field, "validation", _validation(form, shown))
    try:
        _put(field, "visible_if", condition_from_form(form, types))
    except ConditionInputError as exc:
        errors[exc.field_name] = str(exc)
    return field, errors


class ConditionInputError(ValueError):
    """A condition the designer typed cannot be read; `field_name` is the input to blame."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field_name = field_name


def condition_from_form(form, types: dict[str, str]) -> dict[str, Any] | None:
    """The advanced JSON if given, else the simple comparison, else no condition."""
    if form.condition_json.data.strip():
        try:
            return _json(form.condition_json.data, dict, "un objet JSON")
        except ValueError as exc:
            raise ConditionInputError("condition_json", str(exc)) from None
    key = form.condition_field.data
    if not key:
        return None
    operator, text = form.condition_operator.data, form.condition_value.data.strip()
    if operator == "filled":
        return {"field": key, "filled": text.lower() not in ("non", "faux", "false", "0")}
    if not text:
        raise ConditionInputError("condition_value", "Saisissez la valeur à comparer.")
    kind = types.get(key, "text")
    if kind == "yesno":  # conditions compare yes/no answers with "oui" / "non"
        kind = "yesno_text"
    try:
        if operator == "in":
            value: Any = [parse_value(kind, part.strip()) for part in text.split(",") if part]
        elif operator in ("gt", "gte", "lt", "lte"):
            value = parse_value("integer" if kind in NUMERIC else "number", text)
        else:
            value = parse_value(kind, text)
    except ValueError as exc:
        raise ConditionInputError("condition_value", str(exc)) from None
    return {"field": key, operator: value}


def parse_value(kind: str, text: str) -> Any:
    """A default or compared value, typed as the field's answers are."""
    if kind in ("integer", "number"):
        try:
            return parse_number(text)
        except ValueError:
            raise ValueError("Saisissez un nombre, par exemple 10.") from None
    if kind == "amount":
        try:
            return nc.parse_xpf(text)
        except nc.InvalidValue as exc:
            raise ValueError(str(exc)) from None
    if kind in ("yesno", "yesno_text"):
        if text.lower() not in ("oui", "non"):
            raise ValueError("Saisissez « oui » ou « non ».")
        return text.lower() if kind == "yesno_text" else text.lower() == "oui"
    if kind == "date":
        try:
            return nc.parse_date(text).isoformat()
        except nc.InvalidValue as exc:
            raise ValueError(str(exc)) from None
    if kind == "multichoice":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def parse_choices(text: str) -> list[dict[str, str]]:
    """One choice a line, `valeur|libellé` (a line without | is both)."""
    choices = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        value, _bar, label = line.partition("|")
        value, label = value.strip(), (label.strip() if _bar else value.strip())
        if not value or not label:
            raise ValueError(f"Ligne {number} : écrivez « valeur|libellé ».")
        choices.append({"value": value, "label": label})
    if not choices:
        raise ValueError("Saisissez au moins un choix.")
    return choices


def _validation(form, shown: frozenset[str]) -> dict[str, Any]:
    """The validation block from the limits this type offers, empty ones left out."""
    pairs = []
    if "range" in shown:
        pairs += [("min", form.min_value.parsed), ("max", form.max_value.parsed)]
    if "length" in shown:
        pairs += [("min_length", form.min_length.parsed), ("max_length", form.max_length.parsed)]
    if "pattern" in shown:
        pairs += [
            ("pattern", form.pattern.data.strip()),
            ("pattern_message", form.pattern_message.data.strip()),
        ]
    if "dates" in shown:
        pairs += [("min_date", form.min_date.parsed), ("max_date", form.max_date.parsed)]
    return {name: value for name, value in pairs if value not in (None, "")}


def _json(text: str, expected: type, description: str) -> Any:
    try:
        value = parse_json(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"JSON invalide (ligne {exc.lineno}, colonne {exc.colno}).") from None
    if not isinstance(value, expected):
        raise ValueError(f"Le JSON doit être {description}.")
    return value


def _put(target: dict, name: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        target[name] = value


def _show_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(map(_show_value, value))
    if isinstance(value, int | float):
        return format_number(value)
    return str(value)


def _show_date(value: str | None) -> str:
    return "" if not value else nc.format_date(nc.parse_date(value))
