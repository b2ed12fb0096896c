"""Conditional visibility: evaluate a definition's structured conditions against answers."""

from typing import Any

_COMPARISONS = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def is_visible(condition: dict | None, values: dict[str, Any]) -> bool:
    """Return whether a field or page with this condition is shown, given the answers so far."""
    if condition is None:
        return True
    if "all" in condition:
        return all(is_visible(part, values) for part in condition["all"])
    if "any" in condition:
        return any(is_visible(part, values) for part in condition["any"])
    if "not" in condition:
        return not is_visible(condition["not"], values)
    value = values.get(condition["field"])
    ((operator, expected),) = ((k, v) for k, v in condition.items() if k != "field")
    if operator == "filled":
        return _filled(value) is expected
    if operator == "equals":
        return _same(value, expected)
    if operator == "not_equals":
        return not _same(value, expected)
    if operator == "in":
        return any(_same(value, option) for option in expected)
    if operator == "contains":
        return isinstance(value, list) and any(_same(item, expected) for item in value)
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return _COMPARISONS[operator](value, expected)


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {})


def _same(value: Any, expected: Any) -> bool:
    """Compare an answer with a condition's literal; yes/no answers also match "oui"/"non"."""
    if isinstance(value, bool) and isinstance(expected, str):
        return value is (expected == "oui")
    return value == expected


def referenced_fields(condition: dict | None) -> set[str]:
    """The field keys a condition reads (for the client-side reveal and the builder)."""
    if condition is None:
        return set()
    for name in ("all", "any"):
        if name in condition:
            return set().union(*(referenced_fields(part) for part in condition[name]))
    if "not" in condition:
        return referenced_fields(condition["not"])
    return {condition["field"]}
