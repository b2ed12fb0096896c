"""Hostile definitions: any JSON is a valid definition or a clear refusal, never a crash.

A definition comes from the builder's import (an uploaded or pasted file) or its JSON
editors, and is loaded again on every page an applicant sees. Hypothesis takes a valid
definition holding every field type and rules, and replaces any part of it with arbitrary
JSON; `definitions.load` must accept the result or raise DefinitionError with (path,
message) pairs. An accepted definition must then be usable: stored as JSON (PostgreSQL
takes no NaN or NUL), built into its form class, validated against any posted values and
run through its rules without an exception.
"""

import copy
import json
import math

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from forms_app.formdefs import definition as definitions
from forms_app.formdefs import display, rules, wtform
from tests.hostile_support import PAYLOADS, hostile_text

BASE = {
    "format": 1, "slug": "complet", "title": "Toutes les questions",
    "settings": {"reference_prefix": "TOUT", "budget_envelope": 1000000,
                 "company_name_field": "nom", "account_holder_field": "nom"},
    "pages": [
        {"key": "p1", "title": "Tout", "fields": [
            {"key": "intro", "type": "paragraph", "text": "Bonjour"},
            {"key": "nom", "type": "text", "label": "Nom", "required": True,
             "validation": {"max_length": 50, "pattern": "[A-Za-z ]+"}},
            {"key": "note", "type": "textarea", "label": "Note"},
            {"key": "courriel", "type": "email", "label": "Courriel"},
            {"key": "tel", "type": "phone", "label": "Téléphone"},
            {"key": "nombre", "type": "integer", "label": "Nombre", "validation": {"min": 0}},
            {"key": "montant", "type": "amount", "label": "Montant", "default": 1000},
            {"key": "jour", "type": "date", "label": "Jour",
             "validation": {"min_date": "2020-01-01"}},
            {"key": "choix", "type": "choice", "label": "Choix", "default": "a",
             "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
            {"key": "multi", "type": "multichoice", "label": "Multi",
             "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
             "visible_if": {"field": "choix", "equals": "a"}},
            {"key": "ok", "type": "yesno", "label": "OK", "default": True},
            {"key": "accord", "type": "consent", "label": "Accord"},
            {"key": "ridet", "type": "ridet", "label": "RIDET"},
            {"key": "iban", "type": "iban", "label": "IBAN"},
            {"key": "commune", "type": "commune", "label": "Commune"},
            {"key": "pays", "type": "country", "label": "Pays", "quick_picks": ["FR"]},
            {"key": "adresse", "type": "address", "label": "Adresse"},
            {"key": "piece", "type": "file", "label": "Pièce", "max_files": 2},
            {"key": "membres", "type": "group", "label": "Membres", "max_items": 3,
             "fields": [{"key": "prenom", "type": "text", "label": "Prénom"}]},
        ]},
        {"key": "p2", "title": "Suite", "visible_if": {"not": {"field": "ok", "equals": False}},
         "fields": [{"key": "titre", "type": "heading", "label": "Titre"}]},
    ],
    "rules": {
        "computed": [{"key": "double", "expression": "coalesce(montant, 0) * 2"}],
        "eligibility": [{"key": "assez", "condition": "double >= 0", "message": "Non."}],
        "amount": {"expression": "min(double, 500000)", "cap": 400000},
        "priority": {"expression": "1 if ok else 2"},
    },
}  # fmt: skip

JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), hostile_text(),
    st.sampled_from([0, -1, 2**63, 10**30, 1e308, float("inf"), float("nan"), "", "a", "x" * 600]),
)  # fmt: skip
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(["key", "type", "field", "equals", "not",
                                                   "all", "label", "fields", "choices"]),
                                  st.text(max_size=8)), inner, max_size=4),
    ),
    max_leaves=10,
)  # fmt: skip


def _paths(value, path=()):
    """Every path inside a JSON document."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


ALL_PATHS = list(_paths(BASE))


def _alike(value) -> st.SearchStrategy:
    """Values of the same JSON type as value: most changes keep the document's shape."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int | float):
        return st.one_of(st.integers(), st.floats())
    if isinstance(value, str):
        return hostile_text()
    if isinstance(value, list):
        return st.lists(st.sampled_from(value), max_size=4) if value else st.just([])
    return st.just(value)


@st.composite
def mutated_definitions(draw):
    """BASE with one to three parts replaced by arbitrary JSON, or removed."""
    document = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = document
        try:
            for part in path[:-1]:
                parent = parent[part]
            if not path:
                return draw(JSON)
            how = draw(st.sampled_from(["remove", "any", "alike", "alike", "alike"]))
            if how == "remove" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                original = parent[path[-1]]
                parent[path[-1]] = draw(JSON if how == "any" else _alike(original))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    return document


def test_the_base_definition_is_valid():
    """Otherwise every mutation would be refused and prove nothing."""
    definitions.load(BASE)


def check_usable(app, definition, posted: MultiDict) -> None:
    """What the platform does with a loaded definition must not raise."""
    text = json.dumps(definition.raw, allow_nan=False, ensure_ascii=False)
    assert "\\u0000" not in text  # PostgreSQL's JSONB takes neither NaN nor NUL
    assert json.loads(definitions.canonical_json(definition.raw)) == definition.raw
    with app.test_request_context(method="POST"):
        form = wtform.form_class(definition, definitions.canonical_json(definition.raw))
        web_form = form(formdata=posted)
        web_form.validate()
        web_form.error_list()
        results = rules.evaluate(definition, web_form.answers)
        json.dumps(results.to_json(), allow_nan=False)
        display.summary(definition, web_form.answers)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(document=mutated_definitions(), text=hostile_text())
def test_any_change_gives_a_usable_definition_or_a_clear_refusal(form_app, document, text):
    try:
        definition = definitions.load(document)
    except definitions.DefinitionError as exc:
        assert exc.errors
        for path, message in exc.errors:
            assert isinstance(path, str) and path
            assert isinstance(message, str) and message
        return
    event("accepted")
    posted = MultiDict({f.key: text for f in definition.answer_fields()})
    check_usable(form_app, definition, posted)


@settings(max_examples=200)
@given(document=JSON)
def test_any_json_document_is_refused_cleanly(document):
    for data in (document, json.dumps(document)):
        with pytest.raises(definitions.DefinitionError) as refused:
            definitions.load(data)
        assert refused.value.errors


@settings(max_examples=200)
@given(text=st.one_of(hostile_text(), st.binary(max_size=200)))
def test_any_text_or_bytes_is_refused_cleanly(text):
    with pytest.raises(definitions.DefinitionError):
        definitions.load(text)


def _nested(depth: int, leaf: str = '{"field": "a", "filled": true}') -> str:
    return '{"not": ' * depth + leaf + "}" * depth


HOSTILE_DOCUMENTS = {
    "arrays 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "objects 5,000 deep": '{"a": ' * 5_000 + "1" + "}" * 5_000,
    "condition 400 deep": json.dumps(
        {
            **BASE,
            "pages": [
                {
                    "key": "p",
                    "title": "P",
                    "fields": [
                        {"key": "a", "type": "text", "label": "A"},
                        {
                            "key": "b",
                            "type": "text",
                            "label": "B",
                            "visible_if": json.loads(_nested(400)),
                        },
                    ],
                }
            ],
        }
    ),
    "a 5,000-digit integer": '{"format": 1, "budget": ' + "9" * 5_000 + "}",
    "NaN": json.dumps({**BASE, "settings": {"budget_envelope": float("nan")}}),
    "Infinity": '{"format": 1, "slug": "x", "title": "T", "pages": [], "n": Infinity}',
    "1e400": json.dumps(BASE).replace('"min": 0', '"min": 1e400'),
    "NUL": json.dumps({**BASE, "title": "Titre\u0000"}),
    "NUL in a key": json.dumps({**BASE, "settings": {"\u0000": 1}}),
    "unhashable default": json.dumps(BASE).replace('"default": "a"', '"default": {"a": [1]}'),
    "list default of yes/no": json.dumps(BASE).replace('"default": true', '"default": [1]'),
    "number past 64 bits": json.dumps({**BASE, "settings": {"budget_envelope": 2**64}}),
    "not an object": "[1, 2, 3]",
    "lone surrogate": '{"format": 1, "title": "\\ud800"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCUMENTS))
def test_documents_that_used_to_crash_are_refused(name):
    with pytest.raises(definitions.DefinitionError) as refused:
        definitions.load(HOSTILE_DOCUMENTS[name])
    assert refused.value.errors


def test_the_json_reader_turns_every_failure_into_a_decode_error():
    for text in ("[" * 100_000, "9" * 5_000, '{"a": }'):
        with pytest.raises(json.JSONDecodeError) as failed:
            definitions.parse_json(text)
        assert failed.value.lineno >= 1 and failed.value.colno >= 1
    assert math.isinf(definitions.parse_json("Infinity"))  # refused later, by load


def test_payloads_in_texts_are_kept_as_text():
    """Markup and template syntax in labels are data: the definition keeps them as typed."""
    document = copy.deepcopy(BASE)
    document["title"] = PAYLOADS[0]
    document["pages"][0]["fields"][1]["label"] = PAYLOADS[2]
    definition = definitions.load(document)
    assert definition.title == PAYLOADS[0]
    assert definition.field("nom").label == "{{ 7*7 }}"
