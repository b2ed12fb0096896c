"""Loading definitions: schema errors and semantic errors name the bad path."""

import copy
import json

import pytest

from forms_app.formdefs.definition import DefinitionError, load

BASE = {
    "format": 1,
    "slug": "essai",
    "title": "Essai",
    "pages": [
        {
            "key": "p1",
            "title": "Page",
            "fields": [
                {"key": "nom", "type": "text", "label": "Nom"},
                {"key": "n", "type": "integer", "label": "Nombre"},
                {"key": "c", "type": "choice", "label": "Choix",
                 "choices": [{"value": "a", "label": "A"}]},
            ],
        }
    ],
}  # fmt: skip


def with_changes(change) -> dict:
    data = copy.deepcopy(BASE)
    change(data)
    return data


def errors_of(data) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        load(data)
    return caught.value.errors


def test_valid_definition_loads():
    definition = load(BASE)
    assert [f.key for f in definition.fields()] == ["nom", "n", "c"]


def test_json_text_errors_give_the_line():
    assert errors_of('{"format": 1,\n "slug": }')[0][0] == "line 2"


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d["pages"][0]["fields"][1].update(type="nombre"), "pages[0].fields[1].type", "is not one of"),
        (lambda d: d.update(slug="Pas un slug"), "slug", "does not match"),
        (lambda d: d["pages"][0]["fields"][0].update(key="Nom"), "pages[0].fields[0].key", "does not match"),
        (lambda d: d["pages"][0].pop("title"), "pages[0]", "'title' is a required property"),
        (lambda d: d["pages"][0]["fields"][0].update(colour="red"), "pages[0].fields[0]", "colour"),
        (lambda d: d["pages"][0]["fields"][0].update(visible_if={"field": "n", "bigger": 3}),
         "pages[0].fields[0].visible_if", "invalid condition"),
        (lambda d: d.update(format=2), "format", "1 was expected"),
    ],
)  # fmt: skip
def test_schema_errors_name_the_path(change, path, words):
    errors = errors_of(with_changes(change))
    assert any(where == path and words in message for where, message in errors), errors


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d["pages"][0]["fields"].append({"key": "nom", "type": "email", "label": "E"}),
         "pages[0].fields[3].key", "duplicate field key 'nom'"),
        (lambda d: d["pages"][0]["fields"][0].update(visible_if={"field": "inconnu", "equals": 1}),
         "pages[0].fields[0].visible_if.field", "unknown field 'inconnu'"),
        (lambda d: d["pages"][0]["fields"][0].update(visible_if={"field": "nom", "filled": True}),
         "pages[0].fields[0].visible_if", "itself"),
        (lambda d: d["pages"][0]["fields"][2].update(default="z"), "pages[0].fields[2].default", "one of the choices"),
        (lambda d: d["pages"][0]["fields"][2].pop("choices"), "pages[0].fields[2].choices", "needs choices"),
        (lambda d: d["pages"][0]["fields"][1].update(validation={"min": 5, "max": 1}),
         "pages[0].fields[1].validation", "min is greater than max"),
        (lambda d: d["pages"][0]["fields"][0].update(validation={"pattern": "("}),
         "pages[0].fields[0].validation.pattern", "regex"),
        (lambda d: d["pages"][0]["fields"][0].pop("label"), "pages[0].fields[0].label", "needs a label"),
        (lambda d: d["pages"][0]["fields"].append({"key": "g", "type": "group", "label": "G",
                                                    "fields": [{"key": "f", "type": "file", "label": "F"}]}),
         "pages[0].fields[3].fields[0].type", "cannot be inside a repeatable group"),
        (lambda d: d.update(rules={"amount": {"expression": "n * inconnu"}}),
         "rules.amount.expression", "inconnu"),
        (lambda d: d.update(rules={"eligibility": [{"key": "e", "condition": "__import__('os')", "message": "m"}]}),
         "rules.eligibility[0].condition", ""),
        (lambda d: d.update(rules={"computed": [{"key": "nom", "expression": "1"}]}),
         "rules.computed[0].key", "already a field"),
    ],
)  # fmt: skip
def test_semantic_errors_name_the_path(change, path, words):
    errors = errors_of(with_changes(change))
    assert any(where == path and words in message for where, message in errors), errors


def test_computed_values_can_be_used_by_later_rules():
    data = with_changes(
        lambda d: d.update(
            rules={
                "computed": [{"key": "double", "expression": "n * 2"}],
                "amount": {"expression": "double + 1"},
            }
        )
    )
    assert load(data).rules["amount"].names == {"double"}


def test_schema_file_is_valid_json_schema():
    from forms_app.formdefs.definition import SCHEMA_PATH, _schema_validator

    assert json.loads(SCHEMA_PATH.read_text())["title"].startswith("Guichet form definition")
    assert _schema_validator() is not None
