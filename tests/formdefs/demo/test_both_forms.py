"""Both demo forms: they load, and name only fields that exist."""

import json

import pytest

from forms_app.formdefs.conditions import referenced_fields
from tests.formdefs.demo.support import DEMO_DIR, load_demo, run

# --- Both forms ---------------------------------------------------------------------------


def test_the_demo_directory_holds_the_two_forms():
    slugs = {
        json.loads(path.read_text(encoding="utf-8"))["slug"] for path in DEMO_DIR.glob("*.json")
    }
    assert slugs == {"signalement-rapatriement", "aide-entreprises-covid"}


@pytest.mark.parametrize(
    ("name", "slug", "title", "prefix"),
    [
        ("rapatriement.json", "signalement-rapatriement",
         "Signalement – résident de la province Sud bloqué hors du territoire", "RAPA"),
        ("aide-entreprises.json", "aide-entreprises-covid",
         "Aide exceptionnelle aux entreprises – plan d'urgence COVID-19", "AIDE"),
    ],
)  # fmt: skip
def test_demo_forms_load(name, slug, title, prefix):
    definition = load_demo(name)
    assert (definition.slug, definition.title) == (slug, title)
    assert definition.settings["reference_prefix"] == prefix
    assert all(ref.startswith("Vu ") for ref in definition.settings["legal_references"])
    keys = [f.key for f in definition.fields()]
    assert len(keys) == len(set(keys))
    pages = [p.key for p in definition.pages]
    assert len(pages) == len(set(pages))


@pytest.mark.parametrize("name", ["rapatriement.json", "aide-entreprises.json"])
def test_conditions_and_rules_only_name_existing_fields(name):
    definition = load_demo(name)
    answers = {f.key for f in definition.answer_fields()}
    conditions = [p.visible_if for p in definition.pages] + [
        f.visible_if for f in definition.fields()
    ]
    assert set().union(*map(referenced_fields, conditions)) <= answers
    rules = definition.rules
    computed = set(rules["computed"])
    expressions = [
        *rules["computed"].values(),
        *(expression for _rule, expression in rules["eligibility"]),
        rules["amount"],
        rules["priority"],
    ]
    for expression in expressions:
        assert expression.names <= answers | computed, expression


@pytest.mark.parametrize("name", ["rapatriement.json", "aide-entreprises.json"])
def test_rules_tolerate_an_empty_answer_set(name):
    results = run(load_demo(name), {})
    assert not results.eligible  # the attestation (or the business's siège) is missing


def test_file_fields_follow_the_upload_limits(entreprises):
    files = [f for f in entreprises.fields() if f.type == "file"]
    assert {f.key for f in files} >= {"piece_avis_ridet", "piece_rib", "piece_identite",
                                      "piece_justificatifs_ca", "piece_cafat"}  # fmt: skip
    for fdef in files:
        assert fdef.get("accept") == ["pdf", "jpeg", "png"]
        assert fdef.get("max_size_mb") == 5
    assert entreprises.field("piece_justificatifs_ca").get("max_files") == 4
    assert entreprises.field("piece_cafat").visible_if == {"field": "effectif", "gt": 0}
