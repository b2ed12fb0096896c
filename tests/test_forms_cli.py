"""`flask forms list|import|export`."""

import json

from forms_app.formdefs.definition import canonical_json
from forms_app.forms_cli import DEMO_FORMS_DIR

DEMO_FILES = {
    "signalement-rapatriement": "rapatriement.json",
    "aide-entreprises-covid": "aide-entreprises.json",
}

DEFINITION = {
    "format": 1,
    "slug": "inscription",
    "title": "Inscription",
    "settings": {"reference_prefix": "INS", "budget_envelope": 1000000},
    "pages": [{"key": "p1", "title": "Vous", "fields": [
        {"key": "nom", "type": "text", "label": "Nom", "required": True},
        {"key": "age", "type": "integer", "label": "Âge", "validation": {"min": 0}},
    ]}],
    "rules": {"priority": {"expression": "1 if age != None and age > 70 else 2"}},
}  # fmt: skip


def write(tmp_path, data, name="form.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_import_list_export(runner, tmp_path):
    result = runner.invoke(args=["forms", "import", write(tmp_path, DEFINITION), "--publish"])
    assert result.exit_code == 0, result.output
    assert "published as version 1" in result.output
    listing = runner.invoke(args=["forms", "list"]).output.splitlines()
    assert listing == ["inscription\tpublished\tv1\tInscription"]
    exported = runner.invoke(args=["forms", "export", "inscription"]).output
    assert json.loads(exported) == DEFINITION


def test_import_again_updates_the_draft_only(runner, tmp_path):
    runner.invoke(args=["forms", "import", write(tmp_path, DEFINITION), "--publish"])
    changed = {**DEFINITION, "title": "Inscription 2026"}
    result = runner.invoke(args=["forms", "import", write(tmp_path, changed)])
    assert "draft saved" in result.output
    draft = json.loads(runner.invoke(args=["forms", "export", "inscription"]).output)
    live = json.loads(runner.invoke(args=["forms", "export", "inscription", "--published"]).output)
    assert draft["title"] == "Inscription 2026"
    assert live["title"] == "Inscription"


def test_export_then_import_under_another_slug_is_identical(runner, tmp_path):
    runner.invoke(args=["forms", "import", write(tmp_path, DEFINITION)])
    exported = json.loads(runner.invoke(args=["forms", "export", "inscription"]).output)
    exported["slug"] = "inscription-bis"
    runner.invoke(args=["forms", "import", write(tmp_path, exported, "bis.json")])
    again = json.loads(runner.invoke(args=["forms", "export", "inscription-bis"]).output)
    assert canonical_json({**again, "slug": "inscription"}) == canonical_json(DEFINITION)


def test_import_errors_name_the_path(runner, tmp_path):
    broken = {**DEFINITION, "pages": [{"key": "p1", "title": "Vous", "fields": [
        {"key": "nom", "type": "texte", "label": "Nom"}]}]}  # fmt: skip
    result = runner.invoke(args=["forms", "import", write(tmp_path, broken)])
    assert result.exit_code != 0
    assert "pages[0].fields[0].type" in result.output
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"format": 1,')
    result = runner.invoke(args=["forms", "import", str(bad_json)])
    assert result.exit_code != 0
    assert "invalid JSON" in result.output
    assert runner.invoke(args=["forms", "list"]).output == ""


def test_export_unknown_form(runner):
    result = runner.invoke(args=["forms", "export", "nulle-part"])
    assert result.exit_code != 0


def test_demo_form_round_trip_under_another_slug(runner, tmp_path):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    for slug in ("signalement-rapatriement", "aide-entreprises-covid"):
        exported = json.loads(runner.invoke(args=["forms", "export", slug]).output)
        exported["slug"] = f"{slug}-copie"
        path = write(tmp_path, exported, f"{slug}.json")
        assert runner.invoke(args=["forms", "import", path, "--publish"]).exit_code == 0
        copy = json.loads(runner.invoke(args=["forms", "export", f"{slug}-copie"]).output)
        assert canonical_json({**copy, "slug": slug}) == canonical_json({**exported, "slug": slug})
        original = json.loads((DEMO_FORMS_DIR / f"{DEMO_FILES[slug]}").read_text())
        assert canonical_json({**copy, "slug": slug}) == canonical_json(original)
