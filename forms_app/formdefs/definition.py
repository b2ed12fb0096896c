"""Load a form definition: JSON Schema first, then the checks a schema cannot express."""

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from forms_app.formdefs import patterns
from forms_app.formdefs.cache import BoundedCache
from forms_app.formdefs.expressions import ExpressionError, compile_expression

SCHEMA_PATH = Path(__file__).with_name("schema.json")
# Types that hold no answer: they only show text.
DISPLAY_TYPES = frozenset({"heading", "paragraph"})
CHOICE_TYPES = frozenset({"choice", "multichoice"})
# Types a repeatable group may contain (no nested groups, no files inside groups).
GROUP_ITEM_TYPES = frozenset(
    {"text", "textarea", "email", "phone", "integer", "amount", "date", "choice", "multichoice",
     "yesno", "ridet", "country", "commune"}
)  # fmt: skip
# Containers inside containers: real definitions stay under 12 (a condition in a group's
# field); the limit keeps the recursive checks (schema, conditions) far from Python's own.
MAX_NESTING = 32
# The largest number a definition may hold: settings and limits feed 64-bit columns.
MAX_NUMBER = 2**63 - 1


class DefinitionError(ValueError):
    """A definition is invalid; `errors` lists (path, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))


@dataclass(frozen=True)
class FieldDef:
    """One field of a definition, with its raw JSON kept for the type-specific options."""

    raw: dict[str, Any]
    fields: tuple["FieldDef", ...] = ()

    key = property(lambda self: self.raw["key"])
    type = property(lambda self: self.raw["type"])
    label = property(lambda self: self.raw.get("label", ""))
    hint = property(lambda self: self.raw.get("hint"))
    required = property(lambda self: bool(self.raw.get("required", False)))
    validation = property(lambda self: self.raw.get("validation", {}))
    visible_if = property(lambda self: self.raw.get("visible_if"))

    @property
    def holds_answer(self) -> bool:
        return self.type not in DISPLAY_TYPES

    def get(self, name: str, default: Any = None) -> Any:
        return self.raw.get(name, default)


@dataclass(frozen=True)
class PageDef:
    raw: dict[str, Any]
    fields: tuple[FieldDef, ...]

    key = property(lambda self: self.raw["key"])
    title = property(lambda self: self.raw["title"])
    description = property(lambda self: self.raw.get("description"))
    visible_if = property(lambda self: self.raw.get("visible_if"))


@dataclass(frozen=True)
class FormDefinition:
    """A validated definition: pages, fields by key, rules compiled."""

    raw: dict[str, Any]
    pages: tuple[PageDef, ...]
    rules: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.raw["slug"]

    @property
    def title(self) -> str:
        return self.raw["title"]

    @property
    def settings(self) -> dict[str, Any]:
        return self.raw.get("settings", {})

    def fields(self) -> Iterator[FieldDef]:
        """Every top-level field, page after page."""
        for page in self.pages:
            yield from page.fields

    def answer_fields(self) -> Iterator[FieldDef]:
        return (f for f in self.fields() if f.holds_answer)

    def field(self, key: str) -> FieldDef:
        return next(f for f in self.fields() if f.key == key)

    def page_of(self, key: str) -> PageDef:
        return next(p for p in self.pages if any(f.key == key for f in p.fields))

    def canonical_json(self) -> str:
        return canonical_json(self.raw)


def canonical_json(data: dict) -> str:
    """Serialise a definition the same way every time (stable diffs, stable hashes)."""
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)


def parse_json(text: str | bytes) -> Any:
    """Parse JSON that people paste or upload; every failure is a `json.JSONDecodeError`.

    `json.loads` also raises RecursionError (arrays nested thousands deep) and ValueError
    (an integer of thousands of digits); those become a JSONDecodeError at the start.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", str(text[:0]), 0) from None
    except ValueError as exc:
        raise json.JSONDecodeError(f"unreadable value ({exc})", str(text[:0]), 0) from None


@cache
def _schema_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


def load(data: dict | str | bytes) -> FormDefinition:
    """Validate a definition (a dict or JSON text) and return it; raise DefinitionError."""
    if isinstance(data, str | bytes):
        try:
            data = parse_json(data)
        except json.JSONDecodeError as exc:
            raise DefinitionError([(f"line {exc.lineno}", f"invalid JSON: {exc.msg}")]) from exc
    if not isinstance(data, dict):
        raise DefinitionError([("(root)", "a definition is a JSON object")])
    value_errors = _check_values(data)
    if value_errors:
        raise DefinitionError(value_errors)
    schema_errors = sorted(_schema_validator().iter_errors(data), key=lambda e: list(e.path))
    if schema_errors:
        raise DefinitionError([(_path(e.absolute_path), _schema_message(e)) for e in schema_errors])
    errors: list[tuple[str, str]] = []
    pages = tuple(
        PageDef(page, tuple(_field_def(f) for f in page["fields"])) for page in data["pages"]
    )
    definition = FormDefinition(data, pages)
    _check_keys(definition, errors)
    _check_fields(definition, errors)
    rules = _compile_rules(definition, errors)
    if errors:
        raise DefinitionError(errors)
    return FormDefinition(data, pages, rules)


_LOADED: BoundedCache[FormDefinition] = BoundedCache()


def of_version(version) -> FormDefinition:
    """The definition of a FormVersion (or anything with `sha256` and `definition`).

    A published definition is immutable: it is loaded once per content hash, then reused;
    `definition` is read only when this content hash is not loaded yet: a query may defer
    that column (the JSON of a whole form) and pay for it once per process.
    """
    return _LOADED.get_or_build(version.sha256, lambda: load(version.definition))


def _check_values(data: dict) -> list[tuple[str, str]]:
    """Refuse what no check after this one may meet: deep nesting, NaN, NUL, huge numbers.

    Walks the document without recursion. PostgreSQL refuses NaN, Infinity and the NUL
    character in JSON; Python refuses to compare or format some of them.
    """
    errors: list[tuple[str, str]] = []
    pending: list[tuple[Any, tuple, int]] = [(data, (), 1)]
    while pending and len(errors) < 20:
        value, path, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > MAX_NESTING:
                errors.append((_path(path), f"nested too deeply (more than {MAX_NESTING} levels)"))
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and "\x00" in key:
                    errors.append((_path(path), "a key holds the NUL character"))
                pending.append((item, (*path, key), depth + 1))
        elif isinstance(value, str) and "\x00" in value:
            errors.append((_path(path), "the NUL character is not allowed"))
        elif isinstance(value, float) and not math.isfinite(value):
            errors.append((_path(path), f"{value} is not a number"))
        elif isinstance(value, int | float) and abs(value) > MAX_NUMBER:
            errors.append((_path(path), f"numbers must stay within ±{MAX_NUMBER}"))
    return errors


def _schema_message(error) -> str:
    if error.validator == "oneOf" and error.path and "visible_if" in error.path:
        return (
            "invalid condition: use {field, equals|not_equals|in|contains|gt|gte|lt|lte|filled}, "
            "all, any or not"
        )
    return error.message


def _field_def(raw: dict) -> FieldDef:
    return FieldDef(raw, tuple(_field_def(f) for f in raw.get("fields", ())))


def _check_keys(definition: FormDefinition, errors: list) -> None:
    seen_pages, seen_fields = set(), {}
    for p, page in enumerate(definition.pages):
        if page.key in seen_pages:
            errors.append((f"pages[{p}].key", f"duplicate page key {page.key!r}"))
        seen_pages.add(page.key)
        for i, f in enumerate(page.fields):
            path = f"pages[{p}].fields[{i}].key"
            if f.key in seen_fields:
                errors.append((path, f"duplicate field key {f.key!r} (also {seen_fields[f.key]})"))
            seen_fields.setdefault(f.key, path)
    for c, computed in enumerate(definition.raw.get("rules", {}).get("computed", [])):
        if computed["key"] in seen_fields:
            errors.append((f"rules.computed[{c}].key", f"{computed['key']!r} is already a field"))


def _check_fields(definition: FormDefinition, errors: list) -> None:
    top_keys = {f.key for f in definition.answer_fields()}
    for p, page in enumerate(definition.pages):
        if page.visible_if:
            _check_condition(page.visible_if, top_keys, None, f"pages[{p}].visible_if", errors)
        for i, f in enumerate(page.fields):
            _check_field(f, f"pages[{p}].fields[{i}]", top_keys, errors, in_group=False)


def _check_field(f: FieldDef, path: str, top_keys: set, errors: list, in_group: bool) -> None:
    if f.type in DISPLAY_TYPES:
        if not (f.get("text") or f.label):
            errors.append((path, f"a {f.type} needs a text or a label"))
    elif not f.label:
        errors.append((f"{path}.label", "a field needs a label"))
    if in_group and f.type not in GROUP_ITEM_TYPES:
        errors.append((f"{path}.type", f"a {f.type} field cannot be inside a repeatable group"))
    if f.type in CHOICE_TYPES:
        choices = f.get("choices") or []
        if not choices:
            errors.append((f"{path}.choices", f"a {f.type} field needs choices"))
        values = [c["value"] for c in choices]
        if len(set(values)) != len(values):
            errors.append((f"{path}.choices", "choice values must be unique"))
        default = f.get("default")
        defaults = default if isinstance(default, list) else [default]
        if default is not None and not all(d in values for d in defaults):
            errors.append((f"{path}.default", "the default must be one of the choices"))
    if f.type in ("yesno", "consent") and not isinstance(f.get("default", False), bool):
        errors.append((f"{path}.default", f"the default of a {f.type} field is true or false"))
    if f.type == "group" and not f.fields:
        errors.append((f"{path}.fields", "a group needs fields"))
    if f.type != "group" and f.fields:
        errors.append((f"{path}.fields", "only a group has fields"))
    validation = f.validation
    for low, high in (("min", "max"), ("min_length", "max_length"), ("min_date", "max_date")):
        if low in validation and high in validation and validation[low] > validation[high]:
            errors.append((f"{path}.validation", f"{low} is greater than {high}"))
    if "pattern" in validation:
        problem = patterns.error(validation["pattern"])
        if problem is not None:
            errors.append((f"{path}.validation.pattern", f"invalid pattern: {problem}"))
    if f.get("min_items", 0) > f.get("max_items", 50):
        errors.append((path, "min_items is greater than max_items"))
    if f.visible_if:
        _check_condition(f.visible_if, top_keys, f.key, f"{path}.visible_if", errors)
    if f.type == "group":
        item_keys = [g.key for g in f.fields]
        if len(set(item_keys)) != len(item_keys):
            errors.append((f"{path}.fields", "duplicate field key inside the group"))
        for j, g in enumerate(f.fields):
            _check_field(g, f"{path}.fields[{j}]", top_keys | set(item_keys), errors, in_group=True)


def _check_condition(condition: dict, keys: set, own_key: str | None, path: str, errors) -> None:
    for name in ("all", "any"):
        if name in condition:
            for n, part in enumerate(condition[name]):
                _check_condition(part, keys, own_key, f"{path}.{name}[{n}]", errors)
            return
    if "not" in condition:
        _check_condition(condition["not"], keys, own_key, f"{path}.not", errors)
        return
    if condition["field"] == own_key:
        errors.append((path, "a field cannot depend on itself"))
    elif condition["field"] not in keys:
        errors.append((f"{path}.field", f"unknown field {condition['field']!r}"))


def _compile_rules(definition: FormDefinition, errors: list) -> dict[str, Any]:
    rules = definition.raw.get("rules", {})
    names = {f.key for f in definition.answer_fields()}
    compiled: dict[str, Any] = {"computed": {}, "eligibility": []}

    def compile_at(source: str, path: str):
        try:
            return compile_expression(source, names)
        except ExpressionError as exc:
            errors.append((path, str(exc)))
            return None

    for c, computed in enumerate(rules.get("computed", [])):
        compiled["computed"][computed["key"]] = compile_at(
            computed["expression"], f"rules.computed[{c}].expression"
        )
        names = names | {computed["key"]}
    for e, rule in enumerate(rules.get("eligibility", [])):
        expression = compile_at(rule["condition"], f"rules.eligibility[{e}].condition")
        compiled["eligibility"].append((rule, expression))
    for name in ("amount", "priority"):
        if name in rules:
            compiled[name] = compile_at(rules[name]["expression"], f"rules.{name}.expression")
    return compiled
