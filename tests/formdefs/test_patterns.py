"""Designers' patterns: checked on import, and a pattern that backtracks without end cannot
hold a web worker: the answer is refused in French and the field named in the log."""

import logging
import threading

import pytest
from werkzeug.datastructures import MultiDict

from forms_app.formdefs import definition as definitions
from forms_app.formdefs import patterns, wtform
from forms_app.formdefs.definition import DefinitionError

# Exponential backtracking on "aaa…a!" with a backtracking engine.
CATASTROPHIC = r"(a|aa)+$"


def one_field_class(pattern: str, message: str | None = None):
    validation = {"pattern": pattern, **({"pattern_message": message} if message else {})}
    definition = definitions.load(
        {"format": 1, "slug": "motifs", "title": "Motifs", "pages": [{"key": "p", "title": "P",
         "fields": [{"key": "code", "type": "text", "label": "Code", "validation": validation}]}]}
    )  # fmt: skip
    return wtform.form_class(definition, f"pattern-{pattern}-{message}")


def validate(app, pattern: str, typed: str, message: str | None = None):
    with app.test_request_context(method="POST"):
        form = one_field_class(pattern, message)(formdata=MultiDict({"code": typed}))
        return form.validate(), [text for _, text in form.error_list()]


def test_a_pattern_accepts_and_refuses_as_written(form_app):
    postal = r"988[0-9]{2}"
    assert validate(form_app, postal, "98800") == (True, [])
    assert validate(form_app, postal, "98800x", "Code postal non valide.") == (
        False,
        ["Code postal non valide."],
    )


def test_a_catastrophic_pattern_is_cut_short_and_the_answer_refused(form_app, caplog):
    outcome = {}

    def run():
        outcome["result"] = validate(form_app, CATASTROPHIC, "a" * 64 + "!", "Format refusé.")

    with caplog.at_level(logging.WARNING, logger=patterns.log.name):
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(timeout=30)  # without a time limit, 2**64 steps: it would never return
    assert not thread.is_alive()
    assert outcome["result"] == (False, ["Format refusé."])
    assert "validation pattern of field 'code' ran out of time" in caplog.text
    assert "aaaa" not in caplog.text  # the answer itself is never logged
    assert validate(form_app, CATASTROPHIC, "a" * 64) == (True, [])


def test_a_pattern_that_does_not_compile_is_refused_on_import():
    raw = {"format": 1, "slug": "motifs", "title": "Motifs", "pages": [{"key": "p", "title": "P",
           "fields": [{"key": "code", "type": "text", "label": "Code",
                       "validation": {"pattern": "[0-9"}}]}]}  # fmt: skip
    with pytest.raises(DefinitionError) as caught:
        definitions.load(raw)
    [(where, message)] = caught.value.errors
    assert where == "pages[0].fields[0].validation.pattern"
    assert "regex" in message
