"""Builder editing: new forms, settings, pages, fields, conditions and rules in the draft."""

import json

from tests.test_builder import (
    BASE,
    add_field,
    create_form,
    edit_field,
    login_designer,
    stored_form,
)


def test_new_form_needs_a_valid_unique_slug(app, client, auth):
    login_designer(app, auth)
    response = client.post(f"{BASE}/nouveau", data={"slug": "Aide Étudiants", "title": ""})
    assert response.status_code == 400
    assert "<title>Erreur :" in response.text
    assert 'href="#slug"' in response.text
    assert "Saisissez le titre." in response.text
    create_form(client, "aide")
    response = client.post(f"{BASE}/nouveau", data={"slug": "aide", "title": "Encore"})
    assert response.status_code == 400
    assert "existe déjà" in response.text
    assert stored_form(app, "aide").title == "Aide aux études"


def test_settings_are_saved_into_the_draft(app, client, auth):
    login_designer(app, auth)
    create_form(client)
    response = client.post(
        f"{BASE}/aide/parametres",
        data={
            "title": "Aide aux études 2026",
            "description": "Pour les étudiants de la province.",
            "reference_prefix": "ETU",
            "budget_envelope": "15 000 000",
            "imputation": "65-657-2",
            "signer_title": "Le président",
            "approval_threshold": "300000",
            "legal_references": "Délibération n° 1\n\nArrêté n° 2\n",
            "contact": "bourses@province.nc",
        },
    )
    assert response.status_code == 302
    draft = stored_form(app, "aide").draft
    assert draft["title"] == "Aide aux études 2026"
    assert draft["description"] == "Pour les étudiants de la province."
    assert draft["settings"] == {
        "reference_prefix": "ETU",
        "budget_envelope": 15000000,
        "imputation": "65-657-2",
        "signer_title": "Le président",
        "approval_threshold": 300000,
        "legal_references": ["Délibération n° 1", "Arrêté n° 2"],
        "contact": "bourses@province.nc",
    }
    page = client.get(f"{BASE}/aide/parametres")
    assert "15 000 000" in page.text
    assert "Délibération n° 1\nArrêté n° 2" in page.text


def test_invalid_settings_are_refused(app, client, auth):
    login_designer(app, auth)
    create_form(client)
    response = client.post(
        f"{BASE}/aide/parametres",
        data={"title": "Aide", "reference_prefix": "etu", "budget_envelope": "12,50"},
    )
    assert response.status_code == 400
    assert "De 2 à 8 lettres majuscules" in response.text
    assert "pas de centimes" in response.text
    assert "settings" not in stored_form(app, "aide").draft


def test_pages_are_added_renamed_moved_and_deleted(app, client, auth):
    login_designer(app, auth)
    create_form(client)
    assert client.post(f"{BASE}/aide/pages", data={"title": "Votre foyer"}).status_code == 302
    response = client.post(f"{BASE}/aide/pages", data={"title": "Pièces", "key": "pieces"})
    assert response.status_code == 302
    assert [p["key"] for p in stored_form(app, "aide").draft["pages"]] == [
        "page_1", "page_2", "pieces",
    ]  # fmt: skip
    response = client.post(f"{BASE}/aide/pages", data={"title": ""})
    assert response.status_code == 400
    assert "<title>Erreur :" in response.text
    assert '<a href="#title">Saisissez le titre de la page.</a>' in response.text
    response = client.post(f"{BASE}/aide/pages", data={"title": "Doublon", "key": "pieces"})
    assert response.status_code == 400
    assert "existe déjà" in response.text

    response = client.post(
        f"{BASE}/aide/pages/page_2",
        data={"title": "Votre famille", "description": "Qui vit avec vous ?"},
    )
    assert response.status_code == 302
    assert (
        client.post(f"{BASE}/aide/pages/pieces/deplacer", data={"sens": "haut"}).status_code == 302
    )
    pages = stored_form(app, "aide").draft["pages"]
    assert [(p["key"], p["title"]) for p in pages] == [
        ("page_1", "Votre demande"), ("pieces", "Pièces"), ("page_2", "Votre famille"),
    ]  # fmt: skip
    assert pages[2]["description"] == "Qui vit avec vous ?"
    response = client.post(f"{BASE}/aide/pages/page_1/deplacer", data={"sens": "haut"})
    assert response.status_code == 400

    # A page holding fields asks for confirmation first.
    add_field(client, "aide", "text", "membre", "Nom du membre", page="page_2")
    response = client.post(f"{BASE}/aide/pages/page_2/supprimer")
    assert response.status_code == 200
    assert "Nom du membre" in response.text
    assert len(stored_form(app, "aide").draft["pages"]) == 3
    response = client.post(f"{BASE}/aide/pages/page_2/supprimer", data={"confirmer": "oui"})
    assert response.status_code == 302
    assert client.post(f"{BASE}/aide/pages/pieces/supprimer").status_code == 302
    assert [p["key"] for p in stored_form(app, "aide").draft["pages"]] == ["page_1"]
    response = client.post(f"{BASE}/aide/pages/page_1/supprimer", data={"confirmer": "oui"})
    assert response.status_code == 400
    assert "au moins une page" in response.text


def test_page_condition_errors_show_their_path(app, client, auth):
    login_designer(app, auth)
    create_form(client)
    client.post(f"{BASE}/aide/pages", data={"title": "Suite"})
    condition = json.dumps({"field": "inconnu", "equals": "x"})
    response = client.post(
        f"{BASE}/aide/pages/page_2", data={"title": "Suite", "condition_json": condition}
    )
    assert response.status_code == 400
    assert "La définition contient des erreurs" in response.text
    assert "pages[1].visible_if.field" in response.text
    assert "visible_if" not in stored_form(app, "aide").draft["pages"][1]


def test_fields_are_listed_moved_and_deleted(app, client, auth):
    login_designer(app, auth)
    create_form(client)
    add_field(client, "aide", "text", "nom", "Nom")
    add_field(client, "aide", "integer", "age", "Âge")
    add_field(client, "aide", "paragraph", "info", "Lisez attentivement.")
    response = client.post(
        f"{BASE}/aide/nouveau-champ",
        data={"type": "text", "key": "nom", "label": "Encore", "page": "page_1"},
    )
    assert response.status_code == 400
    assert "existe déjà" in response.text
    response = client.post(
        f"{BASE}/aide/nouveau-champ",
        data={"type": "text", "key": "Nom-2", "label": "X", "page": "page_1"},
    )
    assert response.status_code == 400
    assert "lettre minuscule" in response.text

    page = client.get(f"{BASE}/aide/")
    assert "Nombre entier" in page.text and "Paragraphe d’information" in page.text
    assert (
        client.post(f"{BASE}/aide/champs/info/deplacer", data={"sens": "haut"}).status_code == 302
    )
    assert client.post(f"{BASE}/aide/champs/nom/deplacer", data={"sens": "bas"}).status_code == 302
    keys = [f["key"] for f in stored_form(app, "aide").draft["pages"][0]["fields"]]
    assert keys == ["info", "nom", "age"]
    assert (
        client.post(f"{BASE}/aide/champs/info/deplacer", data={"sens": "haut"}).status_code == 400
    )
    assert client.post(f"{BASE}/aide/champs/info/supprimer").status_code == 302
    keys = [f["key"] for f in stored_form(app, "aide").draft["pages"][0]["fields"]]
    assert keys == ["nom", "age"]


def test_field_options_by_type(app, client, auth):
    login_designer(app, auth)
    create_form(client)
    client.post(f"{BASE}/aide/pages", data={"title": "Foyer", "key": "foyer"})
    add_field(client, "aide", "multichoice", "aides", "Aides déjà reçues")
    edit_field(
        client, "aide", "aides", label="Aides reçues", hint="Cochez tout ce qui s’applique.",
        choices="bourse|Bourse\nlogement|Aide au logement\n", default="bourse",
        min_value="1", max_value="2", page="foyer",
    )  # fmt: skip
    add_field(client, "aide", "group", "enfants", "Enfants")
    group = [{"key": "prenom", "type": "text", "label": "Prénom", "required": True}]
    edit_field(
        client, "aide", "enfants", label="Enfants", item_label="enfant", min_items="0",
        max_items="6", group_fields=json.dumps(group),
        condition_json=json.dumps({"any": [{"field": "aides", "contains": "bourse"}]}),
    )  # fmt: skip
    draft = stored_form(app, "aide").draft
    assert draft["pages"][0]["fields"][0]["key"] == "enfants"
    aides = draft["pages"][1]["fields"][0]
    assert aides == {
        "key": "aides", "type": "multichoice", "label": "Aides reçues",
        "hint": "Cochez tout ce qui s’applique.",
        "choices": [{"value": "bourse", "label": "Bourse"},
                    {"value": "logement", "label": "Aide au logement"}],
        "default": ["bourse"], "validation": {"min": 1, "max": 2},
    }  # fmt: skip
    enfants = draft["pages"][0]["fields"][0]
    assert enfants["fields"] == group
    assert (enfants["item_label"], enfants["min_items"], enfants["max_items"]) == ("enfant", 0, 6)
    assert enfants["visible_if"] == {"any": [{"field": "aides", "contains": "bourse"}]}
    # The edit page shows a complex condition in the JSON box, a simple one in the selects.
    page = client.get(f"{BASE}/aide/champs/enfants")
    assert "&#34;any&#34;" in page.text or "&quot;any&quot;" in page.text
    assert '<details class="details" open>' in page.text


def test_field_input_errors_link_to_the_field(app, client, auth):
    login_designer(app, auth)
    create_form(client)
    add_field(client, "aide", "choice", "statut", "Statut")
    add_field(client, "aide", "integer", "age", "Âge")
    response = edit_field(
        client, "aide", "statut", expect=400, label="Statut", choices="a|A\n|sans valeur",
        condition_field="age", condition_operator="gt", condition_value="vingt",
    )  # fmt: skip
    assert 'href="#choices"' in response.text and "Ligne 2" in response.text
    assert 'href="#condition_value"' in response.text and "Saisissez un nombre" in response.text
    response = edit_field(
        client, "aide", "age", expect=400, label="Âge", min_value="30", max_value="10"
    )
    assert "La définition contient des erreurs" in response.text
    assert "pages[0].fields[1].validation" in response.text
    response = edit_field(client, "aide", "age", expect=400, label="Âge", condition_json="{oups")
    assert 'href="#condition_json"' in response.text and "JSON invalide" in response.text
    assert stored_form(app, "aide").draft["pages"][0]["fields"][1] == {
        "key": "age", "type": "integer", "label": "Âge",
    }  # fmt: skip


def test_a_field_read_by_a_condition_cannot_be_deleted(app, client, auth):
    login_designer(app, auth)
    create_form(client)
    add_field(client, "aide", "yesno", "boursier", "Êtes-vous boursier ?")
    add_field(client, "aide", "text", "numero", "Numéro de bourse")
    edit_field(
        client, "aide", "numero", label="Numéro de bourse", condition_field="boursier",
        condition_operator="equals", condition_value="oui",
    )  # fmt: skip
    page = client.get(f"{BASE}/aide/champs/numero")
    assert '<option selected value="boursier">' in page.text
    response = client.post(f"{BASE}/aide/champs/boursier/supprimer")
    assert response.status_code == 400
    assert "pages[0].fields[0].visible_if.field" in response.text
    assert len(stored_form(app, "aide").draft["pages"][0]["fields"]) == 2


def test_rules_are_validated_with_their_paths(app, client, auth):
    login_designer(app, auth)
    create_form(client)
    add_field(client, "aide", "amount", "loyer", "Loyer mensuel")
    rules = {"amount": {"expression": "loyer * 12 + inconnu", "cap": 500000}}
    response = client.post(f"{BASE}/aide/regles", data={"rules": json.dumps(rules)})
    assert response.status_code == 400
    assert "rules.amount.expression" in response.text
    response = client.post(f"{BASE}/aide/regles", data={"rules": "[1, 2"})
    assert response.status_code == 400
    assert "JSON invalide" in response.text
    assert "rules" not in stored_form(app, "aide").draft
    rules = {
        "amount": {"expression": "min(loyer * 12, 400000)", "cap": 500000},
        "eligibility": [{"key": "loyer_positif", "condition": "loyer > 0", "message": "Non."}],
    }
    assert client.post(f"{BASE}/aide/regles", data={"rules": json.dumps(rules)}).status_code == 302
    assert stored_form(app, "aide").draft["rules"] == rules
    assert "loyer_positif" in client.get(f"{BASE}/aide/regles").text
