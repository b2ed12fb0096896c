"""Hostile definitions through the builder: a French 400 page with the reasons, never a 500.

The documents that crashed `definitions.load` or `json.loads` (see
tests/formdefs/test_hostile_definitions.py) are posted to the import page, as a pasted text
and as an uploaded file, and to the JSON editors of rules and page conditions. Nothing is
stored. A definition whose texts hold markup and template syntax imports, publishes, and
its pages show those texts escaped, never evaluated.
"""

import io
import json

import pytest
from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import Form
from tests.formdefs.test_hostile_definitions import BASE as FULL_DEFINITION
from tests.formdefs.test_hostile_definitions import HOSTILE_DOCUMENTS
from tests.test_builder import BASE, create_form, login_designer, stored_form

REFUSED = ("La définition contient des erreurs", "JSON invalide")


def no_forms(app) -> bool:
    with app.app_context():
        return get_session().scalars(select(Form)).all() == []


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCUMENTS))
def test_hostile_documents_are_refused_with_a_400(app, client, auth, name):
    login_designer(app, auth)
    document = HOSTILE_DOCUMENTS[name]
    pasted = client.post(f"{BASE}/importer", data={"text": document, "publish": "y"})
    uploaded = client.post(
        f"{BASE}/importer",
        data={"file": (io.BytesIO(document.encode("utf-8", "surrogatepass")), "def.json")},
        content_type="multipart/form-data",
    )
    for response in (pasted, uploaded):
        assert response.status_code == 400, name
        assert any(reason in response.text for reason in REFUSED), name
    assert no_forms(app)


def test_a_file_that_is_not_text_is_refused(app, client, auth):
    login_designer(app, auth)
    for content in (b"\xff\xfe\x00{\x00", b"%PDF-1.7\n\x00\x01", b"\xef\xbb\xbf" + b"[" * 5000):
        response = client.post(
            f"{BASE}/importer",
            data={"file": (io.BytesIO(content), "def.json")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400
        assert any(reason in response.text for reason in REFUSED)
    assert no_forms(app)


@pytest.mark.parametrize(
    "rules",
    [
        "[" * 50_000,
        '{"amount": {"expression": "' + "9" * 5_000 + '"}}',
        '{"amount": {"expression": "x"}, "n": ' + "9" * 5_000 + "}",
        json.dumps({"amount": {"expression": "().__class__.__bases__[0]"}}),
        json.dumps({"amount": {"expression": "9 ** 9 ** 9"}}),
        json.dumps({"amount": {"expression": "1e999"}}),
        json.dumps({"computed": [{"key": "k", "expression": "(" * 5000 + "1" + ")" * 5000}]}),
        '{"amount": {"expression": "1", "cap": NaN}}',
    ],
    ids=["deep", "long literal", "long integer", "attribute", "power", "infinity", "nested",
         "NaN"],
)  # fmt: skip
def test_hostile_rules_are_refused_with_a_400(app, client, auth, rules):
    login_designer(app, auth)
    create_form(client)
    response = client.post(f"{BASE}/aide/regles", data={"rules": rules})
    assert response.status_code == 400
    assert any(reason in response.text for reason in REFUSED)
    assert "rules" not in stored_form(app, "aide").draft


@pytest.mark.parametrize(
    "condition", ["[" * 50_000, '{"not": ' * 200 + '{"field": "a", "filled": true}' + "}" * 200]
)
def test_hostile_page_conditions_are_refused_with_a_400(app, client, auth, condition):
    login_designer(app, auth)
    create_form(client)
    client.post(f"{BASE}/aide/pages", data={"title": "Suite"})
    response = client.post(
        f"{BASE}/aide/pages/page_2", data={"title": "Suite", "condition_json": condition}
    )
    assert response.status_code == 400
    assert "visible_if" not in stored_form(app, "aide").draft["pages"][1]


def test_markup_in_a_definition_is_shown_escaped(app, client, auth):
    """Titles, labels, hints and choices are text: escaped on the public pages, not run."""
    login_designer(app, auth)
    document = json.loads(json.dumps(FULL_DEFINITION))
    document["title"] = "<script>alert('titre')</script> {{ 7*7 }}"
    fields = document["pages"][0]["fields"]
    fields[1]["label"] = '<img src=x onerror="alert(1)"> {% print 7*7 %}'
    fields[1]["hint"] = "url(file:///etc/passwd) \u202eevil"
    fields[8]["choices"][0]["label"] = "<b>gras</b> {{ config }}"
    response = client.post(f"{BASE}/importer", data={"text": json.dumps(document), "publish": "y"})
    assert response.status_code == 302
    start = client.post(f"/demarches/{document['slug']}/", follow_redirects=True)
    assert start.status_code == 200
    page = start.text
    assert "&lt;script&gt;alert(&#39;titre&#39;)&lt;/script&gt; {{ 7*7 }}" in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; {% print 7*7 %}" in page
    assert "&lt;b&gt;gras&lt;/b&gt; {{ config }}" in page
    assert "\u202eevil" in page
    for raw in ("<script>alert", "<img src=x", "<b>gras", "SECRET_KEY", "test-secret-key"):
        assert raw not in page
