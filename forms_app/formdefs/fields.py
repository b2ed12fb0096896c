"""Field types: the WTForms field each type renders as, and how its input becomes an answer.

Every type parses the raw input into a typed, normalised answer (an E.164 phone, a 10-digit
RIDET, a compact IBAN, an integer amount, an ISO date...) or fails with a French message.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from wtforms import (
    BooleanField,
    Field,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from forms_app.formdefs import banking, nc, patterns, places
from forms_app.formdefs.definition import FieldDef
from forms_app.formdefs.files import check_files
from forms_app.formdefs.text import without_controls

Parser = Callable[[str, FieldDef], Any]
# Lengths when the definition sets none: the receipt prints every answer, and its PDF must
# render within PDF_JOB_TIMEOUT whatever was typed (the form post alone allows 500 kB a field).
DEFAULT_MAX_LENGTH = {"text": 1_000, "textarea": 10_000}


def required_message(fdef: FieldDef) -> str:
    return f"Renseignez « {fdef.label} »."


class AnswerField(StringField):
    """A text input whose value is parsed into a typed answer by its type's parser."""

    def __init__(self, *args, fdef: FieldDef, parser: Parser, **kwargs):
        super().__init__(*args, **kwargs)
        self.fdef, self.parser, self.answer = fdef, parser, None
        self.notes: list[str] = []

    def pre_validate(self, form) -> None:
        text = without_controls(self.data or "").strip()
        self.answer, self.notes = None, []
        if not text:
            if self.fdef.required:
                raise ValidationError(required_message(self.fdef))
            return
        try:
            parsed = self.parser(text, self.fdef)
        except nc.InvalidValue as exc:
            raise ValidationError(str(exc)) from exc
        if isinstance(parsed, Noted):
            parsed, self.notes = parsed.value, list(parsed.notes)
        self.answer = parsed
        _check_limits(self.answer, self.fdef)


@dataclass(frozen=True)
class Noted:
    """A parsed answer with notes for the agents (e.g. an NC IBAN converted to its FR form)."""

    value: Any
    notes: tuple[str, ...]


def _parse_iban(text: str, _fdef: FieldDef) -> Noted:
    result = banking.normalize_iban(text)
    return Noted(result.value, tuple(result.warnings))


def _pattern_matches(pattern: str, value: str, fdef: FieldDef) -> bool:
    try:
        return patterns.matches(pattern, value)
    except patterns.PatternTimeout:
        patterns.log.warning("validation pattern of field %r ran out of time", fdef.key)
        return False


def _check_limits(value: Any, fdef: FieldDef) -> None:
    """Apply the definition's validation block to a parsed answer."""
    rules = fdef.validation
    if isinstance(value, str) and fdef.type in ("text", "textarea", "email"):
        if "min_length" in rules and len(value) < rules["min_length"]:
            raise ValidationError(f"Saisissez au moins {rules['min_length']} caractères.")
        max_length = rules.get("max_length", DEFAULT_MAX_LENGTH.get(fdef.type))
        if max_length is not None and len(value) > max_length:
            raise ValidationError(f"Saisissez au plus {max_length} caractères.")
        if "pattern" in rules and not _pattern_matches(rules["pattern"], value, fdef):
            raise ValidationError(rules.get("pattern_message") or "Le format n’est pas valide.")
    if isinstance(value, int) and not isinstance(value, bool):
        unit = " F CFP" if fdef.type == "amount" else ""
        if "min" in rules and value < rules["min"]:
            raise ValidationError(f"La valeur doit être au moins {_number(rules['min'])}{unit}.")
        if "max" in rules and value > rules["max"]:
            raise ValidationError(f"La valeur doit être au plus {_number(rules['max'])}{unit}.")
    if fdef.type == "date":
        day = date.fromisoformat(value)
        if "min_date" in rules and day < date.fromisoformat(rules["min_date"]):
            limit = nc.format_date(date.fromisoformat(rules["min_date"]))
            raise ValidationError(f"La date doit être le {limit} ou après.")
        if "max_date" in rules and day > date.fromisoformat(rules["max_date"]):
            limit = nc.format_date(date.fromisoformat(rules["max_date"]))
            raise ValidationError(f"La date doit être le {limit} ou avant.")


def _number(value: float) -> str:
    return nc.format_xpf(int(value)).split("\u00a0")[0] if value == int(value) else str(value)


def _parse_text(text: str, _fdef: FieldDef) -> str:
    return text


def _parse_email(text: str, _fdef: FieldDef) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise nc.InvalidValue(
            "Saisissez une adresse e-mail valide, par exemple nom@exemple.nc."
        ) from exc


def _parse_integer(text: str, _fdef: FieldDef) -> int:
    compact = "".join(text.split())
    if not re.fullmatch(r"-?[0-9]{1,15}", compact):
        raise nc.InvalidValue("Saisissez un nombre entier, par exemple 3.")
    return int(compact)


def _parse_phone(text: str, fdef: FieldDef) -> str:
    return nc.normalize_phone(
        text, "international" if fdef.get("region") == "international" else "nc"
    )


PARSERS: dict[str, Parser] = {
    "text": _parse_text,
    "textarea": _parse_text,
    "email": _parse_email,
    "phone": _parse_phone,
    "integer": _parse_integer,
    "amount": lambda text, _f: nc.parse_xpf(text),
    "date": lambda text, _f: nc.parse_date(text).isoformat(),
    "ridet": lambda text, _f: nc.normalize_ridet(text),
    "iban": _parse_iban,
}

INPUT_ATTRIBUTES: dict[str, dict[str, str]] = {
    "email": {"type": "email", "autocomplete": "email", "spellcheck": "false"},
    "phone": {"type": "tel", "autocomplete": "tel"},
    "integer": {"inputmode": "numeric"},
    "amount": {"inputmode": "numeric"},
    "date": {"type": "date"},
    "ridet": {"inputmode": "numeric", "spellcheck": "false"},
    "iban": {"spellcheck": "false", "autocomplete": "off"},
}


class ChoiceMixin:
    """French messages for choice fields and a parsed answer like the other types."""

    def pre_validate(self, form) -> None:
        self.answer = None
        values = [value for value, _label in self._flat_choices()]
        if self.data in (None, "", "None"):
            if self.fdef.required:
                raise ValidationError(f"Choisissez une réponse pour « {self.fdef.label} ».")
            return
        if self.data not in values:
            raise ValidationError("Choisissez une des réponses proposées.")
        self.answer = self.coerce_answer(self.data)

    def _flat_choices(self):
        return [(choice.value, choice.label) for choice in self.choices if choice.value != ""]

    def coerce_answer(self, value: str) -> Any:
        return value


class ChoiceRadioField(ChoiceMixin, RadioField):
    def __init__(self, *args, fdef: FieldDef, **kwargs):
        super().__init__(*args, validate_choice=False, **kwargs)
        self.fdef, self.answer = fdef, None


class ChoiceSelectField(ChoiceMixin, SelectField):
    def __init__(self, *args, fdef: FieldDef, **kwargs):
        super().__init__(*args, validate_choice=False, **kwargs)
        self.fdef, self.answer = fdef, None


class YesNoField(ChoiceRadioField):
    def coerce_answer(self, value: str) -> bool:
        return value == "oui"


class MultiChoiceField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __init__(self, *args, fdef: FieldDef, **kwargs):
        super().__init__(*args, validate_choice=False, **kwargs)
        self.fdef, self.answer = fdef, None

    def pre_validate(self, form) -> None:
        selected = [value for value in (self.data or []) if value]
        values = [choice.value for choice in self.choices]
        self.answer = None
        if not selected:
            if self.fdef.required:
                raise ValidationError(f"Cochez au moins une réponse pour « {self.fdef.label} ».")
            return
        if not set(selected) <= set(values):
            raise ValidationError("Choisissez parmi les réponses proposées.")
        rules = self.fdef.validation
        if "min" in rules and len(selected) < rules["min"]:
            raise ValidationError(f"Cochez au moins {int(rules['min'])} réponses.")
        if "max" in rules and len(selected) > rules["max"]:
            raise ValidationError(f"Cochez au plus {int(rules['max'])} réponses.")
        self.answer = [value for value in values if value in selected]


class ConsentField(BooleanField):
    def __init__(self, *args, fdef: FieldDef, **kwargs):
        super().__init__(*args, **kwargs)
        self.fdef, self.answer = fdef, None

    def pre_validate(self, form) -> None:
        self.answer = True if self.data else None
        if self.fdef.required and not self.data:
            raise ValidationError("Vous devez cocher cette case pour continuer.")


class UploadField(MultipleFileField):
    def __init__(self, *args, fdef: FieldDef, **kwargs):
        super().__init__(*args, **kwargs)
        self.fdef, self.answer = fdef, None
        # Files stored earlier (a draft's page saved before): they stand unless replaced.
        self.kept: list[dict] = []

    def pre_validate(self, form) -> None:
        files = [f for f in (self.data or []) if getattr(f, "filename", "")]
        self.answer = None
        if not files:
            if self.kept:
                self.answer = list(self.kept)
            elif self.fdef.required:
                raise ValidationError(f"Joignez « {self.fdef.label} ».")
            return
        try:
            self.answer = check_files(files, self.fdef)
        except nc.InvalidValue as exc:
            raise ValidationError(str(exc)) from exc


def make_field(fdef: FieldDef) -> Field | None:
    """Return the unbound WTForms field for a definition field (None for display-only types)."""
    label, hint = fdef.label, fdef.hint
    common = {"label": label, "description": hint or ""}
    kind = fdef.type
    if kind in PARSERS:
        default = fdef.get("default")
        render = dict(INPUT_ATTRIBUTES.get(kind, {}))
        if kind == "textarea" and "max_length" in fdef.validation:
            render["data-maxlength"] = str(fdef.validation["max_length"])
        return AnswerField(
            fdef=fdef,
            parser=PARSERS[kind],
            default=None if default is None else str(default),
            widget=widgets.TextArea() if kind == "textarea" else None,
            render_kw=render,
            **common,
        )
    if kind in ("choice", "commune", "country"):
        choices = _choices(fdef)
        if kind == "choice" and fdef.get("widget", "radio") == "radio":
            return ChoiceRadioField(
                fdef=fdef, choices=choices, default=fdef.get("default"), **common
            )
        choices = [SelectChoice("", "Choisir…"), *choices]
        return ChoiceSelectField(fdef=fdef, choices=choices, default=fdef.get("default"), **common)
    if kind == "yesno":
        default = {True: "oui", False: "non"}.get(fdef.get("default"))
        choices = [SelectChoice("oui", "Oui"), SelectChoice("non", "Non")]
        return YesNoField(fdef=fdef, choices=choices, default=default, **common)
    if kind == "multichoice":
        return MultiChoiceField(
            fdef=fdef, choices=_choices(fdef), default=fdef.get("default"), **common
        )
    if kind == "consent":
        return ConsentField(fdef=fdef, default=bool(fdef.get("default")), **common)
    if kind == "file":
        render = {
            "accept": ",".join(_ACCEPT[t] for t in fdef.get("accept", ["pdf", "jpeg", "png"]))
        }
        if fdef.get("max_files", 1) > 1:
            render["multiple"] = True
        return UploadField(fdef=fdef, render_kw=render, **common)
    if kind in ("address", "group"):
        from forms_app.formdefs.composite import make_composite

        return make_composite(fdef, common)
    return None


_ACCEPT = {"pdf": ".pdf,application/pdf", "jpeg": ".jpg,.jpeg,image/jpeg", "png": ".png,image/png"}


def _choices(fdef: FieldDef) -> list[SelectChoice]:
    if fdef.type == "commune":
        return [SelectChoice(value, label) for value, label in places.commune_choices()]
    if fdef.type == "country":
        every = places.countries()
        picks = fdef.get("quick_picks")
        if not picks:
            return [SelectChoice(code, name) for code, name in every]
        names = dict(every)
        frequent = [SelectChoice(c, names[c], optgroup="Pays les plus fréquents") for c in picks]
        return frequent + [
            SelectChoice(code, name, optgroup="Tous les pays")
            for code, name in every
            if code not in picks
        ]
    return [SelectChoice(choice["value"], choice["label"]) for choice in fdef.get("choices", [])]
