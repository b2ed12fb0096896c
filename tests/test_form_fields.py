"""Every field type through the public page: what is accepted, stored, and refused in French."""

import io

import pytest

from tests.support import first_page, latest_submission, publish_form, submit_answers

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def post(client, slug: str, data: dict):
    return submit_answers(client, slug, data)


CASES = [
    # (field definition, posted value, stored answer)
    ({"type": "text", "validation": {"max_length": 5}}, "  abcde ", "abcde"),
    ({"type": "textarea", "validation": {"max_length": 20}}, "Ligne 1\r\nLigne 2", "Ligne 1\r\nLigne 2"),
    ({"type": "email"}, "Marie.Dupont@Exemple.NC", "Marie.Dupont@exemple.nc"),
    ({"type": "phone", "region": "NC"}, "75.12.34", "+687751234"),
    ({"type": "phone", "region": "international"}, "+61 2 9374 4000", "+61293744000"),
    ({"type": "integer", "validation": {"min": 0, "max": 10}}, "10", 10),
    ({"type": "amount", "validation": {"max": 1500000}}, "1 500 000", 1500000),
    ({"type": "date", "validation": {"min_date": "2020-03-20"}}, "20/03/2020", "2020-03-20"),
    ({"type": "date"}, "2020-04-01", "2020-04-01"),
    ({"type": "choice", "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
     "b", "b"),
    ({"type": "choice", "widget": "select",
      "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]}, "a", "a"),
    ({"type": "yesno"}, "non", False),
    ({"type": "consent"}, "y", True),
    ({"type": "ridet"}, "1234567.001", "1234567001"),
    ({"type": "iban"}, "fr76 9999 9000 0100 0123 4567 809", "FR7699999000010001234567809"),
    ({"type": "iban"}, "NC49 9999 9000 0100 0123 4567 809", "FR7699999000010001234567809"),
    ({"type": "commune"}, "noumea", "noumea"),
    ({"type": "country"}, "VU", "VU"),
]  # fmt: skip

INVALID = [
    ({"type": "text", "validation": {"max_length": 5}}, "abcdef", "au plus 5 caractères"),
    ({"type": "text", "validation": {"min_length": 3}}, "ab", "au moins 3 caractères"),
    ({"type": "text", "validation": {"pattern": "[A-Z0-9]{6}", "pattern_message": "Le code PNR a 6 caractères."}},
     "abc", "Le code PNR a 6 caractères."),
    ({"type": "email"}, "marie@", "adresse e-mail valide"),
    ({"type": "phone", "region": "NC"}, "12 34 56", "numéro"),
    ({"type": "phone", "region": "international"}, "+99 123", "numéro"),
    ({"type": "integer", "validation": {"min": 0, "max": 10}}, "11", "au plus 10"),
    ({"type": "integer", "validation": {"min": 1}}, "0", "au moins 1"),
    ({"type": "integer"}, "3,5", "nombre entier"),
    ({"type": "amount"}, "150000,50", "centimes"),
    ({"type": "amount", "validation": {"max": 1500000}}, "1 500 001", "au plus 1\u202f500\u202f000 F CFP"),
    ({"type": "date", "validation": {"min_date": "2020-03-20"}}, "19/03/2020", "20/03/2020 ou après"),
    ({"type": "date"}, "31/02/2020", "date"),
    ({"type": "choice", "choices": [{"value": "a", "label": "A"}]}, "z", "réponses proposées"),
    ({"type": "ridet"}, "1234567.000", "RIDET"),
    ({"type": "ridet"}, "12345", "10 chiffres"),
    ({"type": "iban"}, "FR76 9999 9000 0100 0123 4567 808", "IBAN"),
    ({"type": "iban"}, "DE89 3704 0044 0532 0130 00", "IBAN"),
    ({"type": "commune"}, "koumac", "réponses proposées"),
    ({"type": "country"}, "XX", "réponses proposées"),
]  # fmt: skip


def _field(spec: dict, required: bool = True) -> dict:
    return {"key": "reponse", "label": "Votre réponse", "required": required, **spec}


@pytest.mark.parametrize(("spec", "posted", "stored"), CASES)
def test_valid_answer_is_normalised_and_stored(app, client, spec, posted, stored):
    slug = publish_form(app, [_field(spec)])
    response = post(client, slug, {"reponse": posted})
    assert response.status_code == 302, response.text
    assert latest_submission(app).answers == {"reponse": stored}


@pytest.mark.parametrize(("spec", "posted", "message"), INVALID)
def test_invalid_answer_is_refused_in_french(app, client, spec, posted, message):
    slug = publish_form(app, [_field(spec)])
    response = post(client, slug, {"reponse": posted})
    assert response.status_code == 400
    assert message in response.text
    assert 'href="#reponse"' in response.text  # the summary links to the field
    assert latest_submission(app) is None


@pytest.mark.parametrize("spec", [spec for spec, _, _ in CASES])
def test_required_field_left_empty(app, client, spec):
    slug = publish_form(app, [_field(spec)])
    response = post(client, slug, {})
    assert response.status_code == 400
    assert latest_submission(app) is None


@pytest.mark.parametrize("spec", [spec for spec, _, _ in CASES])
def test_optional_field_left_empty_stores_nothing(app, client, spec):
    slug = publish_form(app, [_field(spec, required=False)])
    assert post(client, slug, {}).status_code == 302
    assert latest_submission(app).answers == {}


def test_multichoice_with_limits(app, client):
    choices = [{"value": v, "label": v.upper()} for v in "abc"]
    slug = publish_form(
        app, [_field({"type": "multichoice", "choices": choices, "validation": {"max": 2}})]
    )
    response = submit_answers(client, slug, {"reponse": ["a", "b", "c"]})
    assert response.status_code == 400
    assert "au plus 2" in response.text
    assert submit_answers(client, slug, {"reponse": ["c", "a"]}).status_code == 302
    assert latest_submission(app).answers == {"reponse": ["a", "c"]}  # in the choices' order


def test_consent_must_be_ticked(app, client):
    slug = publish_form(app, [_field({"type": "consent"})])
    response = post(client, slug, {})
    assert "Vous devez cocher cette case" in response.text


def test_address_is_stored_as_one_answer(app, client):
    slug = publish_form(app, [_field({"type": "address"})])
    response = post(client, slug, {"reponse-street": "12 rue de Sébastopol", "reponse-postal_code": "98800", "reponse-city": "Nouméa"})  # fmt: skip
    assert response.status_code == 302, response.text
    assert latest_submission(app).answers["reponse"] == {
        "street": "12 rue de Sébastopol", "postal_code": "98800", "city": "Nouméa"
    }  # fmt: skip
    response = post(client, slug, {"reponse-street": "1 rue", "reponse-postal_code": "75001", "reponse-city": "Paris"})  # fmt: skip
    assert response.status_code == 400
    assert "commencer par 988" in response.text


def test_file_type_is_read_from_the_content(app, client):
    slug = publish_form(app, [_field({"type": "file", "accept": ["pdf"], "max_size_mb": 0.1})])
    disguised = post(client, slug, {"reponse": (io.BytesIO(PNG), "justificatif.pdf")})
    assert disguised.status_code == 400
    assert "doit être au format PDF" in disguised.text
    too_big = post(client, slug, {"reponse": (io.BytesIO(PDF + b"0" * 110_000), "gros.pdf")})
    assert "dépasse 0,1 Mo" in too_big.text
    response = post(client, slug, {"reponse": (io.BytesIO(PDF), "justificatif.pdf")})
    assert response.status_code == 302
    submission = latest_submission(app)
    assert submission.answers["reponse"][0]["name"] == "justificatif.pdf"
    with app.app_context():
        from forms_app import storage
        from forms_app.db import get_session
        from forms_app.models import Attachment

        attachment = get_session().query(Attachment).one()
        assert attachment.content_type == "application/pdf"
        assert storage.read(attachment.storage_key) == PDF


def test_file_count_limit(app, client):
    slug = publish_form(app, [_field({"type": "file", "max_files": 2})])
    files = [(io.BytesIO(PDF), f"f{i}.pdf") for i in range(3)]
    response = post(client, slug, {"reponse": files})
    assert "au plus 2 fichiers" in response.text


def test_repeatable_group_with_min_and_max(app, client):
    member = [
        {"key": "prenom", "type": "text", "label": "Prénom", "required": True},
        {"key": "naissance", "type": "date", "label": "Date de naissance", "required": True},
    ]
    slug = publish_form(
        app,
        [_field({"type": "group", "fields": member, "min_items": 1, "max_items": 2,
                 "item_label": "personne"})],
    )  # fmt: skip
    empty = post(client, slug, {})
    assert "Ajoutez au moins 1 personne" in empty.text
    added = post(client, slug, {"_add": "reponse", "reponse-0-prenom": "Léa"})
    assert added.status_code == 200
    assert 'name="reponse-1-prenom"' in added.text
    assert 'value="Léa"' in added.text  # typed answers are kept
    bad = post(client, slug, {"reponse-0-prenom": "Léa", "reponse-0-naissance": "32/01/2015"})
    assert bad.status_code == 400
    good = post(client, slug, {
        "reponse-0-prenom": "Léa", "reponse-0-naissance": "01/02/2015",
        "reponse-1-prenom": "", "reponse-1-naissance": "",
    })  # fmt: skip
    assert good.status_code == 302, good.text
    assert latest_submission(app).answers["reponse"] == [
        {"prenom": "Léa", "naissance": "2015-02-01"}
    ]


def test_headings_and_paragraphs_are_shown_not_stored(app, client):
    slug = publish_form(
        app,
        [
            {"key": "titre", "type": "heading", "text": "Votre entreprise"},
            {"key": "explication", "type": "paragraph", "text": "Munissez-vous de votre RIDET."},
            _field({"type": "text"}, required=False),
        ],
    )
    page = first_page(client, slug)
    assert "Votre entreprise" in page.text
    assert "Munissez-vous de votre RIDET." in page.text
    assert post(client, slug, {}).status_code == 302
    assert latest_submission(app).answers == {}


def test_nc_iban_is_converted_and_flagged_for_agents(app, client):
    slug = publish_form(app, [_field({"type": "iban"})])
    post(client, slug, {"reponse": "NC49 9999 9000 0100 0123 4567 809"})
    submission = latest_submission(app)
    assert submission.answers["reponse"] == "FR7699999000010001234567809"
    [note] = submission.rule_results["notes"]["reponse"]
    assert "NC" in note
    post(client, slug, {"reponse": "FR76 9999 9000 0100 0123 4567 809"})
    assert latest_submission(app).rule_results["notes"] == {}


def test_oversized_request_gets_a_french_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    slug = publish_form(app, [_field({"type": "file"})])
    response = post(client, slug, {"reponse": (io.BytesIO(PDF + b"0" * 60_000), "gros.pdf")})
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.text
    assert latest_submission(app) is None
