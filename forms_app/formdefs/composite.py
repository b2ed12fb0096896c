"""Fields made of fields: a postal address, and repeatable groups (household members...)."""

from typing import Any

from wtforms import FieldList, Form, FormField
from wtforms.validators import ValidationError

from forms_app.formdefs.conditions import is_visible
from forms_app.formdefs.definition import FieldDef


def _address_parts(fdef: FieldDef) -> list[FieldDef]:
    required = fdef.required
    if fdef.get("region", "NC") == "NC":
        postal = {
            "pattern": r"988[0-9]{2}",
            "pattern_message": "Le code postal doit comporter 5 chiffres et commencer par 988, "
            "par exemple 98800.",
        }
    else:
        postal = {"pattern": r"[0-9A-Za-z \-]{2,12}", "pattern_message": "Code postal non valide."}
    parts = [
        ("street", "Numéro et voie", required, {"max_length": 200}),
        ("complement", "Complément (BP, lot, bâtiment)", False, {"max_length": 200}),
        ("postal_code", "Code postal", required, postal),
        ("city", "Commune ou ville", required, {"max_length": 100}),
    ]
    return [
        FieldDef({"key": key, "type": "text", "label": label, "required": req, "validation": rules})
        for key, label, req, rules in parts
    ]


def _subform_class(name: str, parts: list[FieldDef]) -> type[Form]:
    from forms_app.formdefs.fields import make_field

    attributes = {part.key: make_field(part) for part in parts if part.holds_answer}
    attributes["parts"] = parts
    return type(name, (Form,), attributes)


def answer_of(field) -> Any:
    """The typed answer a validated field holds."""
    if isinstance(field, AddressField | GroupField):
        return field.answer
    return getattr(field, "answer", None)


class AddressField(FormField):
    """Street, complement, postal code and city, stored as one dict."""

    def __init__(self, *args, fdef: FieldDef, **kwargs):
        super().__init__(_subform_class("AddressForm", _address_parts(fdef)), *args, **kwargs)
        self.fdef = fdef

    @property
    def answer(self) -> dict | None:
        values = {part.key: answer_of(self.form[part.key]) for part in self.form.parts}
        values = {key: value for key, value in values.items() if value}
        return values or None


class GroupField(FieldList):
    """A repeatable group: between min_items and max_items items, empty items ignored."""

    def __init__(self, *args, fdef: FieldDef, **kwargs):
        item_form = _subform_class("GroupItemForm", list(fdef.fields))
        self.fdef = fdef
        self.context: dict[str, Any] = {}
        self.answer: list[dict] | None = None
        super().__init__(
            FormField(item_form),
            *args,
            min_entries=max(fdef.get("min_items", 0), 1),
            max_entries=fdef.get("max_items", 50),
            **kwargs,
        )

    def validate(self, form, extra_validators=()) -> bool:
        self.errors = []
        items, ok = [], True
        for entry in self.entries:
            if _blank(entry.form):
                continue
            values = dict(self.context)
            item, item_ok = validate_visible(entry.form, entry.form.parts, values)
            ok = ok and item_ok
            items.append(item)
        self.answer = items or None
        minimum, maximum = self.fdef.get("min_items", 0), self.fdef.get("max_items", 50)
        needed = max(minimum, 1 if self.fdef.required else 0)
        try:
            if len(items) < needed:
                label = self.fdef.get("item_label", "élément")
                raise ValidationError(
                    f"Ajoutez au moins {needed} {label}{'s' if needed > 1 else ''}."
                )
            if len(items) > maximum:
                raise ValidationError(f"Vous pouvez en déclarer au plus {maximum}.")
        except ValidationError as exc:
            self.errors.append(str(exc))
            ok = False
        return ok


def _blank(item_form: Form) -> bool:
    return all(
        not (field.data or "").strip() if isinstance(field.data, str) else not field.data
        for field in item_form
    )


def make_composite(fdef: FieldDef, common: dict):
    if fdef.type == "address":
        return AddressField(fdef=fdef, **common)
    return GroupField(fdef=fdef, **common)


def validate_visible(form: Form, fdefs, context: dict[str, Any]) -> tuple[dict, bool]:
    """Validate the visible fields only; return (answers of visible fields, all valid?).

    Visibility is computed to a fixed point: a field hidden by its condition counts as
    unanswered for the conditions of others. Hidden fields are neither required nor stored.
    """
    candidates: dict[str, Any] = {}
    valid: dict[str, bool] = {}
    answer_defs = [fdef for fdef in fdefs if fdef.holds_answer]
    for fdef in answer_defs:
        field = form[fdef.key]
        if isinstance(field, GroupField):
            field.context = {**context, **candidates}
        valid[fdef.key] = field.validate(form)
        candidates[fdef.key] = answer_of(field) if valid[fdef.key] else None
    visible = {fdef.key for fdef in answer_defs}
    for _ in range(len(answer_defs) + 1):
        values = {**context, **{k: v for k, v in candidates.items() if k in visible}}
        now_visible = {fdef.key for fdef in answer_defs if is_visible(fdef.visible_if, values)}
        if now_visible == visible:
            break
        visible = now_visible
    answers, ok = {}, True
    for fdef in answer_defs:
        field = form[fdef.key]
        if fdef.key not in visible:
            field.errors = [] if not isinstance(field.errors, dict) else {}
            continue
        ok = ok and valid[fdef.key]
        value = candidates[fdef.key]
        if value not in (None, "", [], {}):
            answers[fdef.key] = value
    return answers, ok
