"""WTForms classes built at runtime from a definition, cached per form version."""

from flask_wtf import FlaskForm

from forms_app.formdefs.cache import BoundedCache
from forms_app.formdefs.composite import validate_visible
from forms_app.formdefs.definition import FieldDef, FormDefinition
from forms_app.formdefs.fields import make_field

_CLASSES: BoundedCache[type["DefinitionForm"]] = BoundedCache()


class DefinitionForm(FlaskForm):
    """An applicant form: validates only what is visible and collects typed answers."""

    definition: FormDefinition
    effective_fields: tuple[FieldDef, ...]

    def validate(self, extra_validators=None) -> bool:
        """Check the CSRF token, then every visible field; fill `self.answers`."""
        csrf_ok = True
        if self.meta.csrf:
            csrf_ok = self.csrf_token.validate(self)
        self.answers, ok = validate_visible(self, self.effective_fields, {})
        self.notes = {
            key: self[key].notes for key in self.answers if getattr(self[key], "notes", None)
        }
        return ok and csrf_ok

    def error_list(self) -> list[tuple[str, str]]:
        """(field id, message) pairs in page order, for the error summary."""
        pairs: list[tuple[str, str]] = []
        for field in self:
            _collect(field, pairs)
        return pairs


def _collect(field, pairs: list) -> None:
    errors = field.errors
    if isinstance(errors, dict) or hasattr(field, "form") or hasattr(field, "entries"):
        if hasattr(field, "entries"):
            pairs.extend((field.id, message) for message in errors if isinstance(message, str))
            for entry in field.entries:
                for sub in entry.form:
                    _collect(sub, pairs)
        elif hasattr(field, "form"):
            for sub in field.form:
                _collect(sub, pairs)
        return
    if field.type == "CSRFTokenField":
        if errors:
            pairs.append(
                ("", "Votre session a expiré : vérifiez vos réponses et envoyez à nouveau.")
            )
        return
    pairs.extend((field.id, message) for message in errors)


def effective_fields(definition: FormDefinition) -> tuple[FieldDef, ...]:
    """Fields with their page's condition folded into their own."""
    fields = []
    for page in definition.pages:
        for fdef in page.fields:
            conditions = [c for c in (page.visible_if, fdef.visible_if) if c]
            if page.visible_if:
                raw = {
                    **fdef.raw,
                    "visible_if": conditions[0] if len(conditions) == 1 else {"all": conditions},
                }
                fdef = FieldDef(raw, fdef.fields)
            fields.append(fdef)
    return tuple(fields)


def form_class(definition: FormDefinition, cache_key: str) -> type[DefinitionForm]:
    """Return the form class for a definition; `cache_key` is the hash of its canonical JSON."""
    return _CLASSES.get_or_build(cache_key, lambda: _build_class(definition))


def _build_class(definition: FormDefinition) -> type[DefinitionForm]:
    fields = effective_fields(definition)
    attributes = {f.key: make_field(f) for f in fields if f.holds_answer}
    attributes.update(definition=definition, effective_fields=fields)
    return type(f"Form_{definition.slug.replace('-', '_')}", (DefinitionForm,), attributes)
