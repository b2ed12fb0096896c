"""Every field type against arbitrary text: a French error or a bounded, normalised answer.

The fields are the real WTForms classes built from a definition (`wtform.form_class`),
validated in a request context as the form pages do. Hypothesis feeds each type arbitrary
Unicode, control characters, long runs, payloads and near-misses of its format. For every
input: validation returns (never raises); a refusal is French; an accepted answer respects
the type's bounds, and typing it again, or typing it as pages display it, gives it back.
"""

import re
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from forms_app.formdefs import banking, display, nc, places, wtform
from forms_app.formdefs import definition as definitions
from forms_app.formdefs.fields import DEFAULT_MAX_LENGTH
from tests.hostile_support import FORMATTED, PAYLOADS, hostile_text, valid_iban

CHOICES = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]
FIELDS = {
    "text": {"type": "text"},
    "textarea": {"type": "textarea"},
    "short_text": {"type": "text", "validation": {"min_length": 2, "max_length": 12}},
    "email": {"type": "email"},
    "phone": {"type": "phone"},
    "phone_international": {"type": "phone", "region": "international"},
    "integer": {"type": "integer", "validation": {"min": -5, "max": 10**12}},
    "amount": {"type": "amount"},
    "bounded_amount": {"type": "amount", "validation": {"min": 1000, "max": 5_000_000}},
    "date": {"type": "date"},
    "bounded_date": {"type": "date",
                     "validation": {"min_date": "2020-01-01", "max_date": "2030-12-31"}},
    "ridet": {"type": "ridet"},
    "iban": {"type": "iban"},
    "choice": {"type": "choice", "choices": CHOICES},
    "select": {"type": "choice", "widget": "select", "choices": CHOICES},
    "multichoice": {"type": "multichoice", "choices": CHOICES},
    "yesno": {"type": "yesno"},
    "consent": {"type": "consent"},
    "commune": {"type": "commune"},
    "country": {"type": "country"},
}  # fmt: skip
# Types whose answer is typed text parsed into a value that can be typed again.
RETYPED = {"text", "textarea", "short_text", "email", "phone", "phone_international", "integer",
           "amount", "bounded_amount", "date", "bounded_date", "ridet", "iban"}  # fmt: skip
# A refusal starts as the platform's French messages do (WTForms' English ones would not).
FRENCH_START = re.compile(
    r"(Renseignez|Saisissez|Choisissez|Cochez|Vous|Le|La|Les|L’|Ce|Cet|Cette|Seuls|Indiquez|"
    r"Un|Une|Ajoutez|Joignez)\b"
)
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def one_field_class(name: str):
    """The form class of a one-page definition holding this field (required)."""
    raw = {"key": "f", "label": f"Champ {name}", "required": True, **FIELDS[name]}
    definition = definitions.load(
        {"format": 1, "slug": "champs", "title": "Champs",
         "pages": [{"key": "p", "title": "Page", "fields": [raw]}]}
    )  # fmt: skip
    return wtform.form_class(definition, f"hostile-{name}")


def validate(app, name: str, values: MultiDict) -> tuple[bool, object, list[str]]:
    """(valid, the answer, the error messages) for these posted values."""
    with app.test_request_context(method="POST"):
        form = one_field_class(name)(formdata=values)
        valid = form.validate()
        return valid, form.answers.get("f"), [message for _, message in form.error_list()]


def check_answer(name: str, answer) -> None:
    """The bounds each type promises for an accepted answer."""
    kind = FIELDS[name]["type"]
    rules = FIELDS[name].get("validation", {})
    if kind in ("text", "textarea"):
        assert isinstance(answer, str) and answer == answer.strip() and answer
        assert not CONTROLS.search(answer)
        assert rules.get("min_length", 1) <= len(answer)
        assert len(answer) <= rules.get("max_length", DEFAULT_MAX_LENGTH[kind])
    elif kind == "email":
        assert isinstance(answer, str) and "@" in answer and len(answer) <= 254
        assert not CONTROLS.search(answer) and not any(c.isspace() for c in answer)
    elif kind == "phone":
        assert re.fullmatch(r"\+[1-9][0-9]{6,14}", answer, re.ASCII)
        if name == "phone":
            assert re.fullmatch(r"\+687[0-9]{6}", answer, re.ASCII)
    elif kind in ("integer", "amount"):
        assert isinstance(answer, int) and not isinstance(answer, bool)
        assert rules.get("min", 0 if kind == "amount" else -nc.XPF_MAX) <= answer
        assert answer <= rules.get("max", nc.XPF_MAX)
    elif kind == "date":
        day = date.fromisoformat(answer)
        assert date.fromisoformat(rules.get("min_date", "0001-01-01")) <= day
        assert day <= date.fromisoformat(rules.get("max_date", "9999-12-31"))
    elif kind == "ridet":
        assert re.fullmatch(r"[0-9]{10}", answer, re.ASCII) and not answer.endswith("000")
    elif kind == "iban":
        assert re.fullmatch(r"FR[0-9]{12}[0-9A-Z]{11}[0-9]{2}", answer, re.ASCII)
    elif kind == "choice":
        assert answer in {"a", "b"}
    elif kind == "multichoice":
        assert answer and set(answer) <= {"a", "b"}
    elif kind in ("yesno", "consent"):
        assert isinstance(answer, bool)
    elif kind == "commune":
        assert answer in dict(places.commune_choices())
    elif kind == "country":
        assert answer in dict(places.countries())
    else:  # pragma: no cover - every type of FIELDS is listed above
        raise AssertionError(kind)


@pytest.mark.parametrize("name", sorted(FIELDS))
@settings(max_examples=100)
@given(data=st.data())
def test_any_text_gives_a_french_error_or_a_bounded_answer(form_app, name, data):
    text = data.draw(st.one_of(hostile_text(), FORMATTED.get(name, hostile_text())))
    valid, answer, errors = validate(form_app, name, MultiDict({"f": text}))
    if valid:
        assert errors == []
        check_answer(name, answer)
    else:
        assert answer is None and errors
        for message in errors:
            assert FRENCH_START.match(message), message
            assert "Traceback" not in message and "Error" not in message


@pytest.mark.parametrize("name", sorted(RETYPED))
@settings(max_examples=60)
@given(data=st.data())
def test_an_accepted_answer_typed_again_or_as_displayed_is_the_same(form_app, name, data):
    text = data.draw(FORMATTED[name])
    valid, answer, _ = validate(form_app, name, MultiDict({"f": text}))
    assume(valid)
    check_answer(name, answer)
    again = validate(form_app, name, MultiDict({"f": str(answer)}))
    assert again == (True, answer, [])
    fdef = definitions.FieldDef({"key": "f", "label": "F", **FIELDS[name]})
    shown = display.display(fdef, answer)
    assert validate(form_app, name, MultiDict({"f": shown})) == (True, answer, [])


@pytest.mark.parametrize("name", ["multichoice"])
@settings(max_examples=40)
@given(values=st.lists(hostile_text(), max_size=5))
def test_several_arbitrary_values_of_a_multiple_choice(form_app, name, values):
    valid, answer, errors = validate(form_app, name, MultiDict([("f", v) for v in values]))
    if valid:
        check_answer(name, answer)
    else:
        assert errors and all(FRENCH_START.match(message) for message in errors)


ADDRESS = {"key": "f", "type": "address", "label": "Adresse", "required": True}
GROUP = {"key": "f", "type": "group", "label": "Membres", "item_label": "membre", "max_items": 3,
         "required": True,
         "fields": [{"key": "nom", "type": "text", "label": "Nom", "required": True},
                    {"key": "montant", "type": "amount", "label": "Montant"}]}  # fmt: skip


def composite_class(raw: dict):
    definition = definitions.load(
        {"format": 1, "slug": "composite", "title": "Composite",
         "pages": [{"key": "p", "title": "Page", "fields": [raw]}]}
    )  # fmt: skip
    return wtform.form_class(definition, f"hostile-{raw['type']}")


@settings(max_examples=60)
@given(
    street=hostile_text(), postal=hostile_text(), city=hostile_text(),
    name=hostile_text(), amount=hostile_text(), index=st.sampled_from(["0", "1", "7", "99999"]),
)  # fmt: skip
def test_addresses_and_groups_take_any_text(form_app, street, postal, city, name, amount, index):
    posted = MultiDict({"f-street": street, "f-postal_code": postal, "f-city": city})
    with form_app.test_request_context(method="POST"):
        form = composite_class(ADDRESS)(formdata=posted)
        if form.validate():
            answer = form.answers["f"]
            assert re.fullmatch(r"988[0-9]{2}", answer["postal_code"], re.ASCII)
            assert len(answer["street"]) <= 200 and len(answer["city"]) <= 100
            assert not any(CONTROLS.search(value) for value in answer.values())
        else:
            assert all(FRENCH_START.match(message) for _, message in form.error_list())
        posted = MultiDict({f"f-{index}-nom": name, f"f-{index}-montant": amount})
        form = composite_class(GROUP)(formdata=posted)
        if form.validate():
            [item] = form.answers["f"]
            assert 0 <= item.get("montant", 0) <= nc.XPF_MAX
            assert 0 < len(item["nom"]) <= DEFAULT_MAX_LENGTH["text"]
        else:
            assert all(FRENCH_START.match(message) for _, message in form.error_list())


def test_the_address_refuses_postal_codes_in_other_digits(form_app):
    """`\\d` would take Arabic-Indic or full-width digits: 988 followed by two of them."""
    for postal in ("988٠٠", "９８８００", "988𝟎𝟎", "98800"):
        posted = MultiDict({"f-street": "1 rue A", "f-postal_code": postal, "f-city": "Nouméa"})
        with form_app.test_request_context(method="POST"):
            form = composite_class(ADDRESS)(formdata=posted)
            assert form.validate() is (postal == "98800"), postal


def test_a_long_text_is_refused_past_the_default_limit(form_app):
    """Without max_length in the definition, a text answer still has a bound."""
    limit = DEFAULT_MAX_LENGTH["textarea"]
    assert validate(form_app, "textarea", MultiDict({"f": "é" * limit}))[0]
    valid, _, errors = validate(form_app, "textarea", MultiDict({"f": "é" * (limit + 1)}))
    assert not valid and errors == [f"Saisissez au plus {limit} caractères."]
    valid, _, errors = validate(form_app, "text", MultiDict({"f": "a " * 600}))
    assert not valid and errors == ["Saisissez au plus 1000 caractères."]


def test_control_characters_are_dropped_from_text_answers(form_app):
    valid, answer, _ = validate(form_app, "textarea", MultiDict({"f": "a\x00b\x1b[0m\r\nc\x85"}))
    assert valid and answer == "ab[0m\r\nc"
    for payload in PAYLOADS:  # markup and template syntax are kept as typed, escaped later
        valid, answer, _ = validate(form_app, "textarea", MultiDict({"f": payload}))
        if valid:
            assert answer == CONTROLS.sub("", payload).strip()


# --- The format functions themselves ---------------------------------------------------


@settings(max_examples=300)
@given(amount=st.integers(0, nc.XPF_MAX))
def test_every_amount_reads_back_from_its_display(amount):
    assert nc.parse_xpf(nc.format_xpf(amount)) == amount
    assert nc.parse_xpf(str(amount)) == amount


@settings(max_examples=200)
@given(text=hostile_text())
def test_amounts_never_pass_the_maximum(text):
    try:
        amount = nc.parse_xpf(text)
    except nc.InvalidValue as exc:
        assert FRENCH_START.match(exc.message)
    else:
        assert 0 <= amount <= nc.XPF_MAX


@settings(max_examples=200)
@given(
    country=st.sampled_from(["FR", "NC", "DE", "MC", "PF"]),
    bban=st.text(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=1,
                 max_size=30),
    spacing=st.sampled_from(["", " ", "\u00a0", "\t"]),
)  # fmt: skip
def test_ibans_with_valid_check_digits_are_accepted_or_refused_in_french(country, bban, spacing):
    """Check digits that hold reach the BBAN checks and the NC conversion (schwifty)."""
    iban = valid_iban(country, bban)
    typed = spacing.join(iban[i : i + 4] for i in range(0, len(iban), 4)).lower()
    try:
        result = banking.normalize_iban(typed)
    except nc.InvalidValue as exc:
        assert FRENCH_START.match(exc.message)
    else:
        assert re.fullmatch(r"FR[0-9]{12}[0-9A-Z]{11}[0-9]{2}", result.value, re.ASCII)
        assert banking.normalize_iban(banking.format_iban(result.value)).value == result.value
        assert result.converted is (country == "NC")


@pytest.mark.parametrize(
    "function",
    [banking.normalize_bic, banking.normalize_rib, places.normalize_nc_postal_code,
     places.normalize_country_code, places.get_commune, nc.normalize_ridet, nc.parse_date,
     nc.normalize_nc_phone, nc.normalize_international_phone, nc.format_phone,
     banking.format_rib, nc.format_ridet, nc.nc_phone_kind, banking.nc_bank_name],
    ids=lambda function: function.__name__,
)  # fmt: skip
@settings(max_examples=60)
@given(text=hostile_text(digits="0123456789ABCDEFGHNRSTUVWXYZ"))
def test_format_functions_raise_only_their_french_error(function, text):
    try:
        result = function(text)
    except nc.InvalidValue as exc:
        assert FRENCH_START.match(exc.message), exc.message
    else:
        shown = str(getattr(result, "key", result))
        assert not CONTROLS.search(shown)
        if function in (banking.normalize_bic, places.normalize_nc_postal_code, nc.normalize_ridet):
            assert shown.isascii() and function(shown) == result
