"""The search text: folded, bounded, built from reference, e-mail, names and RIDET."""

from forms_app import search
from forms_app.formdefs import definition as definitions
from tests.inbox_support import FIELDS
from tests.support import latest_submission, publish_form, submit_answers


def load(fields=FIELDS):
    return definitions.load(
        {"format": 1, "slug": "s", "title": "T",
         "pages": [{"key": "p", "title": "P", "fields": fields}]}
    )  # fmt: skip


def test_fold_lowers_and_strips_accents_and_spaces():
    assert search.fold("  Léa  ÉLOÏSE\tKasarhérou ") == "lea eloise kasarherou"
    assert search.terms("Léa   AIDE-2026-000012") == ["lea", "aide-2026-000012"]
    assert search.terms("   ") == []


def test_search_text_holds_reference_email_names_ridet_and_rid():
    answers = {"raison_sociale": "Boulangerie Wamytan", "ridet": "1234567001",
               "email": "Contact@Exemple.nc", "ca": 123456, "secteur": "btp",
               "membres": [{"nom": "Kasarhérou", "age": 40}]}  # fmt: skip
    text = search.search_text(load(), answers, "AIDE-2026-000012", "lea@example.nc")
    for part in ("aide-2026-000012", "lea@example.nc", "boulangerie wamytan", "1234567001",
                 "1234567.001", "1234567", "contact@exemple.nc", "kasarherou"):  # fmt: skip
        assert part in text
    assert "123456" not in text.replace("1234567", "")  # amounts and choices are not searched
    assert "btp" not in text


def test_search_text_is_bounded():
    fields = [{"key": f"t{i}", "type": "text", "label": "x"} for i in range(40)]
    answers = {f"t{i}": "x" * 1000 for i in range(40)}
    text = search.search_text(load(fields), answers, "REF", None)
    assert len(text) == search.TEXT_MAX
    assert "x" * (search.VALUE_MAX + 1) not in text


def test_applicant_name_prefers_the_company_then_the_person():
    company = load()
    assert search.applicant_name(company, {"raison_sociale": "SARL Nouméa"}) == "SARL Nouméa"
    person = load(
        [{"key": "nom_naissance", "type": "text", "label": "Nom"},
         {"key": "nom_usage", "type": "text", "label": "Nom d’usage"},
         {"key": "prenoms", "type": "text", "label": "Prénoms"}]
    )  # fmt: skip
    answers = {"nom_naissance": "WAMYTAN", "prenoms": "Léa Marie"}
    assert search.applicant_name(person, answers) == "WAMYTAN Léa Marie"
    assert search.applicant_name(person, {}) == ""


def test_submitting_stores_the_search_text(app, client):
    slug = publish_form(
        app,
        [{"key": "nom", "type": "text", "label": "Nom", "required": True},
         {"key": "ridet", "type": "ridet", "label": "RIDET", "required": True},
         {"key": "courriel", "type": "email", "label": "E-mail", "required": True}],
    )  # fmt: skip
    response = submit_answers(
        client, slug, {"nom": "Léa WAMYTAN", "ridet": "1234567.001", "courriel": "Lea@Example.nc"}
    )
    assert response.status_code == 302
    submission = latest_submission(app)
    text = submission.search_text
    assert submission.reference.lower() in text
    assert "lea wamytan" in text and "lea@example.nc" in text and "1234567.001" in text
