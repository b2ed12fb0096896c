"""The two demo forms of the 2020 crisis: they load, and their rules give the expected results."""

import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from forms_app.formdefs import expression_functions
from forms_app.formdefs.conditions import referenced_fields
from forms_app.formdefs.definition import FormDefinition, load
from forms_app.formdefs.rules import RuleResults, evaluate
from tests.support import latest_submission

DEMO_DIR = Path(__file__).resolve().parents[2] / "forms_app" / "demo_forms"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def load_demo(name: str) -> FormDefinition:
    return load((DEMO_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def mid_april_2020(monkeypatch):
    """Rules read today(): answer as the services would have on 15 April 2020 in Nouméa."""
    moment = datetime(2020, 4, 15, 10, 0, tzinfo=expression_functions.TIMEZONE)
    monkeypatch.setattr(expression_functions, "_now", lambda: moment)


@pytest.fixture(scope="module")
def rapatriement() -> FormDefinition:
    return load_demo("rapatriement.json")


@pytest.fixture(scope="module")
def entreprises() -> FormDefinition:
    return load_demo("aide-entreprises.json")


def run(definition: FormDefinition, answers: dict) -> RuleResults:
    results = evaluate(definition, answers)
    assert results.errors == []
    return results


def ineligible_keys(results: RuleResults) -> list[str]:
    return [item["key"] for item in results.ineligible]


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


# --- Repatriation -------------------------------------------------------------------------

ALONE = {
    "civilite": "madame",
    "nom_naissance": "Martin",
    "prenoms": "Léa Marie",
    "date_naissance": "1994-06-12",
    "lieu_naissance": "Nouméa (Nouvelle-Calédonie)",
    "nationalite": "Française",
    "numero_cafat": "123456",
    "numero_passeport": "19AB12345",
    "passeport_expiration": "2027-05-01",
    "adresse_residence": {
        "street": "12 rue de Sébastopol",
        "postal_code": "98800",
        "city": "Nouméa",
    },
    "province_residence": "sud",
    "commune_residence": "noumea",
    "residence_depuis": "1994-06-12",
    "pays_sejour": "AU",
    "ville_sejour": "Sydney",
    "type_hebergement": "hotel_payant",
    "hebergement_gratuit": False,
    "motif_sejour": "vacances",
    "date_depart_nc": "2020-03-07",
    "billet_retour": True,
    "compagnie": "aircalin",
    "reference_reservation": "K7XQ2B",
    "date_retour_prevue": "2020-03-22",
    "date_emission_billet": "2020-01-15",
    "vol_annule": True,
    "probleme_sante": False,
    "traitement_en_cours": False,
    "grossesse": False,
    "mobilite_reduite": False,
    "symptomes_covid": False,
    "personnel_medical": False,
    "metier_essentiel": False,
    "difficultes_financieres": "moderees",
    "demande_aide": False,
    "accompagne": False,
    "telephone_etranger": "+61412345678",
    "email": "lea.martin@exemple.nc",
    "attestation_honneur": True,
    "consentement_partage": True,
}
CONJOINT = {"nom": "Martin", "prenom": "Hugo", "naissance": "1991-02-03", "lien": "conjoint"}
BEBE = {"nom": "Martin", "prenom": "Jade", "naissance": "2018-09-02", "lien": "enfant"}
GRAND = {"nom": "Martin", "prenom": "Tom", "naissance": "2016-11-20", "lien": "enfant"}


def with_members(*members, **changes) -> dict:
    return {**ALONE, "accompagne": True, "membres": list(members), **changes}


@pytest.mark.parametrize(
    ("answers", "priority"),
    [
        ({**ALONE, "probleme_sante": True, "probleme_sante_details": "Diabète insulinodépendant"}, 1),
        ({**ALONE, "grossesse": True}, 1),
        ({**ALONE, "probleme_sante": True, "difficultes_financieres": "graves"}, 1),
        ({**ALONE, "personnel_medical": True}, 2),
        ({**ALONE, "metier_essentiel": True, "difficultes_financieres": "graves"}, 2),
        ({**ALONE, "difficultes_financieres": "graves"}, 3),
        (with_members(CONJOINT, BEBE), 4),
        (with_members(CONJOINT, GRAND), 5),
        (ALONE, 5),
    ],
)  # fmt: skip
def test_repatriation_priority(rapatriement, answers, priority):
    assert run(rapatriement, answers).priority == priority


@pytest.mark.parametrize(
    ("answers", "persons", "amount"),
    [
        ({**ALONE, "demande_aide": True}, 1, 50_000),
        (with_members(CONJOINT, demande_aide=True), 2, 75_000),
        (with_members(CONJOINT, BEBE, demande_aide=True), 3, 90_000),
        (with_members(CONJOINT, BEBE, GRAND, demande_aide=True), 4, 100_000),
        (with_members(CONJOINT, BEBE, GRAND, GRAND, GRAND, demande_aide=True), 6, 100_000),
        (ALONE, 1, None),
        (with_members(CONJOINT), 2, None),
    ],
)
def test_repatriation_flat_aid_by_household_size(rapatriement, answers, persons, amount):
    results = run(rapatriement, answers)
    assert results.eligible
    assert results.computed["personnes"] == persons
    assert results.amount == amount


def test_provincial_aid_is_for_province_sud_residents_only(rapatriement):
    nord = {**ALONE, "province_residence": "nord", "commune_hors_sud": "Koné"}
    asking = run(rapatriement, {**nord, "demande_aide": True})
    assert ineligible_keys(asking) == ["aide_reservee_residents_sud"]
    assert (
        "réservée aux personnes qui résident dans une commune de la province Sud"
        in (asking.ineligible[0]["message"])
    )
    assert asking.amount is None
    not_asking = run(rapatriement, nord)
    assert not_asking.eligible
    assert not_asking.amount is None


def test_the_sworn_statement_is_required(rapatriement):
    results = run(rapatriement, {**ALONE, "attestation_honneur": None})
    assert ineligible_keys(results) == ["attestation_sur_l_honneur"]


def test_residence_under_six_months_is_a_flag_not_a_blocker(rapatriement):
    recent = run(rapatriement, {**ALONE, "demande_aide": True, "residence_depuis": "2019-12-01"})
    assert recent.computed["residence_jours"] == 110
    assert recent.computed["residence_plus_6_mois"] is False
    assert recent.eligible
    assert recent.amount == 50_000
    assert run(rapatriement, ALONE).computed["residence_plus_6_mois"] is True


@pytest.mark.parametrize(
    ("changes", "days"),
    [
        ({}, 15),  # flight planned on 22 March: counted from 31 March
        ({"date_retour_prevue": "2020-04-10"}, 5),  # planned return later than 31 March
        ({"date_retour_prevue": "2020-05-02"}, 0),  # not yet stranded
        ({"billet_retour": False, "date_retour_prevue": None}, 15),
    ],
)
def test_days_stranded(rapatriement, changes, days):
    assert run(rapatriement, {**ALONE, **changes}).computed["jours_bloques"] == days


def test_young_child_is_under_three(rapatriement):
    assert run(rapatriement, with_members(CONJOINT, BEBE)).computed["enfant_bas_age"] is True
    assert run(rapatriement, with_members(CONJOINT, GRAND)).computed["enfant_bas_age"] is False
    assert run(rapatriement, ALONE).computed["enfant_bas_age"] is False


@pytest.mark.parametrize(
    ("pnr", "valid"), [("K7XQ2B", True), ("ABC123", True), ("k7xq2b", False), ("K7XQ2", False)]
)
def test_booking_reference_pattern(rapatriement, pnr, valid):
    rules = rapatriement.field("reference_reservation").validation
    assert bool(re.fullmatch(rules["pattern"], pnr)) is valid
    assert rules["pattern_message"].startswith("La référence de réservation comporte 6 caractères")


# --- Business aid -------------------------------------------------------------------------

LAGON_BLEU = {
    "raison_sociale": "SARL LAGON BLEU TOURS",
    "ridet": "1234567001",
    "forme_juridique": "sarl",
    "code_ape": "79.11Z",
    "date_creation": "2014-05-02",
    "adresse_siege": {"street": "12 rue de Sébastopol", "postal_code": "98800", "city": "Nouméa"},
    "commune_siege": "noumea",
    "siege_activite_sud": True,
    "civilite": "monsieur",
    "dirigeant_nom": "Dupuis",
    "dirigeant_prenom": "Paul",
    "dirigeant_qualite": "gerant",
    "telephone": "+687751234",
    "email": "contact@lagonbleu.nc",
    "secteur": "agence_voyages",
    "effectif": 1,
    "fermeture_administrative": False,
    "ca_ref": 2_400_000,
    "ca_crise": 600_000,
    "ca_dernier_exercice": 27_500_000,
    "types_aide": ["tresorerie"],
    "montant_tresorerie": 1_000_000,
    "fonds_solidarite": True,
    "fonds_solidarite_montant": 178_950,
    "chomage_partiel": False,
    "pge": False,
    "prime_exceptionnelle": True,
    "prime_exceptionnelle_montant": 100_000,
    "titulaire_compte": "SARL LAGON BLEU TOURS",
    "iban": "FR7699999000010001234567809",
    "bic": "BCADNCNN",
    "decl_exactitude": True,
    "decl_obligations": True,
    "decl_procedure_collective": True,
    "decl_controles": True,
    "decl_donnees": True,
}
# A retailer outside the priority sectors, for the priority and eligibility cases.
BOUTIQUE = {**LAGON_BLEU, "raison_sociale": "EI BOUTIQUE DU PORT", "secteur": "commerce_detail",
            "forme_juridique": "ei", "effectif": 0, "montant_tresorerie": 300_000}  # fmt: skip


def test_business_eligible_case(entreprises):
    results = run(entreprises, LAGON_BLEU)
    assert results.eligible, results.ineligible
    assert results.computed["perte_pct"] == 75.0
    assert results.computed["perte_ca"] == 1_800_000
    assert results.computed["secteur_prioritaire"] is True
    assert results.computed["tranche_effectif"] == "1 salarié (forfait)"
    assert results.computed["total_autres_aides"] == 278_950
    assert results.amount == 300_000
    assert results.priority == 1


@pytest.mark.parametrize(
    ("ca_ref", "ca_crise", "loss"),
    [(2_400_000, 600_000, 75.0), (1_000_000, 1_000_000, 0.0), (300_000, 0, 100.0),
     (900_000, 600_001, 33.33), (0, 0, None)],
)  # fmt: skip
def test_turnover_loss_is_computed(entreprises, ca_ref, ca_crise, loss):
    results = run(entreprises, {**LAGON_BLEU, "ca_ref": ca_ref, "ca_crise": ca_crise})
    assert results.computed["perte_pct"] == loss


def test_loss_under_fifty_percent_without_closure_is_ineligible(entreprises):
    small_loss = {**BOUTIQUE, "ca_ref": 2_400_000, "ca_crise": 1_500_000}
    results = run(entreprises, small_loss)
    assert results.computed["perte_pct"] == 37.5
    assert ineligible_keys(results) == ["perte_ou_fermeture"]
    assert "au moins 50\u00a0%" in results.ineligible[0]["message"]
    closed = run(entreprises, {**small_loss, "fermeture_administrative": True})
    assert closed.eligible
    assert closed.priority == 1


@pytest.mark.parametrize(
    ("created", "eligible"), [("2020-02-29", True), ("2020-03-01", False), ("2020-03-16", False)]
)
def test_business_created_after_the_cut_off_is_ineligible(entreprises, created, eligible):
    results = run(entreprises, {**LAGON_BLEU, "date_creation": created})
    assert ineligible_keys(results) == ([] if eligible else ["creation_avant_mars_2020"])


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"siege_activite_sud": False}, "siege_activite_province_sud"),
        ({"effectif": 11}, "effectif_dispositif"),
        ({"montant_tresorerie": 1_900_000}, "tresorerie_limitee_a_la_perte"),
        ({"effectif": 0, "types_aide": ["maintien_effectif"], "montant_maintien": 500_000},
         "maintien_reserve_employeurs"),
    ],
)  # fmt: skip
def test_business_ineligible_cases(entreprises, changes, rule):
    assert ineligible_keys(run(entreprises, {**LAGON_BLEU, **changes})) == [rule]


@pytest.mark.parametrize(
    ("effectif", "requested", "amount"),
    [
        (0, 1_000_000, 150_000),
        (1, 1_000_000, 300_000),
        (2, 1_000_000, 450_000),
        (2, 200_000, 200_000),  # the forfait never exceeds the amount requested
        (5, 1_200_000, 1_200_000),  # case by case above 2 employees
    ],
)
def test_cash_aid_forfait_by_headcount_band(entreprises, effectif, requested, amount):
    answers = {**LAGON_BLEU, "effectif": effectif, "montant_tresorerie": requested}
    results = run(entreprises, answers)
    assert results.eligible
    assert results.computed["aide_tresorerie"] == amount
    assert results.amount == amount


def test_headcount_band_label(entreprises):
    bands = {
        n: run(entreprises, {**LAGON_BLEU, "effectif": n}).computed["tranche_effectif"]
        for n in (0, 2, 3)
    }
    assert bands == {0: "0 salarié (forfait)", 2: "2 salariés (forfait)",
                     3: "plus de 2 salariés (cas par cas)"}  # fmt: skip


def test_both_aids_add_up_within_the_cap(entreprises):
    assert entreprises.raw["rules"]["amount"]["cap"] == 11_500_000
    both = {**LAGON_BLEU, "effectif": 8, "ca_ref": 5_000_000, "ca_crise": 0,
            "types_aide": ["tresorerie", "maintien_effectif"]}  # fmt: skip
    results = run(
        entreprises, {**both, "montant_tresorerie": 800_000, "montant_maintien": 2_000_000}
    )
    assert results.eligible
    assert results.amount == 2_800_000
    at_limits = run(
        entreprises, {**both, "montant_tresorerie": 1_500_000, "montant_maintien": 10_000_000}
    )
    assert at_limits.amount == 11_500_000
    # Amounts above the field limits (never accepted by the form) are still held to the cap.
    too_much = run(
        entreprises, {**both, "montant_tresorerie": 1_500_000, "montant_maintien": 14_000_000}
    )
    assert too_much.amount == 11_500_000


def test_maintenance_aid_alone(entreprises):
    answers = {**LAGON_BLEU, "effectif": 4, "types_aide": ["maintien_effectif"],
               "montant_tresorerie": None, "montant_maintien": 3_000_000}  # fmt: skip
    results = run(entreprises, answers)
    assert results.eligible
    assert (results.computed["aide_tresorerie"], results.amount) == (0, 3_000_000)


@pytest.mark.parametrize(
    ("changes", "priority"),
    [
        ({"fermeture_administrative": True}, 1),
        ({"secteur": "restauration"}, 1),
        ({"ca_crise": 300_000}, 2),  # 87.5 % loss
        ({"ca_crise": 480_000}, 2),  # exactly 80 %
        ({}, 3),  # 75 % loss
    ],
)
def test_business_priority(entreprises, changes, priority):
    assert run(entreprises, {**BOUTIQUE, **changes}).priority == priority


@pytest.mark.parametrize(
    ("code", "valid"), [("56.10A", True), ("5610A", True), ("56.10a", False), ("561A", False)]
)
def test_ape_code_pattern(entreprises, code, valid):
    pattern = entreprises.field("code_ape").validation["pattern"]
    assert bool(re.fullmatch(pattern, code)) is valid


# --- Through the public pages -------------------------------------------------------------


def post(client, slug: str, data: dict):
    return client.post(f"/demarches/{slug}/", data=data, content_type="multipart/form-data")


@pytest.fixture
def published(app):
    from forms_app.forms_cli import load_demo_forms

    with app.app_context():
        assert sorted(load_demo_forms()) == ["aide-entreprises-covid", "signalement-rapatriement"]


def test_repatriation_submitted_through_the_public_page(app, client, published):
    slug = "signalement-rapatriement"
    page = client.get(f"/demarches/{slug}/")
    assert page.status_code == 200
    assert "bloqué hors du territoire" in page.text
    data = {
        "civilite": "madame", "nom_naissance": "Martin", "prenoms": "Léa Marie",
        "date_naissance": "12/06/1994", "lieu_naissance": "Nouméa", "nationalite": "Française",
        "numero_passeport": "19AB12345", "passeport_expiration": "01/05/2027",
        "adresse_residence-street": "12 rue de Sébastopol",
        "adresse_residence-postal_code": "98800", "adresse_residence-city": "Nouméa",
        "province_residence": "sud", "commune_residence": "noumea", "residence_depuis": "12/06/1994",
        "pays_sejour": "NZ", "ville_sejour": "Auckland", "type_hebergement": "amis",
        "hebergement_gratuit": "oui", "motif_sejour": "visite_familiale", "date_depart_nc": "02/03/2020",
        "billet_retour": "oui", "compagnie": "aircalin", "reference_reservation": "K7XQ2B",
        "date_retour_prevue": "24/03/2020", "date_emission_billet": "10/01/2020", "vol_annule": "oui",
        "probleme_sante": "non", "traitement_en_cours": "non", "grossesse": "non",
        "mobilite_reduite": "non", "symptomes_covid": "non",
        "personnel_medical": "non", "metier_essentiel": "non",
        "difficultes_financieres": "graves", "demande_aide": "oui",
        "accompagne": "oui", "membres-0-nom": "Martin", "membres-0-prenom": "Hugo",
        "membres-0-naissance": "03/02/1991", "membres-0-lien": "conjoint",
        "telephone_etranger": "+64 21 123 4567", "email": "lea.martin@exemple.nc",
        "contact_nc_nom": "Anne Martin", "contact_nc_telephone": "75.12.34",
        "aide_titulaire": "Léa Martin", "aide_iban": "FR76 9999 9000 0100 0123 4567 809",
        "aide_rib": (io.BytesIO(PDF), "rib.pdf"),
        "attestation_honneur": "y", "consentement_partage": "y",
    }  # fmt: skip
    response = post(client, slug, data)
    assert response.status_code == 302, response.text
    submission = latest_submission(app)
    assert submission.reference.startswith("RAPA-")
    assert submission.answers["membres"][0]["prenom"] == "Hugo"
    assert submission.answers["contact_nc_telephone"] == "+687751234"
    assert (submission.computed_amount, submission.priority) == (75_000, 3)


BUSINESS_POST = {
    "raison_sociale": "SARL LAGON BLEU TOURS", "ridet": "1234567.001", "forme_juridique": "sarl",
    "code_ape": "79.11Z", "date_creation": "02/05/2014",
    "adresse_siege-street": "12 rue de Sébastopol", "adresse_siege-postal_code": "98800",
    "adresse_siege-city": "Nouméa", "commune_siege": "noumea", "siege_activite_sud": "oui",
    "civilite": "monsieur", "dirigeant_nom": "Dupuis", "dirigeant_prenom": "Paul",
    "dirigeant_qualite": "gerant", "telephone": "75.12.34", "email": "contact@lagonbleu.nc",
    "secteur": "agence_voyages", "effectif": "1", "fermeture_administrative": "non",
    "ca_ref": "2 400 000", "ca_crise": "600 000",
    "types_aide": ["tresorerie"], "montant_tresorerie": "1 000 000",
    "fonds_solidarite": "non", "chomage_partiel": "non", "pge": "non", "prime_exceptionnelle": "non",
    "titulaire_compte": "SARL LAGON BLEU TOURS", "iban": "FR76 9999 9000 0100 0123 4567 809",
    "bic": "BCADNCNN",
    "decl_exactitude": "y", "decl_obligations": "y", "decl_procedure_collective": "y",
    "decl_controles": "y", "decl_donnees": "y",
}  # fmt: skip


def business_post(**changes) -> dict:
    """The posted business form, with fresh uploads (a stream is read once)."""
    files = {
        "piece_avis_ridet": (io.BytesIO(PDF), "avis-ridet.pdf"),
        "piece_rib": (io.BytesIO(PDF), "rib.pdf"),
        "piece_identite": (io.BytesIO(PDF), "identite.pdf"),
        "piece_justificatifs_ca": [
            (io.BytesIO(PDF), "tgc-mars-2019.pdf"),
            (io.BytesIO(PDF), "tgc-mars-2020.pdf"),
        ],
        "piece_cafat": (io.BytesIO(PDF), "cafat.pdf"),
    }
    return {**BUSINESS_POST, **files, **changes}


def test_business_aid_submitted_through_the_public_page(app, client, published):
    slug = "aide-entreprises-covid"
    assert client.get(f"/demarches/{slug}/").status_code == 200
    response = post(client, slug, business_post())
    assert response.status_code == 302, response.text
    submission = latest_submission(app)
    assert submission.reference.startswith("AIDE-")
    assert submission.answers["ridet"] == "1234567001"
    assert len(submission.answers["piece_justificatifs_ca"]) == 2
    assert submission.rule_results["computed"]["perte_pct"] == 75.0
    assert (submission.computed_amount, submission.priority) == (300_000, 1)


def test_business_aid_refused_with_the_rule_message(app, client, published):
    response = post(client, "aide-entreprises-covid", business_post(ca_crise="1 500 000"))
    assert response.status_code == 422
    assert "au moins 50\u00a0% par rapport à mars 2019" in response.text
    assert latest_submission(app) is None
